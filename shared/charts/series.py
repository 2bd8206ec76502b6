"""Line charts over time and stacked bars: the model page's trends (yield per day,
sigma per day with its confidence whiskers, pass / warning / fail rates).

Inputs are plain sequences; NaN leaves a gap in a line (a day without units).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from markupsafe import Markup, escape

from shared.charts import axes, palette, svg
from shared.charts.axes import (
    HEIGHT,
    MAX_DOTS,
    PAD_BOTTOM,
    PAD_TOP,
    WIDTH,
    Y_TICKS,
    Mark,
    RefLine,
)
from shared.charts.paths import dots_path, series_path
from shared.charts.scale import FloatArray, ticks_and_step
from shared.charts.svg import SMALL_FONT, coord


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
        return svg.message_chart(chart_id, title, "No data in this selection.", width=width)
    arrays = [np.asarray(s.values, dtype=np.float64) for s in series]
    whiskers = [
        np.asarray(v, dtype=np.float64)
        for s in series
        for v in (s.low, s.high)
        if v is not None and len(v)
    ]
    low, high = axes.y_range(np.concatenate([*arrays, *whiskers]), [r.value for r in refs], y_floor)
    ticks, step = ticks_and_step(low, high, Y_TICKS)
    legend = len(series) > 1
    frame = axes.Frame(
        width, height, axes.left_margin(ticks, step), PAD_BOTTOM, (-0.5, count - 0.5), (low, high)
    )
    body = [*axes.y_axis(frame, ticks, step, y_label), axes.frame_box(frame)]
    body += axes.x_axis_index(frame, count, x_labels, x_title)
    body += axes.ref_lines(frame, refs)
    for s, values in zip(series, arrays, strict=True):
        colour = palette.colour(s.colour)
        xs = frame.xs(np.arange(values.size, dtype=np.float64))
        ys = frame.ys(values)
        ys[~np.isfinite(values)] = np.nan
        if s.low is not None and s.high is not None:
            body.append(_whiskers(frame, xs, values, s.low, s.high, colour))
        body.append(
            axes.line(series_path(xs, ys), colour, extra=f' data-series="{escape(s.name)}"')
        )
        if s.dots and values.size <= MAX_DOTS:
            body.append(axes.dot_path(dots_path(xs, ys), colour))
    if marks:
        body += axes.marks(frame, arrays[0], marks)
    if legend:
        body += axes.legend(
            [(palette.colour(s.colour), s.name) for s in series], frame.left + 6, PAD_TOP + 14
        )
    summary = desc or f"{len(series)} series of {count} points."
    return svg.document(chart_id, title, summary, width, height, body, "line")


def _whiskers(
    frame: axes.Frame,
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
            parts.append(f"M{coord(x)} {coord(frame.y(a))}V{coord(frame.y(b))}")
    if not parts:
        return ""
    return (
        f'<path class="c-whiskers" d="{"".join(parts)}" stroke="{colour}" '
        'stroke-opacity="0.45" stroke-width="5" stroke-linecap="butt" fill="none"/>'
    )


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
        return svg.message_chart(chart_id, title, "No units in this selection.", width=width)
    table = np.array([np.asarray(s.values, dtype=np.float64)[:count] for s in segments])
    totals = table.sum(axis=0)
    if percent:
        with np.errstate(invalid="ignore", divide="ignore"):
            heights = np.where(totals > 0, table / np.where(totals > 0, totals, 1) * 100, 0)
        top_value = 100.0
    else:
        heights = table
        top_value = float(totals.max()) if totals.size and totals.max() > 0 else 1.0
    ticks, step = ticks_and_step(0.0, top_value, 4)
    frame = axes.Frame(
        width, height, axes.left_margin(ticks, step), PAD_BOTTOM, (0, count), (0.0, top_value)
    )
    body = [*axes.y_axis(frame, ticks, step, y_label or ("%" if percent else ""))]
    slot = (frame.right - frame.left) / count
    bar = max(1.0, slot * 0.8)
    every = axes.label_every(count, frame.right - frame.left, 62)
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
                f'<rect class="c-seg" data-segment="{escape(s.name)}" x="{coord(x)}" '
                f'y="{coord(y_top)}" width="{coord(bar)}" height="{coord(y_bottom - y_top)}" '
                f'fill="{palette.colour(s.colour)}"/>'
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
                svg.text(
                    frame.x(i) + slot / 2,
                    frame.bottom + 16,
                    category,
                    size=SMALL_FONT,
                    anchor="middle",
                )
            )
    body.append(axes.frame_box(frame))
    body += axes.legend(
        [(palette.colour(s.colour), s.name) for s in segments], frame.left, height - 6
    )
    desc = f"{count} bars, each stacked from {', '.join(s.name for s in segments)}."
    return svg.document(chart_id, title, desc, width, height, body, "bars")
