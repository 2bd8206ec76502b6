"""The dashboard charts' frame and furniture: axes with units, reference lines, legends,
circled marks, lines and dot strips.

Every dashboard chart (series, SPC, distributions) has the same plot rectangle,
labelled y axis, production-order x axis and labelled horizontal lines, so a centre
line or a legend looks alike on every chart of the model page.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from markupsafe import escape

from shared.charts import svg
from shared.charts.numbers import format_number
from shared.charts.palette import CENTRE, FRAME, GRID, INK, LIMIT, MUTED, SPEC, VIOLATION
from shared.charts.scale import (
    FloatArray,
    LinearScale,
    finite,
    nice_ticks,
    padded_range,
    tick_label,
)
from shared.charts.svg import HALO, SMALL_FONT, coord

WIDTH = 960
HEIGHT = 250
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


class Frame(LinearScale):
    """The plot rectangle of a dashboard chart of `width` x `height`: a fixed top and right
    margin, a left margin sized to the tick labels, a bottom one for the x axis (and any
    legend under it). A value beyond the y range is drawn at the frame's edge."""

    def __init__(
        self,
        width: int,
        height: int,
        left: float,
        bottom_pad: float,
        x_range: tuple[float, float],
        y_range: tuple[float, float],
    ) -> None:
        box = (left, PAD_TOP, width - PAD_RIGHT, height - bottom_pad)
        super().__init__(x_range, y_range, box, clamp_y=True)
        self.width, self.height = width, height


def y_range(
    values: FloatArray, refs: Sequence[float] = (), floor: float | None = None
) -> tuple[float, float]:
    """The data's and the reference lines' range with a 6 % margin; flat data gets height."""
    found = np.concatenate([finite(values), finite(np.asarray(refs, dtype=np.float64))])
    return padded_range(found, 0.06, flat_pad=1.0, empty=(0.0, 1.0), floor=floor)


def left_margin(ticks: list[float], step: float) -> float:
    """Room for the longest y tick label."""
    longest = max((len(tick_label(t, step)) for t in ticks), default=1)
    return 16 + longest * CHAR_WIDTH


def y_axis(frame: Frame, ticks: list[float], step: float, label: str) -> list[str]:
    parts = []
    for tick in ticks:
        y = frame.y(tick)
        parts.append(
            f'<line x1="{coord(frame.left)}" x2="{coord(frame.right)}" '
            f'y1="{coord(y)}" y2="{coord(y)}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        parts.append(svg.text(frame.left - 6, y + 4, tick_label(tick, step), anchor="end"))
    if label:
        parts.append(svg.text(frame.left, frame.top - 3, label, size=SMALL_FONT))
    return parts


def frame_box(frame: Frame) -> str:
    return (
        f'<rect x="{coord(frame.left)}" y="{coord(frame.top)}" '
        f'width="{coord(frame.right - frame.left)}" '
        f'height="{coord(frame.bottom - frame.top)}" fill="none" stroke="{FRAME}"/>'
    )


def index_ticks(count: int, target: int = X_TICKS) -> list[int]:
    """Whole-number positions 0..count-1 for x ticks (shown 1-based), evenly rounded."""
    if count <= 1:
        return [0] if count else []
    ticks = [int(t) for t in nice_ticks(1, count, target) if float(t).is_integer() and t >= 1]
    return [t - 1 for t in ticks] or [0, count - 1]


# The forms a production-time tick may take, shortest first, for units spread over days;
# units all made on one day read by the clock (the day goes into the axis title).
DAY_FORMATS = ("%m-%d", "%m-%d %H:%M")
CLOCK_FORMATS = ("%H:%M", "%H:%M:%S")


@dataclass(frozen=True)
class TimeTicks:
    """Tick labels of a production-order axis and what its title adds ("on 2026-12-04")."""

    labels: list[str]
    title_note: str


def time_ticks(count: int, moment_at: Callable[[int], datetime]) -> TimeTicks | None:
    """Labels for the ticks `index_ticks(count)` draws, from each unit's production time.

    The shortest form in which every tick reads differently: a tick must tell its
    units apart from its neighbours', so twelve ticks all reading "03-06" (units of
    one day) or "21:33" (units of one minute) are no labels at all. None when even
    seconds repeat: the axis then counts units.
    """
    ticks = index_ticks(count)
    if not ticks:
        return None
    moments = [moment_at(i) for i in ticks]
    first, last = min(moments), max(moments)
    one_day = first.date() == last.date()
    for form in CLOCK_FORMATS if one_day else DAY_FORMATS:
        texts = [f"{m:{form}}" for m in moments]
        if len(set(texts)) == len(texts):
            labels = [""] * count
            for index, text in zip(ticks, texts, strict=True):
                labels[index] = text
            return TimeTicks(labels, _span_note(first, last))
    return None


def _span_note(first: datetime, last: datetime) -> str:
    """What the tick labels leave out: the day, or the year(s)."""
    if first.date() == last.date():
        return f"on {first:%Y-%m-%d}"
    return f"in {first:%Y}" if first.year == last.year else f"{first:%Y} to {last:%Y}"


def x_axis_index(frame: Frame, count: int, labels: Sequence[str] | None, title: str) -> list[str]:
    """Ticks along a series in production order: unit numbers, or the caller's labels."""
    parts = []
    for index in index_ticks(count):
        x = frame.x(index)
        text = labels[index] if labels is not None and index < len(labels) else str(index + 1)
        parts.append(
            f'<line x1="{coord(x)}" x2="{coord(x)}" y1="{coord(frame.bottom)}" '
            f'y2="{coord(frame.bottom + 4)}" stroke="{FRAME}"/>'
        )
        half = len(text) * SMALL_CHAR_WIDTH / 2
        anchor = "end" if x + half > frame.width else "start" if x - half < 0 else "middle"
        parts.append(svg.text(x, frame.bottom + 17, text, anchor=anchor, size=SMALL_FONT))
    if title:
        parts.append(svg.text(frame.right, frame.bottom + 32, title, anchor="end", size=SMALL_FONT))
    return parts


REF_STYLE = {
    "centre": (CENTRE, ""),
    "limit": (LIMIT, ' stroke-dasharray="6 4"'),
    "spec": (SPEC, ' stroke-dasharray="2 3"'),
    "ref": (MUTED, ' stroke-dasharray="1 3"'),
}


def ref_lines(frame: Frame, refs: Sequence[RefLine]) -> list[str]:
    parts = []
    for ref in refs:
        if not math.isfinite(ref.value):
            continue
        colour, dash = REF_STYLE.get(ref.kind, REF_STYLE["ref"])
        y = frame.y(ref.value)
        parts.append(
            f'<line class="c-ref c-ref-{escape(ref.kind)}" x1="{coord(frame.left)}" '
            f'x2="{coord(frame.right)}" y1="{coord(y)}" y2="{coord(y)}" stroke="{colour}" '
            f'stroke-width="1.4"{dash}><title>{escape(ref.label)} '
            f"{escape(format_number(ref.value, 4))}</title></line>"
        )
        parts.append(
            svg.text(
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


def line(d: str, colour: str, width: float = 1.3, cls: str = "c-line", extra: str = "") -> str:
    if not d:
        return ""
    return (
        f'<path class="{cls}" d="{d}" fill="none" stroke="{colour}" '
        f'stroke-width="{width}" stroke-linejoin="round"{extra}/>'
    )


def dot_path(d: str, colour: str, size: float = DOT, cls: str = "c-dots") -> str:
    if not d:
        return ""
    return (
        f'<path class="{cls}" d="{d}" fill="none" stroke="{colour}" '
        f'stroke-width="{size}" stroke-linecap="round"/>'
    )


def legend(items: Sequence[tuple[str, str]], x: float, y: float) -> list[str]:
    """A row of colour swatches with names, left to right from (x, y)."""
    parts = []
    for colour, name in items:
        parts.append(
            f'<rect x="{coord(x)}" y="{coord(y - 9)}" width="10" height="10" '
            f'fill="{colour}" rx="2"/>'
        )
        parts.append(svg.text(x + 14, y, name, size=SMALL_FONT, colour=INK, extra=HALO))
        x += 14 + len(name) * 6.4 + 16
    return parts


def marks(frame: Frame, values: FloatArray, marks: Sequence[Mark]) -> list[str]:
    """Circled points with their tooltips; the shared style sits on one group, so a
    chart with hundreds of marked points stays small."""
    parts = []
    for mark in sorted(marks, key=lambda m: m.index):
        if not 0 <= mark.index < values.size or not math.isfinite(values[mark.index]):
            continue
        x, y = frame.x(mark.index), frame.y(float(values[mark.index]))
        label = (
            f'<text x="{coord(x)}" y="{coord(y - MARK_RADIUS - 3)}" stroke="none">'
            f"{escape(mark.label)}</text>"
            if mark.label
            else ""
        )
        shape = (
            f'<g class="c-mark" data-index="{mark.index}"><title>{escape(mark.tooltip)}</title>'
            f'<circle cx="{coord(x)}" cy="{coord(y)}" r="{MARK_RADIUS}" '
            f'fill-opacity="0.25"/>{label}</g>'
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


def label_every(count: int, room: float, label_width: float) -> int:
    """Label every n-th category so the labels do not overlap."""
    return max(1, math.ceil(count * label_width / max(room, 1.0)))
