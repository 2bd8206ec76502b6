"""How a track's verdict was reached, in words an operator understands.

The station page, the station's unit page and central's unit page say it the
same way, from here: which rules judged the track (the station's own, QA's
model spec, or strict), the adjustment they used (offset, rotation of the
theory line, rows left out), why the theory line was not rotated when it was
not allowed to be, the strict figures (offset only, every point) beside the
verdict, and the reasons a track is not a plain Pass. The phrases for the
rotation and the rows left out are the chart legend's (shared/charts/track_words.py).

Everything here is pure: a TrackResult in, plain strings and small dicts out,
so both apps' templates (shared/templates/_adjustment.html) only lay them out.
"""

from __future__ import annotations

from typing import Any

from shared.charts.numbers import format_number, plain_number, signed
from shared.charts.track_words import angle_change, angle_unit, left_out_words, rotation_words
from shared.models import Adjustment, StrictFigures, TrackResult, WindowStatus

# "Judged by ...": whose rules gave the verdict.
RULES = {
    "station": "the station's rules",
    "spec": "QA's model spec",
    "strict": "the strict rule (offset only, every point)",
}
STRICT_LABEL = "Strict (offset only, every point)"
LEFT_OUT_SOURCE = {
    "station": "the station's ignored rows (Initial / Final Linearity Points Ignored)",
    "spec": "QA's model spec (exclude points)",
    "none": "none",
}
WINDOW_STATE = {
    WindowStatus.OK: "ok: contains the nominal, rotation allowed",
    WindowStatus.WIDE: "wide (over 20 % of the nominal): used as written",
    WindowStatus.ZERO_WIDTH: "zero width (the nominal alone): no rotation",
    WindowStatus.ZERO_WIDTH_NOMINAL_OFF: "a single value other than the nominal: no rotation",
    WindowStatus.NOMINAL_OUTSIDE: "does not contain the nominal: no rotation",
    WindowStatus.NONE: "none in the file: no rotation",
    WindowStatus.INVALID: "nominal or window not usable: no rotation",
}


def points(count: int) -> str:
    return f"{count} point{'s' if count != 1 else ''}"


def _angle(value: float | None, unit: str) -> str:
    return "—" if value is None else f"{plain_number(value)}{unit}"


def _window(window: tuple[float, float] | None, unit: str) -> str:
    if window is None:
        return "—"
    low, high = window
    return f"{plain_number(low)}\N{EN DASH}{plain_number(high)}{unit}"


def rotation_note(adjustment: Adjustment, unit: str = "") -> str | None:
    """Why the theory line was not rotated (or how its window reads), else None.

    'No rotation: the file's angle window 92-96° does not contain the nominal 280°'.
    """
    status, window = adjustment.window_status, _window(adjustment.window, unit)
    nominal = _angle(adjustment.angle_nominal, unit)
    if adjustment.policy == "strict":
        return None
    if adjustment.policy == "spec":
        if adjustment.k_bounds == (0.0, 0.0):
            return "No rotation: the model spec gives no angle tolerance"
        return None
    single = plain_number(adjustment.window[0]) + unit if adjustment.window else "—"
    notes = {
        WindowStatus.WIDE: (
            f"The file's angle window {window} is wide (over 20 % of the nominal {nominal}); "
            "used as written"
        ),
        WindowStatus.NOMINAL_OUTSIDE: (
            f"No rotation: the file's angle window {window} does not contain the nominal {nominal}"
        ),
        WindowStatus.ZERO_WIDTH: f"No rotation: the file's angle window is the nominal {nominal} "
        "alone",
        WindowStatus.ZERO_WIDTH_NOMINAL_OFF: (
            f"No rotation: the file's angle window is {single} alone, not the nominal {nominal}"
        ),
        WindowStatus.NONE: "No rotation: the file gives no angle window",
        WindowStatus.INVALID: (
            f"No rotation: the file's nominal angle ({nominal}) or window ({window}) is not usable"
        ),
    }
    return notes.get(status)


def strict_words(strict: StrictFigures) -> str:
    """'pass' or '3 points outside': the strict verdict in a few words."""
    return "pass" if strict.linearity_pass else f"{points(strict.fail_points)} outside"


def differs_words(track: TrackResult) -> str | None:
    """When the verdict's linearity passes only thanks to its adjustment, in calm words.

    (Every policy allows at least what strict allows, so the other way round
    cannot happen.)
    """
    strict, adjustment = track.strict, track.adjustment
    if strict is None or adjustment is None or strict.linearity_pass:
        return None
    if not track.linearity_pass:
        return None
    return f"Inside the band by {RULES[adjustment.policy]}; the strict check alone would fail it."


def adjustment_parts(track: TrackResult) -> list[str]:
    """'offset -0.00536 V', 'rotated -0.38 % (angle 340.787° → 339.507°)', '4 + 2 end rows
    left out': what the verdict used, in the legend's words."""
    adjustment = track.adjustment
    parts = [f"offset {signed(track.optimal_offset)} V"]
    rotation = rotation_words(adjustment, angle_unit(track))
    if rotation is not None:
        parts.append(rotation)
    elif adjustment is not None and adjustment.k_bounds != (0.0, 0.0):
        parts.append("not rotated")
    left_out = left_out_words(adjustment)
    if left_out is not None:
        parts.append(left_out)
    return parts


def explain(track: TrackResult) -> dict[str, Any] | None:
    """Everything the pages say about how the track was judged; None for an older result
    (no adjustment recorded) or a track that could not be analysed."""
    adjustment, strict = track.adjustment, track.strict
    if adjustment is None or track.fail_points is None:
        return None
    unit = angle_unit(track)
    rules = RULES[adjustment.policy]
    parts = adjustment_parts(track)
    show_strict = strict is not None and adjustment.policy != "strict"
    return {
        "track_id": track.track_id,
        "policy": adjustment.policy,
        "judged": f"Judged by {rules}: " + ", ".join(parts),
        "parts": parts,
        "note": rotation_note(adjustment, unit),
        "rotated": adjustment.k != 0.0,
        "left_out": len(adjustment.excluded_points),
        "strict": (
            {
                "label": STRICT_LABEL,
                "words": strict_words(strict),
                "pass": strict.linearity_pass,
                "fail_points": strict.fail_points,
            }
            if show_strict and strict is not None
            else None
        ),
        "differs": differs_words(track),
        "reasons": [reason.message for reason in track.reasons],
        "facts": facts(track, unit),
    }


def facts(track: TrackResult, unit: str) -> list[tuple[str, str]]:
    """The unit pages' "Adjustment" block: (label, value) rows, values already in words."""
    adjustment, strict = track.adjustment, track.strict
    assert adjustment is not None  # noqa: S101 - explain() checked
    k_lo, k_hi = adjustment.k_bounds
    rows = [
        ("Rules", RULES[adjustment.policy]),
        (
            "Rotation used",
            rotation_words(adjustment, unit) or "none (k = 0)",
        ),
        (
            "Rotation allowed",
            "none (k = 0)"
            if k_lo == k_hi == 0.0
            else f"k from {signed(k_lo * 100, 3)} % to {signed(k_hi * 100, 3)} %",
        ),
        (
            "Electrical angle nominal → adjusted",
            angle_change(adjustment, unit) or _angle(adjustment.angle_nominal, unit),
        ),
        (
            "Angle window",
            "—"
            if adjustment.window is None and adjustment.window_status is WindowStatus.NONE
            else f"{_window(adjustment.window, unit)} "
            f"({WINDOW_STATE[WindowStatus(adjustment.window_status)]})",
        ),
        ("Offset", f"{signed(track.optimal_offset, 4)} V"),
        (
            "Rows left out",
            left_out_words(adjustment) or "none",
        ),
        ("Left out because", LEFT_OUT_SOURCE[adjustment.excluded_source]),
    ]
    if adjustment.excluded_points:
        rows.append(("Left-out points (from 0)", _indices(adjustment.excluded_points)))
    rows.append(
        (
            "Verdict's linearity",
            f"{'pass' if track.linearity_pass else 'fail'}: "
            f"{points(track.fail_points or 0)} outside, "
            f"linearity error {format_number(track.linearity_error, 4)}",
        )
    )
    if strict is not None:
        rows.append(
            (
                STRICT_LABEL,
                f"{'pass' if strict.linearity_pass else 'fail'}: "
                f"{points(strict.fail_points)} outside, "
                f"linearity error {format_number(strict.linearity_error, 4)}",
            )
        )
    if track.resistance_pass is not None:
        rows.append(("Resistance (model spec)", "inside" if track.resistance_pass else "outside"))
    if track.angle_pass is not None:
        rows.append(("Measured angle (model spec)", "inside" if track.angle_pass else "outside"))
    return rows


def _indices(values: list[int], shown: int = 12) -> str:
    text = ", ".join(str(v) for v in values[:shown])
    return text + (f" … ({len(values)} in all)" if len(values) > shown else "")
