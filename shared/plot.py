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

Which points are outside the band is decided by the verdict's own band rule
(shared/band.py: offset, rotation, excluded points), so the red dots always
number the track's `fail_points`; excluded points are drawn hollow.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np
from markupsafe import Markup, escape

from shared import band
from shared.models import Adjustment, PassCurve, TrackCurve, TrackResult

# Room around the plot area, in viewBox units; the left side grows with the labels.
PAD_TOP = 40
PAD_RIGHT = 36  # room for the last x label with its unit ("20°", "1.5 in")
PAD_BOTTOM = 46
TICK_FONT = 22
CHAR_WIDTH = 12.6  # average advance of a TICK_FONT digit, for sizing the left margin
FAIL_RADIUS = 6
TARGET_TICKS = 6
AXIS_TITLE = "error vs position"  # without units; axis_title() adds them
# The y scale covers the final curve and the band within this many typical half-widths
# of the band's centre: a band that opens to +/-148 V over part of the travel (model
# 8888) must not squeeze the curve and the band it is judged against into a strip.
BAND_VIEW_FACTOR = 4.0
LEGEND_SEPARATOR = "  ·  "
LEGEND_CHAR_WIDTH = 13.2  # average advance of a bold TICK_FONT character (the legend)
LEGEND_GAP = 16  # between the axis title and the legend, and at the frame's edge
# A limit point is left out only when it is this close (viewBox units) to the line
# through its neighbours: exact straight stretches collapse, curves stay as drawn.
COLLINEAR_TOLERANCE = 1e-6


def format_number(value: float | None, digits: int = 3) -> str:
    """A readable number with `digits` significant digits, never '-0' nor '1e-05' noise.

    Errors and sigmas are small (1e-5..1e-2), so tiny values use a short
    exponent form ("2.10e-5") and others fixed decimals ("0.00557", "336.0").
    """
    if value is None or not math.isfinite(value):
        return "—"
    if value == 0:
        return "0"
    value = float(f"{value:.{digits - 1}e}")  # round first: 0.0099999 is 0.0100, not 0.01000
    magnitude = math.floor(math.log10(abs(value)))
    if magnitude < -3 or magnitude >= 7:
        mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
        return f"{mantissa}e{int(exponent)}"
    decimals = max(0, digits - 1 - magnitude)
    text = f"{value:.{decimals}f}"
    return "0" if float(text) == 0 else text


def signed(value: float | None, digits: int = 3) -> str:
    """format_number with an explicit '+' so an offset's direction is obvious."""
    text = format_number(value, digits)
    if value is not None and math.isfinite(value) and value > 0:
        return "+" + text
    return text


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


def nice_step(span: float, target: int = TARGET_TICKS) -> float:
    """A 1, 2 or 5 times a power of ten step giving about `target` ticks over `span`."""
    raw = span / max(1, target)
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 5.0):
        if raw <= factor * power * 1.0000001:
            return factor * power
    return 10.0 * power


def nice_ticks(low: float, high: float, target: int = TARGET_TICKS) -> list[float]:
    """Round tick values inside [low, high] (inclusive, with a little float slack)."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low] if math.isfinite(low) else []
    step = nice_step(high - low, target)
    first = math.ceil(low / step - 1e-9)
    last = math.floor(high / step + 1e-9)
    return [i * step for i in range(first, last + 1)]


def tick_label(value: float, step: float) -> str:
    """A tick label with as many decimals as the step needs, and no '-0'."""
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step > 0 else 0
    text = f"{value:.{decimals}f}"
    if float(text) == 0:
        text = f"{0:.{decimals}f}"
    return text


def padded_range(values: np.ndarray, pad_fraction: float = 0.05) -> tuple[float, float]:
    """The finite values' range with a margin; a flat range still gets a visible height."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return -1.0, 1.0
    low, high = float(finite.min()), float(finite.max())
    span = high - low
    if span <= 0:
        pad = abs(low) * 0.1 if low != 0 else 1e-3
        return low - pad, high + pad
    return low - span * pad_fraction, high + span * pad_fraction


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


class _Scale:
    """Maps data coordinates onto the plot rectangle (y grows downwards in SVG)."""

    def __init__(
        self,
        x_range: tuple[float, float],
        y_range: tuple[float, float],
        box: tuple[float, float, float, float],
    ) -> None:
        self.x0, self.x1 = x_range
        self.y0, self.y1 = y_range
        self.left, self.top, self.right, self.bottom = box
        self.kx = (self.right - self.left) / ((self.x1 - self.x0) or 1.0)
        self.ky = (self.bottom - self.top) / ((self.y1 - self.y0) or 1.0)

    def x(self, value: np.ndarray) -> np.ndarray:
        return self.left + (value - self.x0) * self.kx

    def y(self, value: np.ndarray) -> np.ndarray:
        return self.bottom - (value - self.y0) * self.ky

    def x1d(self, value: float) -> float:
        return round(self.left + (value - self.x0) * self.kx, 1)

    def y1d(self, value: float) -> float:
        return round(self.bottom - (value - self.y0) * self.ky, 1)


def _runs(px: np.ndarray, py: np.ndarray) -> Iterator[np.ndarray]:
    """Index arrays of the stretches where both coordinates exist (a NaN ends a stretch)."""
    index = np.flatnonzero(np.isfinite(px) & np.isfinite(py))
    if index.size == 0:
        return
    yield from np.split(index, np.flatnonzero(np.diff(index) > 1) + 1)


def _drop_collinear(px: np.ndarray, py: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Leave out points on the straight line through their neighbours (unrounded coordinates).

    Spec limits are often constant or linear over hundreds of points; one
    segment draws them the same. Only (numerically) exact collinearity
    counts, so dropping many points in a row cannot bend a curve.
    """
    if px.size <= 2:
        return px, py
    dx, dy = px[2:] - px[:-2], py[2:] - py[:-2]
    cross = dx * (py[1:-1] - py[:-2]) - dy * (px[1:-1] - px[:-2])
    keep = np.ones(px.size, dtype=bool)
    keep[1:-1] = np.abs(cross) > COLLINEAR_TOLERANCE * np.hypot(dx, dy)
    return px[keep], py[keep]


def _points(px: np.ndarray, py: np.ndarray) -> list[str]:
    """'x y' strings rounded to 0.1, without repeats of the same rounded point."""
    rx, ry = np.round(px, 1), np.round(py, 1)
    if rx.size > 1:
        fresh = np.ones(rx.size, dtype=bool)
        fresh[1:] = (rx[1:] != rx[:-1]) | (ry[1:] != ry[:-1])
        rx, ry = rx[fresh], ry[fresh]
    return [f"{x} {y}" for x, y in zip(rx.tolist(), ry.tolist(), strict=True)]


def _line_path(px: np.ndarray, py: np.ndarray, simplify: bool = False) -> str:
    """Path data of a line with a gap wherever a value is missing."""
    parts = []
    for run in _runs(px, py):
        x, y = (px[run], py[run])
        if simplify:
            x, y = _drop_collinear(x, y)
        parts.append("M" + "L".join(_points(x, y)))
    return "".join(parts)


def _band_path(px: np.ndarray, pu: np.ndarray, pl: np.ndarray) -> str:
    """Closed polygons over every stretch where both limits exist (gaps where either is blank)."""
    polygons = []
    both = np.where(np.isfinite(pl), pu, np.nan)
    for run in _runs(px, both):
        if run.size < 2:
            continue
        top = _points(*_drop_collinear(px[run], pu[run]))
        bottom = _points(*_drop_collinear(px[run][::-1], pl[run][::-1]))
        polygons.append("M" + "L".join(top + bottom) + "Z")
    return "".join(polygons)


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


# How an angle reads: degrees on rotary pots, inches (a stroke) on linear ones.
ANGLE_UNITS = {"deg": "°", "in": " in"}


def angle_unit(track: TrackResult) -> str:
    """'°', ' in' or '' (unknown): the unit of the track's electrical angle or stroke."""
    spec = track.station_spec
    unit = spec.position_unit if spec is not None else None
    return ANGLE_UNITS.get(unit, "") if unit else ""


def plain_number(value: float | None, max_decimals: int = 4) -> str:
    """A value as the file states it: '92', '54.5', '340.787' (no trailing zeros, no '-0')."""
    if value is None or not math.isfinite(value):
        return "—"
    text = f"{value:.{max_decimals}f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


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


def message_svg(text: str, width: int = 800, height: int = 360) -> Markup:
    """A chart-sized placeholder for a track without a curve, so the layout does not jump."""
    # Safe: the only text is escape()d; the rest are our own numbers.
    return Markup(  # noqa: S704
        f'<svg class="plot plot-empty" viewBox="0 0 {width} {height}" '
        'xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="{escape(text)}">'
        f'<rect class="plot-frame" x="1" y="1" width="{width - 2}" height="{height - 2}"/>'
        f'<text class="plot-message" x="{width / 2}" y="{height / 2}" '
        f'text-anchor="middle" dominant-baseline="middle">{escape(text)}</text></svg>'
    )


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
    x_all = x_all[np.isfinite(x_all)]
    x_low, x_high = float(x_all.min()), float(x_all.max())
    if x_high <= x_low:
        x_low, x_high = padded_range(np.array([x_low]), 0.0)
    x_target = max(3, width // 140)
    y_ticks = nice_ticks(*y_range)
    x_ticks = nice_ticks(x_low, x_high, x_target)
    y_step = nice_step(y_range[1] - y_range[0])
    x_step = nice_step(x_high - x_low, x_target)
    y_labels, x_labels = tick_labels(y_ticks, y_step, x_ticks, x_step, unit)
    left = round(16 + CHAR_WIDTH * max((len(s) for s in y_labels), default=4), 1)
    box = (left, float(PAD_TOP), float(width - PAD_RIGHT), float(height - PAD_BOTTOM))
    scale = _Scale((x_low, x_high), y_range, box)

    clip = _clip_id(box)
    frame = (
        f'x="{box[0]}" y="{box[1]}" width="{round(box[2] - box[0], 1)}" '
        f'height="{round(box[3] - box[1], 1)}"'
    )
    parts = [
        f'<svg class="plot" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" '
        f'role="img" aria-label="{escape(label or "error curve")}" font-size="{TICK_FONT}">',
        f'<clipPath id="{clip}"><rect {frame}/></clipPath>',
        f'<rect class="plot-frame" {frame}/>',
    ]
    grid: list[str] = []
    labels: list[str] = []
    for tick, text in zip(y_ticks, y_labels, strict=True):
        y = scale.y1d(tick)
        grid.append(f"M{box[0]} {y}H{box[2]}")
        labels.append(
            f'<text class="tick" x="{box[0] - 8}" y="{y}" text-anchor="end" '
            f'dominant-baseline="middle">{text}</text>'
        )
    for tick, text in zip(x_ticks, x_labels, strict=True):
        x = scale.x1d(tick)
        grid.append(f"M{x} {box[1]}V{box[3]}")
        labels.append(
            f'<text class="tick" x="{x}" y="{box[3] + 8}" text-anchor="middle" '
            f'dominant-baseline="hanging">{text}</text>'
        )
    parts.append(f'<path class="grid" d="{"".join(grid)}"/>')
    if y_range[0] < 0 < y_range[1]:
        parts.append(f'<path class="zero" d="M{box[0]} {scale.y1d(0.0)}H{box[2]}"/>')

    px, pu, pl = scale.x(xs), scale.y(upper), scale.y(lower)
    clipped = f'clip-path="url(#{clip})"'
    filled = _band_path(px, pu, pl)
    if filled:
        parts.append(f'<path class="band" {clipped} d="{filled}"/>')
    limits = _line_path(px, pu, simplify=True) + _line_path(px, pl, simplify=True)
    if limits:
        parts.append(f'<path class="limit" {clipped} d="{limits}"/>')
    if has_untrimmed:
        untrimmed_path = _line_path(scale.x(ux), scale.y(uy))
        parts.append(f'<path class="untrimmed" {clipped} d="{untrimmed_path}"/>')
    py = scale.y(shifted)
    parts.append(f'<path class="curve" {clipped} d="{_line_path(px, py)}"/>')

    fails = np.flatnonzero(band.outside_mask(errors, upper, lower, c, theory, k, excluded) & drawn)
    left_out = np.flatnonzero(excluded & drawn)
    if left_out.size:
        rings = "".join(
            f'<circle cx="{x}" cy="{y}" r="{FAIL_RADIUS}"/>'
            for x, y in zip(
                np.round(px[left_out], 1).tolist(), np.round(py[left_out], 1).tolist(), strict=True
            )
        )
        parts.append(f'<g class="excluded-pts">{rings}</g>')
    if fails.size:
        dots = "".join(
            f'<circle cx="{x}" cy="{y}" r="{FAIL_RADIUS}"/>'
            for x, y in zip(
                np.round(px[fails], 1).tolist(), np.round(py[fails], 1).tolist(), strict=True
            )
        )
        parts.append(f'<g class="fail-pts">{dots}</g>')
    parts.extend(labels)
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


# The trim history drawn over one another: untrimmed grey, the passes in cool colours
# that darken towards the final one, the final curve amber (readable on the station's
# dark page and central's white one alike).
HISTORY_UNTRIMMED = "#8b95a5"
HISTORY_PASSES = ("#8b5cf6", "#6366f1", "#3b82f6", "#0ea5e9", "#06b6d4", "#14b8a6")
HISTORY_FINAL = "#f59e0b"
HISTORY_PAD_TOP = 76  # the axis title, then the legend (one key per measurement) below it


def history_colour(number: int, final: bool) -> str:
    """A measurement's colour in the history chart: 0 is the untrimmed one."""
    if final:
        return HISTORY_FINAL
    if number == 0:
        return HISTORY_UNTRIMMED
    return HISTORY_PASSES[(number - 1) % len(HISTORY_PASSES)]


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
    y_range = padded_range(ys)
    x_low, x_high = float(xs.min()), float(xs.max())
    if x_high <= x_low:
        x_low, x_high = padded_range(np.array([x_low]), 0.0)
    x_target = max(3, width // 140)
    y_ticks, x_ticks = nice_ticks(*y_range), nice_ticks(x_low, x_high, x_target)
    y_step, x_step = nice_step(y_range[1] - y_range[0]), nice_step(x_high - x_low, x_target)
    y_labels, x_labels = tick_labels(y_ticks, y_step, x_ticks, x_step, unit)
    left = round(16 + CHAR_WIDTH * max((len(s) for s in y_labels), default=4), 1)
    box = (left, float(HISTORY_PAD_TOP), float(width - PAD_RIGHT), float(height - PAD_BOTTOM))
    scale = _Scale((x_low, x_high), y_range, box)
    clip = _clip_id(box)
    frame = (
        f'x="{box[0]}" y="{box[1]}" width="{round(box[2] - box[0], 1)}" '
        f'height="{round(box[3] - box[1], 1)}"'
    )
    parts = [
        f'<svg class="plot plot-history" viewBox="0 0 {width} {height}" '
        'xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="{escape(label or "trim history")}" font-size="{TICK_FONT}">',
        f'<clipPath id="{clip}"><rect {frame}/></clipPath>',
        f'<rect class="plot-frame" {frame}/>',
    ]
    grid = [f"M{box[0]} {scale.y1d(t)}H{box[2]}" for t in y_ticks]
    grid += [f"M{scale.x1d(t)} {box[1]}V{box[3]}" for t in x_ticks]
    parts.append(f'<path class="grid" d="{"".join(grid)}"/>')
    if y_range[0] < 0 < y_range[1]:
        parts.append(f'<path class="zero" d="M{box[0]} {scale.y1d(0.0)}H{box[2]}"/>')
    clipped = f'clip-path="url(#{clip})"'
    if bx.size:
        px, pu, pl = scale.x(bx), scale.y(bu), scale.y(bl)
        filled = _band_path(px, pu, pl)
        if filled:
            parts.append(f'<path class="band" {clipped} d="{filled}"/>')
        limits = _line_path(px, pu, simplify=True) + _line_path(px, pl, simplify=True)
        if limits:
            parts.append(f'<path class="limit" {clipped} d="{limits}"/>')
    for index, (_, colour, x, y) in enumerate(drawn):
        last = index == len(drawn) - 1
        parts.append(
            f'<path class="history-curve{" history-final" if last else ""}" {clipped} '
            f'fill="none" stroke="{colour}" stroke-width="{3 if last else 2}" '
            f'd="{_line_path(scale.x(x), scale.y(y))}"/>'
        )
    for tick, text in zip(y_ticks, y_labels, strict=True):
        parts.append(
            f'<text class="tick" x="{box[0] - 8}" y="{scale.y1d(tick)}" text-anchor="end" '
            f'dominant-baseline="middle">{text}</text>'
        )
    for tick, text in zip(x_ticks, x_labels, strict=True):
        parts.append(
            f'<text class="tick" x="{scale.x1d(tick)}" y="{box[3] + 8}" text-anchor="middle" '
            f'dominant-baseline="hanging">{text}</text>'
        )
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
