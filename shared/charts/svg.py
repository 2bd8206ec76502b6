"""The canvas: coordinates, escaped text, the `<svg>` document, the no-data chart.

Every string a chart shows comes from files, station names or the URL, so text
enters the markup only through `escape()` here; numbers enter only as formatted
coordinates. Two kinds of document share these pieces: dashboard charts (with a
`<title>`, a `<desc>` and an id for screen readers, tests and scripts; colours as
attributes) and track charts (styled by the page's stylesheet, whose station and
dashboard themes differ).
"""

from __future__ import annotations

from markupsafe import Markup, escape

from shared.charts.palette import FRAME, MUTED, PANEL

FONT = 13
SMALL_FONT = 11
FONT_FAMILY = "Segoe UI, DejaVu Sans, Liberation Sans, Arial, sans-serif"
# A white outline behind a label keeps it legible where it crosses the data.
HALO = ' stroke="#ffffff" stroke-width="3" paint-order="stroke"'
SVG_NS = "http://www.w3.org/2000/svg"


def coord(value: float) -> str:
    """A coordinate rounded to 0.1 viewBox unit (well under a pixel), never '-0.0'."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def plain(text: str) -> str:
    """Escaped text as a plain str: adding a Markup to a str would escape the str instead."""
    return str(escape(text))


def text(
    x: float,
    y: float,
    content: str,
    *,
    size: int = FONT,
    anchor: str = "start",
    colour: str = MUTED,
    extra: str = "",
) -> str:
    """A `<text>` element with escaped content, for the dashboard's attribute-styled charts."""
    return (
        f'<text x="{coord(x)}" y="{coord(y)}" font-size="{size}" fill="{colour}" '
        f'text-anchor="{anchor}"{extra}>{escape(content)}</text>'
    )


def document(
    chart_id: str, title: str, desc: str, width: int, height: int, body: list[str], kind: str
) -> Markup:
    """A dashboard chart: `<svg role="img">` named by its `<title>` and `<desc>`."""
    cid = escape(chart_id)
    head = (
        f'<svg xmlns="{SVG_NS}" class="chart chart-{escape(kind)}" '
        f'id="{cid}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{cid}-title {cid}-desc" '
        f'font-family="{FONT_FAMILY}">'
        f'<title id="{cid}-title">{escape(title)}</title>'
        f'<desc id="{cid}-desc">{escape(desc)}</desc>'
    )
    # Safe: every piece of text above and in `body` went through escape(); the rest is
    # markup and numbers the chart modules format themselves.
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704


def message_chart(
    chart_id: str, title: str, message: str, *, width: int = 960, height: int = 120
) -> Markup:
    """A dashboard chart-sized box with a sentence instead of a chart (too few units, no
    data), so the page says why and its layout does not jump."""
    body = [
        f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" fill="{PANEL}" '
        f'stroke="{FRAME}" rx="4"/>',
        text(width / 2, height / 2 + 4, message, anchor="middle", extra=' class="c-message"'),
    ]
    return document(chart_id, title, message, width, height, body, "empty")


def message_svg(message: str, width: int = 800, height: int = 360) -> Markup:
    """The track charts' no-data chart: the same sentence in a box, styled by the page's
    theme (`plot-empty`, `plot-frame`, `plot-message`) like the chart it stands for."""
    # Safe: the only text is escape()d; the rest are our own numbers.
    return Markup(  # noqa: S704
        f'<svg class="plot plot-empty" viewBox="0 0 {width} {height}" '
        f'xmlns="{SVG_NS}" role="img" '
        f'aria-label="{escape(message)}">'
        f'<rect class="plot-frame" x="1" y="1" width="{width - 2}" height="{height - 2}"/>'
        f'<text class="plot-message" x="{width / 2}" y="{height / 2}" '
        f'text-anchor="middle" dominant-baseline="middle">{escape(message)}</text></svg>'
    )
