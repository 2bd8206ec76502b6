"""Distributions: histograms (where along the travel failing points lie, capability)
and box plots side by side (stations, operators, lines).

Axes are set by the bulk of the data, not its wildest unit, so one outlier cannot
flatten every box; points beyond the axis are drawn at its edge and counted.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from markupsafe import Markup, escape

from shared.charts import axes, svg
from shared.charts.axes import (
    DOT,
    PAD_BOTTOM,
    WIDTH,
    Y_TICKS,
    RefLine,
)
from shared.charts.numbers import count_text, format_number
from shared.charts.palette import (
    BAR,
    BOX_FILL,
    INK,
    LINE,
    MEAN,
    STRIP,
)
from shared.charts.paths import dots_path
from shared.charts.scale import FloatArray, finite, ticks_and_step
from shared.charts.svg import SMALL_FONT, coord, plain


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
        return svg.message_chart(chart_id, title, "No data in this selection.", width=width)
    top_value = float(values.max()) if values.max() > 0 else 1.0
    ticks, step = ticks_and_step(0.0, top_value, 4)
    frame = axes.Frame(
        width,
        height,
        axes.left_margin(ticks, step),
        PAD_BOTTOM,
        (float(edges[0]), float(edges[-1])),
        (0.0, top_value * 1.05),
    )
    body = [*axes.y_axis(frame, ticks, step, y_label)]
    every = axes.label_every(len(edges), frame.right - frame.left, 44)
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
            f'<g class="c-bin" data-bin="{i}" data-count="{count_text(value)}">'
            f"<title>{escape(tip)}</title>"
            f'<rect x="{coord(x0 + 0.5)}" y="{coord(y)}" width="{coord(max(0.5, x1 - x0 - 1))}" '
            f'height="{coord(frame.bottom - y)}" fill="{BAR}"/></g>'
        )
    for i, edge in enumerate(edges):
        if i % every == 0 or i == len(edges) - 1:
            body.append(
                svg.text(
                    frame.x(float(edge)),
                    frame.bottom + 16,
                    edge_format(edge),
                    size=SMALL_FONT,
                    anchor="middle",
                )
            )
    if x_title:
        body.append(
            svg.text(frame.right, frame.bottom + 32, x_title, anchor="end", size=SMALL_FONT)
        )
    body.append(axes.frame_box(frame))
    desc = f"{values.size} bins, {format_number(float(values.sum()), 6)} in all."
    return svg.document(chart_id, title, desc, width, height, body, "histogram")


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
        return svg.message_chart(
            chart_id, title, "No analysed units in this selection.", width=width
        )
    span_values = [
        v for b in shown for v in (b.low, b.high, b.q1, b.q3, b.mean, b.median) if v is not None
    ]
    for b in shown:  # the strip's own spread, but not its wildest 1 % at each end
        strip = finite(b.points)
        if strip.size:
            span_values += [float(v) for v in np.percentile(strip, [1, 99])]
    low, high = axes.y_range(np.asarray(span_values, dtype=np.float64), [r.value for r in refs])
    ticks, step = ticks_and_step(low, high, Y_TICKS)
    frame = axes.Frame(
        width, height, axes.left_margin(ticks, step), PAD_BOTTOM, (0, len(shown)), (low, high)
    )
    body = [*axes.y_axis(frame, ticks, step, y_label), axes.frame_box(frame)]
    body += axes.ref_lines(frame, refs)
    slot = (frame.right - frame.left) / len(shown)
    half = min(46.0, slot * 0.32)
    for i, b in enumerate(shown):
        body.append(_one_box(frame, b, frame.x(i) + slot / 2, half, value_format))
        body.append(
            svg.text(
                frame.x(i) + slot / 2,
                frame.bottom + 17,
                f"{b.name} (n={b.n})",
                size=SMALL_FONT,
                anchor="middle",
                colour=INK,
            )
        )
    body += axes.legend(
        [(BOX_FILL, "middle half (Q1 to Q3)"), (MEAN, "mean"), (STRIP, "units")],
        frame.left,
        height - 6,
    )
    desc = "; ".join(
        f"{b.name}: n {b.n}, mean {value_format(b.mean)}, median {value_format(b.median)}"
        for b in shown
    )
    return svg.document(chart_id, title, desc, width, height, body, "boxes")


def _one_box(
    frame: axes.Frame,
    b: Box,
    centre: float,
    half: float,
    value_format: Callable[[float | None], str],
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
        + plain(
            f"{b.name}: {b.n} units; mean {value_format(b.mean)}, median "
            f"{value_format(b.median)}, middle half {value_format(b.q1)} to "
            f"{value_format(b.q3)}, whiskers {value_format(b.low)} to {value_format(b.high)}, "
            f"range {value_format(b.minimum)} to {value_format(b.maximum)}"
            + (f"; {int(outside.sum())} shown at the axis edge" if outside.any() else "")
        )
        + "</title>",
        f'<rect x="{coord(centre - half)}" y="{coord(y3)}" width="{coord(2 * half)}" '
        f'height="{coord(max(1.0, y1 - y3))}" fill="{BOX_FILL}" stroke="{LINE}"/>',
    ]
    if b.low is not None and b.high is not None:
        ylo, yhi = frame.y(b.low), frame.y(b.high)
        parts.append(
            f'<path class="c-whisker" d="M{coord(centre)} {coord(y1)}V{coord(ylo)}'
            f"M{coord(centre - half / 2)} {coord(ylo)}h{coord(half)}"
            f"M{coord(centre)} {coord(y3)}V{coord(yhi)}M{coord(centre - half / 2)} "
            f'{coord(yhi)}h{coord(half)}" stroke="{LINE}" fill="none"/>'
        )
    if b.median is not None:
        ym = frame.y(b.median)
        parts.append(
            f'<line class="c-median" x1="{coord(centre - half)}" x2="{coord(centre + half)}" '
            f'y1="{coord(ym)}" y2="{coord(ym)}" stroke="{INK}" stroke-width="2"/>'
        )
    inside = ~outside
    parts.append(
        f'<path class="c-strip" d="{dots_path(xs[inside], ys[inside])}" stroke="{STRIP}" '
        f'stroke-opacity="0.35" stroke-width="{DOT}" stroke-linecap="round" fill="none"/>'
        if inside.any()
        else ""
    )
    if outside.any():
        parts.append(
            "".join(
                f'<circle class="c-clamped" cx="{coord(x)}" cy="{coord(y)}" r="2.2" fill="none" '
                f'stroke="{STRIP}"/>'
                for x, y in zip(xs[outside].tolist(), ys[outside].tolist(), strict=True)
            )
        )
    if b.mean is not None:
        ym = frame.y(b.mean)
        parts.append(
            f'<path class="c-mean" d="M{coord(centre)} {coord(ym - 6)}l6 6l-6 6l-6 -6z" '
            f'fill="{MEAN}" stroke="#fff"><title>{escape(b.name)} mean '
            f"{escape(value_format(b.mean))}</title></path>"
        )
    parts.append("</g>")
    return "".join(parts)
