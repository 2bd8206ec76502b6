"""Server-side SVG charts of one track: the error curve inside its spec band.

The station page and central's unit page draw the same chart from the same
code, so a unit looks alike beside the machine and in the QA office. The
station has no internet and its page must draw within a second of a new
result, so charts are plain SVG strings built here rather than by a JS
library. Everything is pure (no Flask, no I/O) and cheap: the coordinate work
is vectorised with numpy, so a 600-point track takes a few milliseconds.
Coordinates are rounded to 0.1 of a viewBox unit (well below a pixel), and
limits that are straight lines over many points are drawn as one segment,
which keeps a 600-point chart around 10-20 KB.

The scales, paths and canvas are the chart package's (shared/charts/); this module
lays out the track's own chart on them.

Which points are outside the band is decided by the verdict's own band rule
(shared/band.py: offset, rotation, excluded points), so the red dots always
number the track's `fail_points`; excluded points are drawn hollow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from markupsafe import Markup, escape

from shared import band
from shared.charts.paths import band_path, line_path
from shared.charts.scale import LinearScale, nice_step, nice_ticks, padded_range, tick_label
from shared.charts.svg import SVG_NS, message_svg
from shared.charts.track_words import LEGEND_SEPARATOR, angle_unit, legend_variants
from shared.models import Adjustment, PassCurve, TrackCurve, TrackResult

__all__ = ["LEGEND_SEPARATOR", "failing_indices", "history_svg", "track_chart", "track_svg"]

# Room around the plot area, in viewBox units; the left side grows with the labels.
PAD_TOP = 40
PAD_RIGHT = 36  # room for the last x label with its unit ("20°", "1.5 in")
PAD_BOTTOM = 46
TICK_FONT = 22
CHAR_WIDTH = 12.6  # average advance of a TICK_FONT digit, for sizing the left margin
FAIL_RADIUS = 6
AXIS_TITLE = "error vs position"  # without units; axis_title() adds them
# The y scale covers the final curve and the band within this many typical half-widths
# of the band's centre: a band that opens to +/-148 V over part of the travel (model
# 8888) must not squeeze the curve and the band it is judged against into a strip.
BAND_VIEW_FACTOR = 4.0
LEGEND_CHAR_WIDTH = 13.2  # average advance of a bold TICK_FONT character (the legend)
LEGEND_GAP = 16  # between the axis title and the legend, and at the frame's edge


def tick_labels(
    y_ticks: list[float], y_step: float, x_ticks: list[float], x_step: float, unit: str = ""
) -> tuple[list[str], list[str]]:
    """Tick labels, the top y label carrying "V" and the last x label the position's unit.

    A chart too narrow for its axis title beside the legend (a pass chart) still names
    its units: they are on the axes themselves.
    """
    y_labels = [tick_label(t, y_step) for t in y_ticks]
    x_labels = [tick_label(t, x_step) for t in x_ticks]
    if y_labels:
        y_labels[-1] += " V"
    if x_labels and unit:
        x_labels[-1] += unit
    return y_labels, x_labels


def band_in_view(upper: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """The limit values the y scale must show: those within BAND_VIEW_FACTOR typical
    half-widths of the band's typical centre (medians over the points with both limits).

    A constant band or a bowtie is shown whole; the stretches where a band opens
    far wider are cut at the frame (the chart clips them) rather than setting the scale.
    """
    values: np.ndarray = np.concatenate([upper, lower])
    values = values[np.isfinite(values)]
    both = np.isfinite(upper) & np.isfinite(lower)
    if values.size == 0 or not both.any():
        return values
    half = float(np.median((upper[both] - lower[both]) / 2.0))
    centre = float(np.median((upper[both] + lower[both]) / 2.0))
    if not half > 0:
        return values
    near: np.ndarray = values[np.abs(values - centre) <= BAND_VIEW_FACTOR * half * (1 + 1e-9)]
    return near


def _clip_id(box: tuple[float, float, float, float]) -> str:
    """An id naming the plot rectangle: equal ids always mean equal rectangles, so two
    charts on one page never clip each other wrongly."""
    return "plot-clip-" + "-".join(f"{v:g}".replace(".", "_") for v in box)


def _array(values: Sequence[float | None] | None, length: int | None = None) -> np.ndarray:
    """float64 array with None as NaN, cut or NaN-padded to `length` (missing = blank)."""
    array = np.array([] if values is None else values, dtype=float)
    if length is None or array.size == length:
        return array
    if array.size > length:
        return array[:length]
    return np.concatenate([array, np.full(length - array.size, np.nan)])


class _Plot:
    """The rectangle, scale and clip path of a track chart, with its frame, grid, zero
    line and tick labels: the verdict's chart and the trim history lay out alike."""

    def __init__(
        self,
        xs: np.ndarray,
        y_range: tuple[float, float],
        size: tuple[int, int],
        top: int,
        unit: str,
    ) -> None:
        width, height = size
        x_low, x_high = float(xs.min()), float(xs.max())
        if x_high <= x_low:
            x_low, x_high = padded_range(np.array([x_low]), 0.0)
        x_target = max(3, width // 140)
        y_ticks, x_ticks = nice_ticks(*y_range), nice_ticks(x_low, x_high, x_target)
        y_step, x_step = nice_step(y_range[1] - y_range[0]), nice_step(x_high - x_low, x_target)
        y_labels, x_labels = tick_labels(y_ticks, y_step, x_ticks, x_step, unit)
        left = round(16 + CHAR_WIDTH * max((len(s) for s in y_labels), default=4), 1)
        box = (left, float(top), float(width - PAD_RIGHT), float(height - PAD_BOTTOM))
        self.box = box
        self.scale = LinearScale((x_low, x_high), y_range, box)
        self.clip = _clip_id(box)
        frame = (
            f'x="{box[0]}" y="{box[1]}" width="{round(box[2] - box[0], 1)}" '
            f'height="{round(box[3] - box[1], 1)}"'
        )
        grid: list[str] = []
        self.labels: list[str] = []
        for tick, text in zip(y_ticks, y_labels, strict=True):
            y = self.y1d(tick)
            grid.append(f"M{box[0]} {y}H{box[2]}")
            self.labels.append(
                f'<text class="tick" x="{box[0] - 8}" y="{y}" text-anchor="end" '
                f'dominant-baseline="middle">{text}</text>'
            )
        for tick, text in zip(x_ticks, x_labels, strict=True):
            x = round(self.scale.x(tick), 1)
            grid.append(f"M{x} {box[1]}V{box[3]}")
            self.labels.append(
                f'<text class="tick" x="{x}" y="{box[3] + 8}" text-anchor="middle" '
                f'dominant-baseline="hanging">{text}</text>'
            )
        self.frame = [
            f'<clipPath id="{self.clip}"><rect {frame}/></clipPath>',
            f'<rect class="plot-frame" {frame}/>',
            f'<path class="grid" d="{"".join(grid)}"/>',
        ]
        if y_range[0] < 0 < y_range[1]:
            self.frame.append(f'<path class="zero" d="M{box[0]} {self.y1d(0.0)}H{box[2]}"/>')

    def y1d(self, value: float) -> float:
        return round(self.scale.y(value), 1)

    @property
    def clipped(self) -> str:
        return f'clip-path="url(#{self.clip})"'

    def band(self, px: np.ndarray, upper: np.ndarray, lower: np.ndarray) -> list[str]:
        """The spec band filled where both limits exist, and each limit as a line (so a
        one-sided spec still shows), cut at the frame."""
        pu, pl = self.scale.ys(upper), self.scale.ys(lower)
        parts = []
        filled = band_path(px, pu, pl)
        if filled:
            parts.append(f'<path class="band" {self.clipped} d="{filled}"/>')
        limits = line_path(px, pu, simplify=True) + line_path(px, pl, simplify=True)
        if limits:
            parts.append(f'<path class="limit" {self.clipped} d="{limits}"/>')
        return parts


def _circles(px: np.ndarray, py: np.ndarray) -> str:
    """A circle at each point: failing points (red) and rows left out (hollow)."""
    xs, ys = np.round(px, 1).tolist(), np.round(py, 1).tolist()
    return "".join(
        f'<circle cx="{x}" cy="{y}" r="{FAIL_RADIUS}"/>' for x, y in zip(xs, ys, strict=True)
    )


def failing_indices(
    errors: Sequence[float],
    upper: Sequence[float | None],
    lower: Sequence[float | None],
    c: float,
    theory: Sequence[float] | None = None,
    adjustment: Adjustment | None = None,
) -> list[int]:
    """Indices of the points outside the band after the adjustment (shared/band.py)."""
    n = len(errors)
    k, rotation, excluded = _adjustment_arrays(adjustment, theory, n)
    mask = band.outside_mask(
        _array(errors), _array(upper, n), _array(lower, n), c, rotation, k, excluded
    )
    return [int(i) for i in np.flatnonzero(mask)]


def _adjustment_arrays(
    adjustment: Adjustment | None, theory: Sequence[float] | None, n: int
) -> tuple[float, np.ndarray | None, np.ndarray]:
    """(k, theory volts, excluded mask) to draw with; no theory means no rotation to show."""
    excluded = band.excluded_mask(n, adjustment.excluded_points if adjustment else None)
    if adjustment is None or adjustment.k == 0.0 or theory is None or len(theory) != n:
        return 0.0, None, excluded
    return adjustment.k, _array(theory, n), excluded


def axis_title(unit: str = "") -> str:
    """'error (V) vs position (°)': the error is volts in every file; the position is
    degrees (rotary) or inches (linear) when the file says which, else unnamed."""
    name = unit.strip()
    return f"error (V) vs position ({name})" if name else "error (V) vs position"


def _fit_legend(
    variants: list[str], room: float, title: str = AXIS_TITLE
) -> tuple[str, bool, bool]:
    """(legend, whether the axis title still fits beside it, whether it must be squeezed)."""
    beside_title = room - len(title) * CHAR_WIDTH - 2 * LEGEND_GAP
    for text in variants:
        if len(text) * LEGEND_CHAR_WIDTH <= beside_title:
            return text, True, False
    for text in variants:
        if len(text) * LEGEND_CHAR_WIDTH <= room:
            return text, False, False
    return variants[-1], False, True


def track_svg(
    curve: TrackCurve | None,
    offset: float | None,
    width: int = 800,
    height: int = 360,
    show_untrimmed: bool = False,
    label: str = "",
    adjustment: Adjustment | None = None,
    unit: str = "",
) -> Markup:
    """The error curve as judged (offset and rotation applied) inside its spec band, as SVG.

    y = error + theory*k + offset; the band is filled where both limits exist and each
    limit is also drawn as a line (so a one-sided spec still shows). Points
    outside the band are red circles; excluded points are hollow. With
    `show_untrimmed`, the untrimmed curve is a faint line as measured (the
    offset is the trimmed test's correction), and the y axis grows to include it.
    """
    if curve is None or not curve.positions:
        return message_svg("No curve for this track", width, height)
    c = offset if offset is not None and math.isfinite(offset) else 0.0
    xs = _array(curve.positions)
    n = xs.size
    errors = _array(curve.errors, n)
    upper = _array(curve.upper, n)
    lower = _array(curve.lower, n)
    k, theory, excluded = _adjustment_arrays(adjustment, curve.theory, n)
    shifted = band.adjusted_errors(errors, c, theory, k)
    ux = _array(curve.untrimmed_positions) if show_untrimmed else np.empty(0)
    uy = _array(curve.untrimmed_errors, ux.size) if show_untrimmed else np.empty(0)
    has_untrimmed = bool(np.isfinite(uy).any())

    drawn = np.isfinite(xs) & np.isfinite(shifted)
    if not drawn.any():
        return message_svg("No plottable points", width, height)
    # Scaled to the curve as judged and its band: the untrimmed curve (often ten times
    # the band) is drawn faint inside this frame, never widening it (history_svg shows it).
    y_range = padded_range(np.concatenate([shifted, band_in_view(upper, lower)]))
    x_all = np.concatenate([xs, ux]) if has_untrimmed else xs
    plot = _Plot(x_all[np.isfinite(x_all)], y_range, (width, height), PAD_TOP, unit)
    scale, box, clipped = plot.scale, plot.box, plot.clipped
    parts = [
        f'<svg class="plot" viewBox="0 0 {width} {height}" xmlns="{SVG_NS}" '
        f'role="img" aria-label="{escape(label or "error curve")}" font-size="{TICK_FONT}">',
        *plot.frame,
    ]

    px = scale.xs(xs)
    parts += plot.band(px, upper, lower)
    if has_untrimmed:
        untrimmed_path = line_path(scale.xs(ux), scale.ys(uy))
        parts.append(f'<path class="untrimmed" {clipped} d="{untrimmed_path}"/>')
    py = scale.ys(shifted)
    parts.append(f'<path class="curve" {clipped} d="{line_path(px, py)}"/>')

    fails = np.flatnonzero(band.outside_mask(errors, upper, lower, c, theory, k, excluded) & drawn)
    left_out = np.flatnonzero(excluded & drawn)
    for picked, group in ((left_out, "excluded-pts"), (fails, "fail-pts")):
        if picked.size:
            parts.append(f'<g class="{group}">{_circles(px[picked], py[picked])}</g>')
    parts.extend(plot.labels)
    variants = legend_variants(
        adjustment, c, unit, theory is not None, int(fails.size), has_untrimmed
    )
    title = axis_title(unit)
    legend, with_title, squeeze = _fit_legend(variants, box[2] - box[0], title)
    title_y = PAD_TOP - 12
    if with_title:
        parts.append(f'<text class="axis-title" x="{box[0]}" y="{title_y}">{escape(title)}</text>')
    fit = (
        f' textLength="{round(box[2] - box[0], 1)}" lengthAdjust="spacingAndGlyphs"'
        if squeeze
        else ""
    )
    parts.append(f'<text class="offset" x="{box[2]}" y="{title_y}" text-anchor="end"{fit}>')
    parts.append(f"{escape(legend)}</text></svg>")
    # Safe: numbers we formatted, constant markup, and escape()d text (label, legend).
    return Markup("".join(parts))  # noqa: S704


def track_chart(track: TrackResult, size: tuple[int, int], show_untrimmed: bool = False) -> Markup:
    """The track's SVG, or a message in its place when the track could not be analysed."""
    width, height = size
    if track.curve is None:
        if track.error is not None:
            text = f"{track.error.code}: {track.error.message}"
        else:
            text = "No curve stored for this track"
        return message_svg(text, width, height)
    return track_svg(
        track.curve,
        track.optimal_offset,
        width=width,
        height=height,
        show_untrimmed=show_untrimmed,
        label=f"{track.track_id} error curve",
        adjustment=track.adjustment,
        unit=angle_unit(track),
    )


HISTORY_PAD_TOP = 76  # the axis title, then the legend (one key per measurement) below it


def history_svg(
    series: Sequence[tuple[str, str, PassCurve | TrackCurve]],
    band: TrackCurve | None,
    width: int = 1100,
    height: int = 420,
    unit: str = "",
    label: str = "",
) -> Markup:
    """Every measurement of a track as measured (no offset), over one another, in its band.

    `series` holds (legend label, colour, curve) from the untrimmed measurement to the
    final one. Unlike the verdict's chart, the y scale covers every curve: this
    chart is about how far the trim moved the error, pass by pass.
    """
    drawn = [
        (name, colour, _array(c.positions), _array(c.errors, len(c.positions)))
        for name, colour, c in series
        if c.positions
    ]
    if len(drawn) < 2:
        return message_svg("Fewer than two measurements to compare", width, height)
    bx = _array(band.positions) if band is not None else np.empty(0)
    bu = _array(band.upper, bx.size) if band is not None else np.empty(0)
    bl = _array(band.lower, bx.size) if band is not None else np.empty(0)
    ys = np.concatenate([y for *_, y in drawn] + [band_in_view(bu, bl)])
    xs = np.concatenate([x for _, _, x, _ in drawn])
    xs = xs[np.isfinite(xs)]
    if xs.size == 0 or not np.isfinite(ys).any():
        return message_svg("No plottable points", width, height)
    plot = _Plot(xs, padded_range(ys), (width, height), HISTORY_PAD_TOP, unit)
    scale, box, clipped = plot.scale, plot.box, plot.clipped
    parts = [
        f'<svg class="plot plot-history" viewBox="0 0 {width} {height}" '
        f'xmlns="{SVG_NS}" role="img" '
        f'aria-label="{escape(label or "trim history")}" font-size="{TICK_FONT}">',
        *plot.frame,
    ]
    if bx.size:
        parts += plot.band(scale.xs(bx), bu, bl)
    for index, (_, colour, x, y) in enumerate(drawn):
        last = index == len(drawn) - 1
        parts.append(
            f'<path class="history-curve{" history-final" if last else ""}" {clipped} '
            f'fill="none" stroke="{colour}" stroke-width="{3 if last else 2}" '
            f'd="{line_path(scale.xs(x), scale.ys(y))}"/>'
        )
    parts.extend(plot.labels)
    title_y = HISTORY_PAD_TOP - 12
    parts.append(
        f'<text class="axis-title" x="{box[0]}" y="{title_y - 32}">'
        f"{escape(axis_title(unit))}, as measured</text>"
    )
    keys = "".join(
        f'<tspan fill="{colour}">{"  ·  " if index else ""}{escape(name)}</tspan>'
        for index, (name, colour, _, _) in enumerate(drawn)
    )
    room = box[2] - box[0]
    text_length = sum(len(name) + (5 if index else 0) for index, (name, *_) in enumerate(drawn))
    fit = (
        f' textLength="{round(room, 1)}" lengthAdjust="spacingAndGlyphs"'
        if text_length * LEGEND_CHAR_WIDTH > room
        else ""
    )
    parts.append(
        f'<text class="offset history-legend" x="{box[2]}" y="{title_y}" '
        f'text-anchor="end"{fit}>{keys}</text></svg>'
    )
    # Safe: numbers we formatted, constant markup, colours from our table, escape()d text.
    return Markup("".join(parts))  # noqa: S704
