"""A track's trim history for a unit's page: one row and one small chart per pass.

Shared by the station's unit page and central's, so both read a pass alike.

The process engineer reads how the error curve and the fail count changed
from the untrimmed measurement through each laser pass to the final one.
Each pass is drawn with its own optimal offset inside the track's band (a
station keeps the band between passes; where a pass has another length its
curve is drawn without a band rather than against the wrong limits).
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from shared.models import TrackCurve, TrackResult, TrimPass
from shared.plot import message_svg, track_svg

PASS_CHART = (720, 330)


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
    )
    return track_svg(
        curve,
        entry.optimal_offset,
        width=width,
        height=height,
        label=f"{track.track_id} {pass_label(entry)} error curve",
    )


def pass_views(track: TrackResult) -> list[dict[str, Any]]:
    """Rows for the history table, each with its chart; empty for a track without passes."""
    return [
        {"pass": entry, "label": pass_label(entry), "svg": _chart(track, entry)}
        for entry in track.passes
    ]
