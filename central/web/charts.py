"""Server-rendered SVG charts for the central QA dashboard.

Why plain SVG strings built here: central may run on a closed network, so
the pages ship no chart library and load nothing from the internet; the
browser only draws what the server computed, and a page works without any
JavaScript. The output is deterministic (the same input gives the same
bytes: no randomness, no clock, fixed number formats), every piece of text
is escaped, and colours are presentation attributes, so a chart looks the
same on any page that embeds it, whatever its stylesheet.

Every function returns one `<svg role="img">` as `Markup`, with `<title>`
and `<desc>` for screen readers, and takes a `chart_id` that must be unique
within the page (the ids of those two elements derive from it, and tests
and scripts find the chart by it). Inputs are plain sequences and the
frozen results of `central.spc`; nothing here queries or computes
statistics.

- `line_chart`: time series (one or more lines, optional confidence
  whiskers, horizontal reference lines, marked points with tooltips).
- `control_chart` / `imr_charts`: individuals and moving-range charts with
  centre and limit lines; points failing Nelson tests are circled, labelled
  with their lowest test number (as Minitab does), list every failed test in
  a `<title>` tooltip, and the tests present are explained in a legend.
- `cusum_chart`, `ewma_chart`: small drift charts.
- `stacked_bars`: e.g. pass / warning / fail rate per day.
- `histogram`: e.g. where along the travel failing points lie.
- `box_plots`: distributions side by side with a strip of values and the mean.
- `message_chart`: a chart-sized box saying why there is no chart.

Coordinates are in viewBox units (default 960 wide) rounded to 0.1; the
page scales the SVG to its column with CSS (`width: 100%`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import numpy.typing as npt
from markupsafe import Markup, escape

from central.spc.control import TEST_DESCRIPTIONS, IndividualsChart
from central.spc.drift import Cusum, Ewma
from shared.plot import format_number, nice_step, nice_ticks, tick_label

FloatArray = npt.NDArray[np.float64]

WIDTH = 960
HEIGHT = 250
FONT = 13
SMALL_FONT = 11
CHAR_WIDTH = 7.4  # average advance of a FONT-sized digit, for sizing the left margin
SMALL_CHAR_WIDTH = 6.3
PAD_TOP = 14
PAD_RIGHT = 16
PAD_BOTTOM = 38
LEGEND_LINE = 17
DOT = 3.2  # diameter of an ordinary data point
MAX_DOTS = 600  # more points than this on one chart touch each other: the line alone shows them
MARK_RADIUS = 5.5
Y_TICKS = 5
X_TICKS = 8

# A white outline behind a label keeps it legible where it crosses the data.
HALO = ' stroke="#ffffff" stroke-width="3" paint-order="stroke"'

# One palette for every chart; verdict colours match dashboard.css.
INK = "#1b2230"
MUTED = "#5f6b7c"
GRID = "#e6e9ef"
FRAME = "#c3cad5"
LINE = "#1d4ed8"
SECOND_LINE = "#7c3aed"
CENTRE = "#15803d"
LIMIT = "#b91c1c"
SPEC = "#b45309"
VIOLATION = "#dc2626"
GREEN = "#16a34a"
AMBER = "#f59e0b"
RED = "#dc2626"
BAR = "#2563eb"
BOX_FILL = "#dbe7ff"
STRIP = "#1d4ed8"
MEAN = "#b45309"

#: The Nelson tests in a few words, for tooltips (the legend has TEST_DESCRIPTIONS).
SHORT_TEST_NAMES: Mapping[int, str] = MappingProxyType(
    {
        1: "beyond 3 sigma",
        2: "9 on one side",
        3: "6 rising or falling",
        4: "14 alternating",
        5: "2 of 3 beyond 2 sigma",
        6: "4 of 5 beyond 1 sigma",
        7: "15 within 1 sigma",
        8: "8 beyond 1 sigma",
    }
)

#: Colours the callers may name for a segment or a line.
COLOURS: Mapping[str, str] = {
    "pass": GREEN,
    "warning": AMBER,
    "fail": RED,
    "line": LINE,
    "second": SECOND_LINE,
    "centre": CENTRE,
    "limit": LIMIT,
    "spec": SPEC,
    "muted": MUTED,
    "bar": BAR,
}


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class RefLine:
    """A horizontal line across the plot: a centre line, a control limit, a spec limit.

    kind: "centre" (solid green), "limit" (dashed red), "spec" (dashed amber)
    or "ref" (dotted grey). The label is drawn at the right end, with the value.
    """

    value: float
    label: str
    kind: str = "ref"


@dataclass(frozen=True)
class Mark:
    """A point to circle, with the tooltip that says why (its index in the series)."""

    index: int
    tooltip: str
    label: str = ""  # a short text drawn above the circle, e.g. the test number
    href: str = ""  # where a click on the mark leads (e.g. the unit's page)


@dataclass(frozen=True)
class Series:
    """One line of a line chart; NaN values leave a gap.

    low/high: optional whiskers (e.g. a confidence interval) at each point.
    """

    name: str
    values: Sequence[float]
    colour: str = "line"
    low: Sequence[float] | None = None
    high: Sequence[float] | None = None
    dots: bool = True


@dataclass(frozen=True)
class Segment:
    """One layer of a stacked bar chart: its value in every bar."""

    name: str
    values: Sequence[float]
    colour: str


@dataclass(frozen=True)
class Box:
    """One group's distribution as a box plot draws it.

    low/high are the whisker ends (the dashboard uses the 5th and 95th
    percentiles); `points` are values drawn as a strip over the box.
    """

    name: str
    n: int
    q1: float | None
    median: float | None
    q3: float | None
    low: float | None
    high: float | None
    mean: float | None
    minimum: float | None = None
    maximum: float | None = None
    points: Sequence[float] = field(default=())


# --------------------------------------------------------------------------- primitives


def _f(value: float) -> str:
    """A coordinate rounded to 0.1 viewBox unit (well under a pixel), never '-0.0'."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def _count(value: float) -> str:
    """A count as written ("12"), any other value with 6 significant digits."""
    return str(int(value)) if float(value).is_integer() else format_number(value, 6)


def _plain(text: str) -> str:
    """Escaped text as a plain str: adding a Markup to a str would escape the str instead."""
    return str(escape(text))


def _colour(name: str) -> str:
    return COLOURS.get(name, name if name.startswith("#") else LINE)


def _finite(values: Sequence[float] | FloatArray) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    return array[np.isfinite(array)]


def _text(
    x: float,
    y: float,
    content: str,
    *,
    size: int = FONT,
    anchor: str = "start",
    colour: str = MUTED,
    extra: str = "",
) -> str:
    return (
        f'<text x="{_f(x)}" y="{_f(y)}" font-size="{size}" fill="{colour}" '
        f'text-anchor="{anchor}"{extra}>{escape(content)}</text>'
    )


def _svg(
    chart_id: str, title: str, desc: str, width: int, height: int, body: list[str], kind: str
) -> Markup:
    cid = escape(chart_id)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{escape(kind)}" '
        f'id="{cid}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{cid}-title {cid}-desc" '
        'font-family="Segoe UI, DejaVu Sans, Liberation Sans, Arial, sans-serif">'
        f'<title id="{cid}-title">{escape(title)}</title>'
        f'<desc id="{cid}-desc">{escape(desc)}</desc>'
    )
    # Safe: every piece of text above and in `body` went through escape(); the rest is
    # markup and numbers this module formats itself.
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704


def message_chart(
    chart_id: str, title: str, message: str, *, width: int = WIDTH, height: int = 120
) -> Markup:
    """A chart-sized box with a sentence instead of a chart (too few units, no data)."""
    body = [
        f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" fill="#f8fafc" '
        f'stroke="{FRAME}" rx="4"/>',
        _text(width / 2, height / 2 + 4, message, anchor="middle", extra=' class="c-message"'),
    ]
    return _svg(chart_id, title, message, width, height, body, "empty")


class _Frame:
    """The plot rectangle and the linear maps from data to viewBox units (y grows down)."""

    def __init__(
        self,
        width: int,
        height: int,
        left: float,
        bottom_pad: float,
        x_range: tuple[float, float],
        y_range: tuple[float, float],
    ) -> None:
        self.width, self.height = width, height
        self.left, self.right = left, width - PAD_RIGHT
        self.top, self.bottom = PAD_TOP, height - bottom_pad
        self.x0, self.x1 = x_range
        self.y0, self.y1 = y_range
        self.kx = (self.right - self.left) / ((self.x1 - self.x0) or 1.0)
        self.ky = (self.bottom - self.top) / ((self.y1 - self.y0) or 1.0)

    def x(self, value: float) -> float:
        return self.left + (value - self.x0) * self.kx

    def y(self, value: float) -> float:
        clamped = min(max(value, self.y0), self.y1)
        return self.bottom - (clamped - self.y0) * self.ky

    def xs(self, values: FloatArray) -> FloatArray:
        return self.left + (values - self.x0) * self.kx

    def ys(self, values: FloatArray) -> FloatArray:
        return self.bottom - (np.clip(values, self.y0, self.y1) - self.y0) * self.ky


def _y_range(
    values: FloatArray, refs: Sequence[float] = (), floor: float | None = None
) -> tuple[float, float]:
    """The data's and the reference lines' range with a 6 % margin; flat data gets height."""
    found = np.concatenate([_finite(values), _finite(np.asarray(refs, dtype=np.float64))])
    if found.size == 0:
        return (0.0, 1.0)
    low, high = float(found.min()), float(found.max())
    span = high - low
    if span <= 0:
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
    else:
        low, high = low - 0.06 * span, high + 0.06 * span
    if floor is not None and low < floor <= float(found.min()):
        low = floor
    return low, high


def _ticks(low: float, high: float, target: int) -> tuple[list[float], float]:
    """Round tick values inside [low, high] and their step (for the labels' decimals).

    A narrow range may hold only one round value at the usual density; then
    ticks are asked for three times as densely, so the axis always has a scale.
    """
    for density in (target, 3 * target):
        ticks = nice_ticks(low, high, density)
        if len(ticks) >= 2:
            return ticks, ticks[1] - ticks[0]
    span = high - low
    return ticks, nice_step(span, 3 * target) if span > 0 else 1.0


def _left_margin(ticks: list[float], step: float) -> float:
    longest = max((len(tick_label(t, step)) for t in ticks), default=1)
    return 16 + longest * CHAR_WIDTH


def _y_axis(frame: _Frame, ticks: list[float], step: float, label: str) -> list[str]:
    parts = []
    for tick in ticks:
        y = frame.y(tick)
        parts.append(
            f'<line x1="{_f(frame.left)}" x2="{_f(frame.right)}" y1="{_f(y)}" y2="{_f(y)}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        parts.append(_text(frame.left - 6, y + 4, tick_label(tick, step), anchor="end"))
    if label:
        parts.append(_text(frame.left, frame.top - 3, label, size=SMALL_FONT))
    return parts


def _frame_box(frame: _Frame) -> str:
    return (
        f'<rect x="{_f(frame.left)}" y="{_f(frame.top)}" width="{_f(frame.right - frame.left)}" '
        f'height="{_f(frame.bottom - frame.top)}" fill="none" stroke="{FRAME}"/>'
    )


def _index_ticks(count: int, target: int = X_TICKS) -> list[int]:
    """Whole-number positions 0..count-1 for x ticks (shown 1-based), evenly rounded."""
    if count <= 1:
        return [0] if count else []
    ticks = [int(t) for t in nice_ticks(1, count, target) if float(t).is_integer() and t >= 1]
    return [t - 1 for t in ticks] or [0, count - 1]


def _x_axis_index(frame: _Frame, count: int, labels: Sequence[str] | None, title: str) -> list[str]:
    """Ticks along a series in production order: unit numbers, or the caller's labels."""
    parts = []
    for index in _index_ticks(count):
        x = frame.x(index)
        text = labels[index] if labels is not None and index < len(labels) else str(index + 1)
        parts.append(
            f'<line x1="{_f(x)}" x2="{_f(x)}" y1="{_f(frame.bottom)}" '
            f'y2="{_f(frame.bottom + 4)}" stroke="{FRAME}"/>'
        )
        half = len(text) * SMALL_CHAR_WIDTH / 2
        anchor = "end" if x + half > frame.width else "start" if x - half < 0 else "middle"
        parts.append(_text(x, frame.bottom + 17, text, anchor=anchor, size=SMALL_FONT))
    if title:
        parts.append(_text(frame.right, frame.bottom + 32, title, anchor="end", size=SMALL_FONT))
    return parts


_REF_STYLE = {
    "centre": (CENTRE, ""),
    "limit": (LIMIT, ' stroke-dasharray="6 4"'),
    "spec": (SPEC, ' stroke-dasharray="2 3"'),
    "ref": (MUTED, ' stroke-dasharray="1 3"'),
}


def _ref_lines(frame: _Frame, refs: Sequence[RefLine]) -> list[str]:
    parts = []
    for ref in refs:
        if not math.isfinite(ref.value):
            continue
        colour, dash = _REF_STYLE.get(ref.kind, _REF_STYLE["ref"])
        y = frame.y(ref.value)
        parts.append(
            f'<line class="c-ref c-ref-{escape(ref.kind)}" x1="{_f(frame.left)}" '
            f'x2="{_f(frame.right)}" y1="{_f(y)}" y2="{_f(y)}" stroke="{colour}" '
            f'stroke-width="1.4"{dash}><title>{escape(ref.label)} '
            f"{escape(format_number(ref.value, 4))}</title></line>"
        )
        parts.append(
            _text(
                frame.right - 4,
                y - 4,
                f"{ref.label} {format_number(ref.value, 3)}",
                anchor="end",
                size=SMALL_FONT,
                colour=colour,
                extra=HALO,
            )
        )
    return parts


def _pairs(xs: FloatArray, ys: FloatArray) -> list[str]:
    """Each point as "x y", rounded to 0.1 (points inside the viewBox: never "-0.0")."""
    # %-formatting a tuple is several times faster than an f-string per coordinate.
    return ["%.1f %.1f" % pair for pair in zip(xs.tolist(), ys.tolist(), strict=True)]  # noqa: UP031


def _polyline(xs: FloatArray, ys: FloatArray) -> str:
    """A path through the points; a non-finite value ends one stretch and starts the next."""
    ok = np.flatnonzero(np.isfinite(xs) & np.isfinite(ys))
    if ok.size == 0:
        return ""
    starts = np.flatnonzero(np.diff(ok) > 1) + 1
    return "".join(_run(xs[run], ys[run]) for run in np.split(ok, starts) if run.size)


def _run(xs: FloatArray, ys: FloatArray) -> str:
    """One unbroken stretch; points inside a flat stretch (same rounded y as both
    neighbours, e.g. a CUSUM resting at 0 or an EWMA limit once it has settled)
    are left out, since the line through their neighbours draws them exactly."""
    y = np.round(ys, 1)
    keep = np.ones(y.size, dtype=np.bool_)
    if y.size > 2:
        keep[1:-1] = (y[1:-1] != y[:-2]) | (y[1:-1] != y[2:])
    return "M" + "L".join(_pairs(xs[keep], ys[keep]))


def _dots(xs: FloatArray, ys: FloatArray) -> str:
    """Every point as a zero-length stroke with round caps: one element for a thousand dots."""
    ok = np.isfinite(xs) & np.isfinite(ys)
    pairs = _pairs(xs[ok], ys[ok])
    return "M" + "h0M".join(pairs) + "h0" if pairs else ""


def _line(d: str, colour: str, width: float = 1.3, cls: str = "c-line", extra: str = "") -> str:
    if not d:
        return ""
    return (
        f'<path class="{cls}" d="{d}" fill="none" stroke="{colour}" '
        f'stroke-width="{width}" stroke-linejoin="round"{extra}/>'
    )


def _dot_path(d: str, colour: str, size: float = DOT, cls: str = "c-dots") -> str:
    if not d:
        return ""
    return (
        f'<path class="{cls}" d="{d}" fill="none" stroke="{colour}" '
        f'stroke-width="{size}" stroke-linecap="round"/>'
    )


def _legend(items: Sequence[tuple[str, str]], x: float, y: float) -> list[str]:
    """A row of colour swatches with names, left to right from (x, y)."""
    parts = []
    for colour, name in items:
        parts.append(
            f'<rect x="{_f(x)}" y="{_f(y - 9)}" width="10" height="10" fill="{colour}" rx="2"/>'
        )
        parts.append(_text(x + 14, y, name, size=SMALL_FONT, colour=INK, extra=HALO))
        x += 14 + len(name) * 6.4 + 16
    return parts


# --------------------------------------------------------------------------- line charts


def _marks(frame: _Frame, values: FloatArray, marks: Sequence[Mark]) -> list[str]:
    """Circled points with their tooltips; the shared style sits on one group, so a
    chart with hundreds of marked points stays small."""
    parts = []
    for mark in sorted(marks, key=lambda m: m.index):
        if not 0 <= mark.index < values.size or not math.isfinite(values[mark.index]):
            continue
        x, y = frame.x(mark.index), frame.y(float(values[mark.index]))
        label = (
            f'<text x="{_f(x)}" y="{_f(y - MARK_RADIUS - 3)}" stroke="none">'
            f"{escape(mark.label)}</text>"
            if mark.label
            else ""
        )
        shape = (
            f'<g class="c-mark" data-index="{mark.index}"><title>{escape(mark.tooltip)}</title>'
            f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{MARK_RADIUS}" fill-opacity="0.25"/>{label}</g>'
        )
        if mark.href:
            shape = f'<a href="{escape(mark.href)}">{shape}</a>'
        parts.append(shape)
    if not parts:
        return []
    return [
        f'<g class="c-marks" fill="{VIOLATION}" stroke="{VIOLATION}" stroke-width="1.6" '
        f'font-size="{SMALL_FONT}" font-weight="700" text-anchor="middle">',
        *parts,
        "</g>",
    ]


def line_chart(
    chart_id: str,
    title: str,
    series: Sequence[Series],
    *,
    x_labels: Sequence[str] | None = None,
    x_title: str = "",
    y_label: str = "",
    refs: Sequence[RefLine] = (),
    marks: Sequence[Mark] = (),
    y_floor: float | None = None,
    width: int = WIDTH,
    height: int = HEIGHT,
    desc: str = "",
) -> Markup:
    """Lines over a common x axis (point index; `x_labels` name the ticks).

    `marks` are circled on the first series with their tooltip. `y_floor`
    keeps the axis from dipping below a natural bound (0 for a rate).
    """
    count = max((len(s.values) for s in series), default=0)
    if count == 0:
        return message_chart(chart_id, title, "No data in this selection.", width=width)
    arrays = [np.asarray(s.values, dtype=np.float64) for s in series]
    whiskers = [
        np.asarray(v, dtype=np.float64)
        for s in series
        for v in (s.low, s.high)
        if v is not None and len(v)
    ]
    low, high = _y_range(np.concatenate([*arrays, *whiskers]), [r.value for r in refs], y_floor)
    ticks, step = _ticks(low, high, Y_TICKS)
    legend = len(series) > 1
    frame = _Frame(
        width, height, _left_margin(ticks, step), PAD_BOTTOM, (-0.5, count - 0.5), (low, high)
    )
    body = [*_y_axis(frame, ticks, step, y_label), _frame_box(frame)]
    body += _x_axis_index(frame, count, x_labels, x_title)
    body += _ref_lines(frame, refs)
    for s, values in zip(series, arrays, strict=True):
        colour = _colour(s.colour)
        xs = frame.xs(np.arange(values.size, dtype=np.float64))
        ys = frame.ys(values)
        ys[~np.isfinite(values)] = np.nan
        if s.low is not None and s.high is not None:
            body.append(_whiskers(frame, xs, values, s.low, s.high, colour))
        body.append(_line(_polyline(xs, ys), colour, extra=f' data-series="{escape(s.name)}"'))
        if s.dots and values.size <= MAX_DOTS:
            body.append(_dot_path(_dots(xs, ys), colour))
    if marks:
        body += _marks(frame, arrays[0], marks)
    if legend:
        body += _legend([(_colour(s.colour), s.name) for s in series], frame.left + 6, PAD_TOP + 14)
    summary = desc or f"{len(series)} series of {count} points."
    return _svg(chart_id, title, summary, width, height, body, "line")


def _whiskers(
    frame: _Frame,
    xs: FloatArray,
    values: FloatArray,
    low: Sequence[float],
    high: Sequence[float],
    colour: str,
) -> str:
    """Vertical bars from low to high at each point that has a value and both ends."""
    parts = []
    for x, v, a, b in zip(xs.tolist(), values.tolist(), low, high, strict=False):
        if math.isfinite(v) and math.isfinite(a) and math.isfinite(b):
            parts.append(f"M{_f(x)} {_f(frame.y(a))}V{_f(frame.y(b))}")
    if not parts:
        return ""
    return (
        f'<path class="c-whiskers" d="{"".join(parts)}" stroke="{colour}" '
        'stroke-opacity="0.45" stroke-width="5" stroke-linecap="butt" fill="none"/>'
    )


# --------------------------------------------------------------------------- control charts


def _violation_legend(
    tests: Sequence[int], descriptions: Mapping[int, str], frame: _Frame
) -> list[str]:
    parts = []
    y = frame.bottom + PAD_BOTTOM
    for test in tests:
        parts.append(
            f'<g class="c-legend-test" data-test="{test}">'
            f'<circle cx="{_f(frame.left + 6)}" cy="{_f(y - 4)}" r="4.5" fill="{VIOLATION}" '
            f'fill-opacity="0.25" stroke="{VIOLATION}"/>'
            + _text(
                frame.left + 16,
                y,
                f"Test {test}: {descriptions.get(test, '')}",
                size=SMALL_FONT,
                colour=INK,
            )
            + "</g>"
        )
        y += LEGEND_LINE
    return parts


def control_chart(
    chart_id: str,
    title: str,
    values: Sequence[float] | FloatArray,
    *,
    centre: float,
    ucl: float,
    lcl: float | None,
    violations: Mapping[int, Sequence[int]] | None = None,
    descriptions: Mapping[int, str] = TEST_DESCRIPTIONS,
    short_names: Mapping[int, str] = SHORT_TEST_NAMES,
    point_labels: Sequence[str] | None = None,
    point_links: Sequence[str] | None = None,
    x_labels: Sequence[str] | None = None,
    y_label: str = "",
    extra_refs: Sequence[RefLine] = (),
    width: int = WIDTH,
    height: int = HEIGHT,
    value_name: str = "value",
) -> Markup:
    """A control chart: the points in production order, centre line, UCL/LCL, violations.

    violations: point index -> the test numbers it fails (lowest first). Each
    such point is circled, labelled with its lowest test, and its tooltip
    names the unit (`point_labels[i]`), its value and every test it fails
    (`short_names`); a legend under the plot explains the tests that occur
    (`descriptions`). `point_links[i]` makes a marked point a link.
    """
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return message_chart(chart_id, title, "No units in this selection.", width=width)
    failed = dict(sorted((violations or {}).items()))
    tests_present = sorted({t for tests in failed.values() for t in tests})
    refs = [
        RefLine(centre, "CL", "centre"),
        RefLine(ucl, "UCL", "limit"),
        *([RefLine(lcl, "LCL", "limit")] if lcl is not None else []),
        *extra_refs,
    ]
    low, high = _y_range(x, [r.value for r in refs])
    ticks, step = _ticks(low, high, Y_TICKS)
    total_height = height + LEGEND_LINE * len(tests_present)
    frame = _Frame(
        width,
        total_height,
        _left_margin(ticks, step),
        PAD_BOTTOM + LEGEND_LINE * len(tests_present),
        (-0.5, x.size - 0.5),
        (low, high),
    )
    body = [*_y_axis(frame, ticks, step, y_label), _frame_box(frame)]
    body += _x_axis_index(frame, x.size, x_labels, "unit, in production order")
    body += _ref_lines(frame, refs)
    xs = frame.xs(np.arange(x.size, dtype=np.float64))
    ys = frame.ys(x)
    body.append(_line(_polyline(xs, ys), LINE, width=1.0))
    if x.size <= MAX_DOTS:
        body.append(_dot_path(_dots(xs, ys), LINE))
    marks = []
    for index, tests in failed.items():
        unit = point_labels[index] if point_labels is not None and index < len(point_labels) else ""
        named = ", ".join(f"test {t} ({short_names.get(t, '')})" for t in tests)
        head = f"Unit {index + 1}" + (f" ({unit})" if unit else "")
        tooltip = f"{head}: {value_name} {format_number(float(x[index]), 4)}. Fails {named}"
        link = point_links[index] if point_links is not None and index < len(point_links) else ""
        marks.append(Mark(index, tooltip, str(tests[0]), link))
    body += _marks(frame, x, marks)
    body += _violation_legend(tests_present, descriptions, frame)
    out_of_control = len(failed)
    desc = (
        f"{x.size} units; centre {format_number(centre, 4)}, UCL {format_number(ucl, 4)}"
        + (f", LCL {format_number(lcl, 4)}" if lcl is not None else "")
        + f"; {out_of_control} point(s) fail a selected test"
        + (f" (tests {', '.join(map(str, tests_present))})." if tests_present else ".")
    )
    return _svg(chart_id, title, desc, width, total_height, body, "control")


def imr_charts(
    chart_id: str,
    title: str,
    chart: IndividualsChart,
    *,
    point_labels: Sequence[str] | None = None,
    point_links: Sequence[str] | None = None,
    x_labels: Sequence[str] | None = None,
    y_label: str = "",
    value_name: str = "value",
    extra_refs: Sequence[RefLine] = (),
) -> tuple[Markup, Markup]:
    """The individuals chart and the moving-range chart of one `spc.control.imr_chart`.

    The moving range of points j and j+1 is drawn at point j+1 (the first
    point has none); a range above the MR chart's UCL fails its test 1.
    """
    individuals = control_chart(
        f"{chart_id}-i",
        f"{title}: individuals",
        chart.values,
        centre=chart.limits.centre,
        ucl=chart.limits.ucl,
        lcl=chart.limits.lcl,
        violations=chart.violations.by_point,
        point_labels=point_labels,
        point_links=point_links,
        x_labels=x_labels,
        y_label=y_label,
        value_name=value_name,
        extra_refs=extra_refs,
    )
    ranges = np.concatenate(([np.nan], chart.moving_ranges))
    mr = control_chart(
        f"{chart_id}-mr",
        f"{title}: moving range",
        ranges,
        centre=chart.mr_limits.centre,
        ucl=chart.mr_limits.ucl,
        lcl=None,
        violations={i: (1,) for i in chart.mr_violations},
        descriptions={1: "moving range above the MR chart's upper control limit"},
        short_names={1: "above the MR chart's limit"},
        point_labels=point_labels,
        point_links=point_links,
        x_labels=x_labels,
        y_label=f"moving range {y_label}".strip(),
        value_name="moving range",
        height=190,
    )
    return individuals, mr


# --------------------------------------------------------------------------- drift charts


def _first_alarm_mark(
    first: tuple[int, object] | None, point_labels: Sequence[str] | None, what: str
) -> list[Mark]:
    if first is None:
        return []
    index, direction = first
    unit = point_labels[index] if point_labels is not None and index < len(point_labels) else ""
    tooltip = f"First {what} alarm ({direction}) at unit {index + 1}" + (
        f" ({unit})" if unit else ""
    )
    return [Mark(index, tooltip, "!")]


def _alarm_dots(frame: _Frame, values: FloatArray, indices: Sequence[int]) -> str:
    if not indices:
        return ""
    picked = np.asarray(indices, dtype=np.intp)
    return _dot_path(
        _dots(frame.xs(picked.astype(np.float64)), frame.ys(values[picked])),
        VIOLATION,
        size=DOT + 1.2,
        cls="c-alarm",
    )


def cusum_chart(
    chart_id: str,
    title: str,
    cusum: Cusum,
    *,
    point_labels: Sequence[str] | None = None,
    width: int = 470,
    height: int = 200,
) -> Markup:
    """C+ above zero and C- mirrored below it, against the decision interval +/-H."""
    upper = np.asarray(cusum.upper)
    lower = -np.asarray(cusum.lower)
    h = cusum.decision_interval
    low, high = _y_range(np.concatenate([upper, lower]), [h, -h, 0.0])
    ticks, step = _ticks(low, high, 4)
    frame = _Frame(
        width, height, _left_margin(ticks, step), PAD_BOTTOM, (-0.5, upper.size - 0.5), (low, high)
    )
    body = [*_y_axis(frame, ticks, step, ""), _frame_box(frame)]
    body += _x_axis_index(frame, upper.size, None, "unit")
    body += _ref_lines(frame, [RefLine(h, "H", "limit"), RefLine(-h, "-H", "limit")])
    xs = frame.xs(np.arange(upper.size, dtype=np.float64))
    body.append(_line(_polyline(xs, frame.ys(upper)), LINE, extra=' data-series="C+"'))
    body.append(_line(_polyline(xs, frame.ys(lower)), SECOND_LINE, extra=' data-series="C-"'))
    body.append(_alarm_dots(frame, upper, cusum.alarms_up))
    body.append(_alarm_dots(frame, lower, cusum.alarms_down))
    mark_values = upper if cusum.first_alarm and cusum.first_alarm[1] == "up" else lower
    body += _marks(frame, mark_values, _first_alarm_mark(cusum.first_alarm, point_labels, "CUSUM"))
    body += _legend([(LINE, "C+ (up)"), (SECOND_LINE, "C- (down)")], frame.left + 6, PAD_TOP + 14)
    desc = (
        f"CUSUM of {upper.size} units against baseline mean "
        f"{format_number(cusum.baseline.mean, 4)}, H = {format_number(h, 3)}; "
        f"{len(cusum.alarms_up)} point(s) in alarm upwards, {len(cusum.alarms_down)} downwards."
    )
    return _svg(chart_id, title, desc, width, height, body, "cusum")


def ewma_chart(
    chart_id: str,
    title: str,
    ewma: Ewma,
    *,
    point_labels: Sequence[str] | None = None,
    width: int = 470,
    height: int = 200,
) -> Markup:
    """The EWMA statistic with its exact time-varying limits around the baseline mean."""
    z = np.asarray(ewma.statistic)
    ucl, lcl = np.asarray(ewma.ucl), np.asarray(ewma.lcl)
    low, high = _y_range(np.concatenate([z, ucl, lcl]), [ewma.baseline.mean])
    ticks, step = _ticks(low, high, 4)
    frame = _Frame(
        width, height, _left_margin(ticks, step), PAD_BOTTOM, (-0.5, z.size - 0.5), (low, high)
    )
    body = [*_y_axis(frame, ticks, step, ""), _frame_box(frame)]
    body += _x_axis_index(frame, z.size, None, "unit")
    body += _ref_lines(frame, [RefLine(ewma.baseline.mean, "mean", "centre")])
    xs = frame.xs(np.arange(z.size, dtype=np.float64))
    dash = ' stroke-dasharray="6 4"'
    body.append(_line(_polyline(xs, frame.ys(ucl)), LIMIT, cls="c-limit", extra=dash))
    body.append(_line(_polyline(xs, frame.ys(lcl)), LIMIT, cls="c-limit", extra=dash))
    body.append(_line(_polyline(xs, frame.ys(z)), LINE, extra=' data-series="EWMA"'))
    body.append(_alarm_dots(frame, z, (*ewma.alarms_up, *ewma.alarms_down)))
    body += _marks(frame, z, _first_alarm_mark(ewma.first_alarm, point_labels, "EWMA"))
    desc = (
        f"EWMA (lambda {format_number(ewma.lam, 2)}) of {z.size} units around "
        f"{format_number(ewma.baseline.mean, 4)}; "
        f"{len(ewma.alarms_up) + len(ewma.alarms_down)} point(s) outside the limits."
    )
    return _svg(chart_id, title, desc, width, height, body, "ewma")


# --------------------------------------------------------------------------- bars


def _label_every(count: int, room: float, label_width: float) -> int:
    """Label every n-th category so the labels do not overlap."""
    return max(1, math.ceil(count * label_width / max(room, 1.0)))


def stacked_bars(
    chart_id: str,
    title: str,
    categories: Sequence[str],
    segments: Sequence[Segment],
    *,
    percent: bool = True,
    tooltips: Sequence[str] | None = None,
    y_label: str = "",
    width: int = WIDTH,
    height: int = 200,
) -> Markup:
    """One bar per category, segments stacked bottom-up in the order given.

    percent: each bar is scaled to 100 % of its own total (a rate over time
    keeps its meaning on days with few units); a bar whose total is 0 is
    left empty. tooltips[i] is the whole bar's `<title>`.
    """
    count = len(categories)
    if count == 0 or not segments:
        return message_chart(chart_id, title, "No units in this selection.", width=width)
    table = np.array([np.asarray(s.values, dtype=np.float64)[:count] for s in segments])
    totals = table.sum(axis=0)
    if percent:
        with np.errstate(invalid="ignore", divide="ignore"):
            heights = np.where(totals > 0, table / np.where(totals > 0, totals, 1) * 100, 0)
        top_value = 100.0
    else:
        heights = table
        top_value = float(totals.max()) if totals.size and totals.max() > 0 else 1.0
    ticks, step = _ticks(0.0, top_value, 4)
    frame = _Frame(
        width, height, _left_margin(ticks, step), PAD_BOTTOM, (0, count), (0.0, top_value)
    )
    body = [*_y_axis(frame, ticks, step, y_label or ("%" if percent else ""))]
    slot = (frame.right - frame.left) / count
    bar = max(1.0, slot * 0.8)
    every = _label_every(count, frame.right - frame.left, 62)
    for i, category in enumerate(categories):
        x = frame.x(i) + (slot - bar) / 2
        base = 0.0
        rects = []
        for s, row in zip(segments, heights, strict=True):
            value = float(row[i])
            if value <= 0:
                continue
            y_top, y_bottom = frame.y(base + value), frame.y(base)
            rects.append(
                f'<rect class="c-seg" data-segment="{escape(s.name)}" x="{_f(x)}" '
                f'y="{_f(y_top)}" width="{_f(bar)}" height="{_f(y_bottom - y_top)}" '
                f'fill="{_colour(s.colour)}"/>'
            )
            base += value
        tip = tooltips[i] if tooltips is not None and i < len(tooltips) else category
        body.append(
            f'<g class="c-bar" data-category="{escape(category)}"><title>{escape(tip)}</title>'
            + "".join(rects)
            + "</g>"
        )
        if i % every == 0:
            body.append(
                _text(
                    frame.x(i) + slot / 2,
                    frame.bottom + 16,
                    category,
                    size=SMALL_FONT,
                    anchor="middle",
                )
            )
    body.append(_frame_box(frame))
    body += _legend([(_colour(s.colour), s.name) for s in segments], frame.left, height - 6)
    desc = f"{count} bars, each stacked from {', '.join(s.name for s in segments)}."
    return _svg(chart_id, title, desc, width, height, body, "bars")


def histogram(
    chart_id: str,
    title: str,
    counts: Sequence[int] | Sequence[float],
    edges: Sequence[float],
    *,
    x_title: str = "",
    y_label: str = "",
    edge_format: Callable[[float], str] = lambda v: format_number(v, 3),
    bar_tooltips: Sequence[str] | None = None,
    width: int = WIDTH,
    height: int = 220,
) -> Markup:
    """Bars over consecutive intervals [edges[i], edges[i+1]) of the x axis."""
    values = np.asarray(counts, dtype=np.float64)
    if values.size == 0 or len(edges) != values.size + 1:
        return message_chart(chart_id, title, "No data in this selection.", width=width)
    top_value = float(values.max()) if values.max() > 0 else 1.0
    ticks, step = _ticks(0.0, top_value, 4)
    frame = _Frame(
        width,
        height,
        _left_margin(ticks, step),
        PAD_BOTTOM,
        (float(edges[0]), float(edges[-1])),
        (0.0, top_value * 1.05),
    )
    body = [*_y_axis(frame, ticks, step, y_label)]
    every = _label_every(len(edges), frame.right - frame.left, 44)
    for i, value in enumerate(values.tolist()):
        x0, x1 = frame.x(float(edges[i])), frame.x(float(edges[i + 1]))
        y = frame.y(value)
        tip = (
            bar_tooltips[i]
            if bar_tooltips is not None and i < len(bar_tooltips)
            else f"{edge_format(edges[i])} to {edge_format(edges[i + 1])}: "
            f"{format_number(value, 4)}"
        )
        body.append(
            f'<g class="c-bin" data-bin="{i}" data-count="{_count(value)}">'
            f"<title>{escape(tip)}</title>"
            f'<rect x="{_f(x0 + 0.5)}" y="{_f(y)}" width="{_f(max(0.5, x1 - x0 - 1))}" '
            f'height="{_f(frame.bottom - y)}" fill="{BAR}"/></g>'
        )
    for i, edge in enumerate(edges):
        if i % every == 0 or i == len(edges) - 1:
            body.append(
                _text(
                    frame.x(float(edge)),
                    frame.bottom + 16,
                    edge_format(edge),
                    size=SMALL_FONT,
                    anchor="middle",
                )
            )
    if x_title:
        body.append(_text(frame.right, frame.bottom + 32, x_title, anchor="end", size=SMALL_FONT))
    body.append(_frame_box(frame))
    desc = f"{values.size} bins, {format_number(float(values.sum()), 6)} in all."
    return _svg(chart_id, title, desc, width, height, body, "histogram")


# --------------------------------------------------------------------------- box plots


def _jitter(count: int) -> FloatArray:
    """Spread offsets in [-0.5, 0.5) for a strip of points: deterministic, evenly filled.

    The fractional parts of i times the golden ratio fill the interval evenly
    without randomness, so a chart is the same on every request.
    """
    golden = (math.sqrt(5.0) - 1.0) / 2.0
    return (np.arange(count, dtype=np.float64) * golden) % 1.0 - 0.5


def box_plots(
    chart_id: str,
    title: str,
    boxes: Sequence[Box],
    *,
    y_label: str = "",
    refs: Sequence[RefLine] = (),
    value_format: Callable[[float | None], str] = lambda v: format_number(v, 3),
    width: int = WIDTH,
    height: int = 300,
) -> Markup:
    """Side-by-side box plots: box q1..q3, median line, whiskers low..high, mean diamond,
    and the group's `points` as a strip. The axis covers the whiskers, boxes, means,
    reference lines and each strip's 1st to 99th percentile; points beyond it are drawn
    at its edge (hollow) and counted in the box's tooltip, so one wild unit cannot
    flatten every box."""
    shown = [b for b in boxes if b.n > 0 and b.q1 is not None and b.q3 is not None]
    if not shown:
        return message_chart(chart_id, title, "No analysed units in this selection.", width=width)
    span_values = [
        v for b in shown for v in (b.low, b.high, b.q1, b.q3, b.mean, b.median) if v is not None
    ]
    for b in shown:  # the strip's own spread, but not its wildest 1 % at each end
        strip = _finite(b.points)
        if strip.size:
            span_values += [float(v) for v in np.percentile(strip, [1, 99])]
    low, high = _y_range(np.asarray(span_values, dtype=np.float64), [r.value for r in refs])
    ticks, step = _ticks(low, high, Y_TICKS)
    frame = _Frame(
        width, height, _left_margin(ticks, step), PAD_BOTTOM, (0, len(shown)), (low, high)
    )
    body = [*_y_axis(frame, ticks, step, y_label), _frame_box(frame)]
    body += _ref_lines(frame, refs)
    slot = (frame.right - frame.left) / len(shown)
    half = min(46.0, slot * 0.32)
    for i, b in enumerate(shown):
        body.append(_one_box(frame, b, frame.x(i) + slot / 2, half, value_format))
        body.append(
            _text(
                frame.x(i) + slot / 2,
                frame.bottom + 17,
                f"{b.name} (n={b.n})",
                size=SMALL_FONT,
                anchor="middle",
                colour=INK,
            )
        )
    body += _legend(
        [(BOX_FILL, "middle half (Q1 to Q3)"), (MEAN, "mean"), (STRIP, "units")],
        frame.left,
        height - 6,
    )
    desc = "; ".join(
        f"{b.name}: n {b.n}, mean {value_format(b.mean)}, median {value_format(b.median)}"
        for b in shown
    )
    return _svg(chart_id, title, desc, width, height, body, "boxes")


def _one_box(
    frame: _Frame, b: Box, centre: float, half: float, value_format: Callable[[float | None], str]
) -> str:
    """One group's box, whiskers, median, strip and mean (a box without quartiles is skipped)."""
    if b.q1 is None or b.q3 is None:
        return ""
    points = np.asarray(b.points, dtype=np.float64)
    points = points[np.isfinite(points)]
    outside = (points < frame.y0) | (points > frame.y1)
    xs = centre + _jitter(points.size) * half * 1.6
    ys = frame.ys(points)
    y1, y3 = frame.y(b.q1), frame.y(b.q3)
    parts = [
        f'<g class="c-box" data-group="{escape(b.name)}"><title>'
        + _plain(
            f"{b.name}: {b.n} units; mean {value_format(b.mean)}, median "
            f"{value_format(b.median)}, middle half {value_format(b.q1)} to "
            f"{value_format(b.q3)}, whiskers {value_format(b.low)} to {value_format(b.high)}, "
            f"range {value_format(b.minimum)} to {value_format(b.maximum)}"
            + (f"; {int(outside.sum())} shown at the axis edge" if outside.any() else "")
        )
        + "</title>",
        f'<rect x="{_f(centre - half)}" y="{_f(y3)}" width="{_f(2 * half)}" '
        f'height="{_f(max(1.0, y1 - y3))}" fill="{BOX_FILL}" stroke="{LINE}"/>',
    ]
    if b.low is not None and b.high is not None:
        ylo, yhi = frame.y(b.low), frame.y(b.high)
        parts.append(
            f'<path class="c-whisker" d="M{_f(centre)} {_f(y1)}V{_f(ylo)}M{_f(centre - half / 2)} '
            f"{_f(ylo)}h{_f(half)}M{_f(centre)} {_f(y3)}V{_f(yhi)}M{_f(centre - half / 2)} "
            f'{_f(yhi)}h{_f(half)}" stroke="{LINE}" fill="none"/>'
        )
    if b.median is not None:
        ym = frame.y(b.median)
        parts.append(
            f'<line class="c-median" x1="{_f(centre - half)}" x2="{_f(centre + half)}" '
            f'y1="{_f(ym)}" y2="{_f(ym)}" stroke="{INK}" stroke-width="2"/>'
        )
    inside = ~outside
    parts.append(
        f'<path class="c-strip" d="{_dots(xs[inside], ys[inside])}" stroke="{STRIP}" '
        f'stroke-opacity="0.35" stroke-width="{DOT}" stroke-linecap="round" fill="none"/>'
        if inside.any()
        else ""
    )
    if outside.any():
        parts.append(
            "".join(
                f'<circle class="c-clamped" cx="{_f(x)}" cy="{_f(y)}" r="2.2" fill="none" '
                f'stroke="{STRIP}"/>'
                for x, y in zip(xs[outside].tolist(), ys[outside].tolist(), strict=True)
            )
        )
    if b.mean is not None:
        ym = frame.y(b.mean)
        parts.append(
            f'<path class="c-mean" d="M{_f(centre)} {_f(ym - 6)}l6 6l-6 6l-6 -6z" '
            f'fill="{MEAN}" stroke="#fff"><title>{escape(b.name)} mean '
            f"{escape(value_format(b.mean))}</title></path>"
        )
    parts.append("</g>")
    return "".join(parts)
