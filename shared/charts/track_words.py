"""The verdict's adjustment in words: the track chart's legend and the verdict's reasons.

The chart legend, the operator's "why" text (shared/explain.py) and the verdict rules
(agent/analysis/verdict_rules.py) must say an offset, a rotation and the rows left out
the same way, so the sentences are built here once.
"""

from __future__ import annotations

from shared.charts.numbers import plain_number, signed
from shared.models import Adjustment, TrackResult

LEGEND_SEPARATOR = "  ·  "


# How an angle reads: degrees on rotary pots, inches (a stroke) on linear ones.
ANGLE_UNITS = {"deg": "°", "in": " in"}


def angle_unit(track: TrackResult) -> str:
    """'°', ' in' or '' (unknown): the unit of the track's electrical angle or stroke."""
    spec = track.station_spec
    unit = spec.position_unit if spec is not None else None
    return ANGLE_UNITS.get(unit, "") if unit else ""


def _angle_decimals(nominal: float) -> int:
    """Decimals to show a rotated angle with: the nominal's own, at least 2, at most 4."""
    stated = plain_number(nominal)
    decimals = len(stated.split(".")[1]) if "." in stated else 0
    return min(4, max(2, decimals))


def rotation_words(adjustment: Adjustment | None, unit: str = "") -> str | None:
    """'rotated +0.31 % (angle 48.15° → 48.30°)', or None when the verdict did not rotate.

    The percentage is k (the adjusted error is e + t*k + c); the angles are the
    nominal A and A/(1-k), the angle setting that gives the same theory line.
    """
    if adjustment is None or adjustment.k == 0.0:
        return None
    percent = adjustment.k * 100.0
    shown = f"{percent:+.2f}" if abs(percent) >= 0.01 else signed(percent, 2)
    text = f"rotated {shown} %"
    angles = angle_change(adjustment, unit)
    return f"{text} (angle {angles})" if angles else text


def angle_change(adjustment: Adjustment, unit: str = "") -> str | None:
    """'48.15° → 48.30°': the nominal angle and the adjusted one, to the nominal's decimals."""
    nominal, adjusted = adjustment.angle_nominal, adjustment.angle_adjusted
    if nominal is None or adjusted is None:
        return None
    decimals = _angle_decimals(nominal)
    return f"{nominal:.{decimals}f}{unit} → {adjusted:.{decimals}f}{unit}"


def left_out_words(adjustment: Adjustment | None) -> str | None:
    """'1 + 1 end rows left out' (first + last), '3 rows left out', or None."""
    if adjustment is None or not adjustment.excluded_points:
        return None
    count = len(adjustment.excluded_points)
    start, end = adjustment.excluded_start, adjustment.excluded_end
    if start + end == count:
        return f"{start} + {end} end rows left out"
    return f"{count} row{'s' if count != 1 else ''} left out"


def adjustment_words(
    adjustment: Adjustment | None, offset: float, unit: str = "", rotation_drawn: bool = True
) -> str:
    """'offset +0.0079 · rotated +0.31 % (angle 48.15° → 48.30°) · 1 + 1 end rows left out'.

    Without the theory line a rotation cannot be drawn; the legend then says so.
    """
    return LEGEND_SEPARATOR.join(_adjustment_parts(adjustment, offset, unit, rotation_drawn))


def _adjustment_parts(
    adjustment: Adjustment | None,
    offset: float,
    unit: str = "",
    rotation_drawn: bool = True,
    shorter: int = 0,
) -> list[str]:
    """The legend's words; `shorter` 1 drops the angles, 2 also shortens the rows left out."""
    words = [f"offset {signed(offset)}"]
    rotation = rotation_words(adjustment, unit)
    if rotation is not None and (shorter or not rotation_drawn):
        rotation = rotation.split(" (")[0] + ("" if rotation_drawn else " (not drawn)")
    left_out = left_out_words(adjustment)
    if left_out is not None and shorter > 1 and adjustment is not None:
        left_out = f"{len(adjustment.excluded_points)} left out"
    return words + [text for text in (rotation, left_out) if text is not None]


def legend_variants(
    adjustment: Adjustment | None,
    offset: float,
    unit: str = "",
    rotation_drawn: bool = True,
    fails: int = 0,
    untrimmed: bool = False,
) -> list[str]:
    """The chart's legend, longest first; the chart shows the first that fits its width."""
    head = [f"{fails} outside"] if fails else []
    tail = ["faint: untrimmed"] if untrimmed else []
    full, shorter, shortest = (
        _adjustment_parts(adjustment, offset, unit, rotation_drawn, level) for level in range(3)
    )
    variants = [head + full + tail, head + full, head + shorter + tail, head + shorter]
    variants.append(head + shortest)
    return list(dict.fromkeys(LEGEND_SEPARATOR.join(v) for v in variants))
