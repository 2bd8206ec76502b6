"""Pareto charts: causes as bars, largest first, with the cumulative share as a line.

"Which few models (or places along the travel) make most of the failures" is read
off where the line crosses 80 %. The order and the cumulative shares are computed
once here (`pareto_order`), so a table beside the chart shows the same figures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from shared.charts import axes, svg
from shared.charts.axes import PAD_BOTTOM, WIDTH
from shared.charts.numbers import count_text
from shared.charts.palette import BAR, LIMIT, MUTED
from shared.charts.scale import ticks_and_step
from shared.charts.svg import SMALL_FONT, coord

MAX_BARS = 15  # more causes are folded into one "others" bar at the end
LABEL_CHARS = 14  # a bar's label is cut to this; the tooltip has it whole
RIGHT_AXIS = 44  # room for the cumulative % labels
CUMULATIVE_TICKS = (0, 25, 50, 75, 100)
VITAL_FEW_PCT = 80.0


@dataclass(frozen=True)
class ParetoBar:
    label: str
    value: float
    share_pct: float  # of the total
    cumulative_pct: float  # this bar and every larger one
    href: str = ""
    folded: int = 0  # causes folded into this bar (the "others" bar), else 0


def pareto_order(
    items: Sequence[tuple[str, float]],
    max_bars: int = MAX_BARS,
    hrefs: dict[str, str] | None = None,
) -> list[ParetoBar]:
    """Positive, finite values largest first (ties by label), with their cumulative shares.

    Beyond `max_bars`, the smallest causes become one last bar, "others (n)", so the line
    still ends at 100 %.
    """
    kept = sorted(
        ((label, float(v)) for label, v in items if math.isfinite(v) and v > 0),
        key=lambda item: (-item[1], item[0]),
    )
    total = math.fsum(v for _, v in kept)
    if not kept:
        return []
    shown = kept if len(kept) <= max_bars else kept[: max(1, max_bars - 1)]
    rest = kept[len(shown) :]
    bars, running = [], 0.0
    for label, value in shown:
        running += value
        link = (hrefs or {}).get(label, "")
        bars.append(ParetoBar(label, value, 100 * value / total, 100 * running / total, link))
    if rest:
        value = math.fsum(v for _, v in rest)
        bars.append(
            ParetoBar(f"others ({len(rest)})", value, 100 * value / total, 100.0, "", len(rest))
        )
    return bars


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def pareto_chart(
    chart_id: str,
    title: str,
    bars: Sequence[ParetoBar],
    *,
    y_label: str = "",
    x_title: str = "",
    unit: str = "",
    width: int = WIDTH,
    height: int = 260,
) -> Markup:
    """Bars (from `pareto_order`) on a count axis, the cumulative % on the right axis."""
    if not bars:
        return svg.message_chart(chart_id, title, "Nothing failed in this selection.", width=width)
    top_value = max(b.value for b in bars)
    ticks, step = ticks_and_step(0.0, top_value, 4)
    frame = axes.Frame(
        width - RIGHT_AXIS,
        height,
        axes.left_margin(ticks, step),
        PAD_BOTTOM,
        (0.0, float(len(bars))),
        (0.0, top_value * 1.05),
    )
    frame.width = width  # the labels may use the room of the right axis

    def y_pct(pct: float) -> float:
        return frame.bottom - pct / 100.0 * (frame.bottom - frame.top)

    body = [*axes.y_axis(frame, ticks, step, y_label)]
    for pct in CUMULATIVE_TICKS:
        body.append(svg.text(frame.right + 6, y_pct(pct) + 4, f"{pct} %", size=SMALL_FONT))
    widest = max(len(_short(b.label)) for b in bars) * axes.SMALL_CHAR_WIDTH + 10
    every = axes.label_every(len(bars), frame.right - frame.left, widest)
    points = []
    for i, bar in enumerate(bars):
        x0, x1 = frame.x(i + 0.12), frame.x(i + 0.88)
        y = frame.y(bar.value)
        tip = (
            f"{bar.label}: {count_text(bar.value)}{unit} ({bar.share_pct:.1f} %), "
            f"cumulative {bar.cumulative_pct:.1f} %"
        )
        shape = (
            f'<g class="c-pareto-bar" data-label="{escape(bar.label)}" '
            f'data-value="{count_text(bar.value)}" data-cumulative="{bar.cumulative_pct:.1f}">'
            f"<title>{escape(tip)}</title>"
            f'<rect x="{coord(x0)}" y="{coord(y)}" width="{coord(max(0.5, x1 - x0))}" '
            f'height="{coord(frame.bottom - y)}" fill="{MUTED if bar.folded else BAR}"/></g>'
        )
        body.append(f'<a href="{escape(bar.href)}">{shape}</a>' if bar.href else shape)
        points.append(f"{coord(frame.x(i + 0.5))},{coord(y_pct(bar.cumulative_pct))}")
        if i % every == 0:
            body.append(
                svg.text(
                    frame.x(i + 0.5),
                    frame.bottom + 16,
                    _short(bar.label),
                    size=SMALL_FONT,
                    anchor="middle",
                )
            )
    vital = y_pct(VITAL_FEW_PCT)
    body.append(
        f'<line class="c-ref c-ref-ref" x1="{coord(frame.left)}" x2="{coord(frame.right)}" '
        f'y1="{coord(vital)}" y2="{coord(vital)}" stroke="{MUTED}" stroke-width="1" '
        f'stroke-dasharray="1 3"><title>{VITAL_FEW_PCT:.0f} % of the total</title></line>'
    )
    body.append(axes.line("M" + " L".join(points), LIMIT, 1.8, "c-cumulative"))
    body.append(
        f'<g class="c-cumulative-dots" fill="{LIMIT}">'
        + "".join(f'<circle cx="{p.split(",")[0]}" cy="{p.split(",")[1]}" r="3"/>' for p in points)
        + "</g>"
    )
    if x_title:
        body.append(
            svg.text(frame.right, frame.bottom + 32, x_title, anchor="end", size=SMALL_FONT)
        )
    body.append(axes.frame_box(frame))
    total = math.fsum(b.value for b in bars)
    desc = (
        f"{len(bars)} bars, largest first, {count_text(total)}{unit} in all; "
        f"the first bar holds {bars[0].share_pct:.1f} %."
    )
    return svg.document(chart_id, title, desc, width, height, body, "pareto")
