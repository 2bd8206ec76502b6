"""A track's trim history for a unit's page: one row and one small chart per pass.

Shared by the station's unit page and central's, so both read a pass alike.

The process engineer reads how the error curve and the fail count changed
from the untrimmed measurement through each laser pass to the final one.
Each pass is drawn as its own verdict judged it (its offset and rotation, its
rows left out hollow) inside the track's band (a station keeps the band and
the theory line between passes; where a pass has another length its curve is
drawn without a band rather than against the wrong limits).
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from shared.charts.palette import history_colour
from shared.charts.svg import message_svg
from shared.charts.track import history_svg, track_svg
from shared.charts.track_words import angle_unit
from shared.models import TrackCurve, TrackResult, TrimPass

PASS_CHART = (720, 330)
HISTORY_CHART = (1100, 440)
HISTORY_FULL_LABELS = 5  # more measurements than this: short keys in the legend


def pass_label(entry: TrimPass) -> str:
    if entry.number == 0:
        label = "untrimmed"
    else:
        label = f"pass {entry.number}"
        if entry.trim_set is not None:
            label += f" (TRM{entry.trim_set})"
    return f"{label} · final" if entry.final else label


def _chart(track: TrackResult, entry: TrimPass) -> Markup:
    width, height = PASS_CHART
    if entry.error is not None:
        return message_svg(f"{entry.error.code}: {entry.sheet}", width, height)
    if entry.curve is None or track.curve is None:
        return message_svg("No curve stored for this pass", width, height)
    n = len(entry.curve.positions)
    same_band = len(track.curve.upper) == n
    curve = TrackCurve(
        positions=entry.curve.positions,
        errors=entry.curve.errors,
        upper=track.curve.upper if same_band else [None] * n,
        lower=track.curve.lower if same_band else [None] * n,
        theory=_pass_theory(track, entry, n) if same_band else None,
    )
    return track_svg(
        curve,
        entry.optimal_offset,
        width=width,
        height=height,
        label=f"{track.track_id} {pass_label(entry)} error curve",
        adjustment=entry.adjustment,
        unit=angle_unit(track),
    )


def _pass_theory(track: TrackResult, entry: TrimPass, n: int) -> list[float] | None:
    """The pass's theory volts, from the final sheet's: the rotation's lever for its chart.

    A station may change the angle setting between passes (8506A: 340.0, then
    340.6). Theory volts go with 1/A (DOMAIN.md: a theory line recomputed at A'
    changes every error by t*k, k = 1 - A/A'), so the final sheet's line at A_final
    is the pass's at A_pass times A_final/A_pass. None when either angle is unknown.
    """
    theory = track.curve.theory if track.curve is not None else None
    if theory is None or len(theory) != n:
        return None
    final = track.adjustment.angle_nominal if track.adjustment else None
    own = entry.adjustment.angle_nominal if entry.adjustment else None
    if final == own:
        return theory
    if not final or not own:
        return None
    scale = final / own
    return [value * scale for value in theory]


def pass_views(track: TrackResult) -> list[dict[str, Any]]:
    """Rows for the history table, each with its chart; empty for a track without passes."""
    return [
        {"pass": entry, "label": pass_label(entry), "svg": _chart(track, entry)}
        for entry in track.passes
    ]


def _short_label(entry: TrimPass) -> str:
    """'untrimmed', '3', '9 final': a legend key for a long history."""
    if entry.number == 0:
        return "untrimmed"
    return f"{entry.number} final" if entry.final else str(entry.number)


def history_chart(track: TrackResult) -> Markup | None:
    """Every measurement of the track over one another (untrimmed first, final last), or
    None when there is no history to compare: the unit page's "how the trim went" chart,
    apart from the verdict's chart, which is scaled to the final curve and its band."""
    shown = [e for e in track.passes if e.curve is not None and e.curve.positions]
    many = len(shown) > HISTORY_FULL_LABELS  # 8861_2 has ten: keys without the trim set
    series = [
        (
            _short_label(entry) if many else pass_label(entry),
            history_colour(entry.number, entry.final),
            entry.curve,
        )
        for entry in shown
        if entry.curve is not None
    ]
    if len(series) < 2:
        return None
    width, height = HISTORY_CHART
    return history_svg(
        series,
        track.curve,
        width=width,
        height=height,
        unit=angle_unit(track),
        label=f"{track.track_id} trim history: every measurement as measured",
    )
