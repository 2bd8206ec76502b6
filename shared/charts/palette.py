"""The colours charts draw with, in one table; verdict colours match dashboard.css.

Dashboard charts carry their colours as presentation attributes, so a chart looks
the same on any page that embeds it; the track charts take theirs from the page's
stylesheet (the station's dark page and central's white one), except the trim
history's curves, which must read alike on both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

INK = "#1b2230"
MUTED = "#5f6b7c"
GRID = "#e6e9ef"
FRAME = "#c3cad5"
PANEL = "#f8fafc"
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

_HEX = re.compile(r"#[0-9a-fA-F]{3,8}")

#: Colours the callers may name for a segment or a line.
COLOURS: Mapping[str, str] = MappingProxyType(
    {
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
)

# The trim history drawn over one another: untrimmed grey, the passes in cool colours
# that darken towards the final one, the final curve amber (readable on the station's
# dark page and central's white one alike).
HISTORY_UNTRIMMED = "#8b95a5"
HISTORY_PASSES = ("#8b5cf6", "#6366f1", "#3b82f6", "#0ea5e9", "#06b6d4", "#14b8a6")
HISTORY_FINAL = "#f59e0b"


def colour(name: str) -> str:
    """A named colour from COLOURS, a '#rrggbb' as given, anything else the line colour
    (a caller's string never reaches the markup unchecked)."""
    if name in COLOURS:
        return COLOURS[name]
    return name if _HEX.fullmatch(name) else LINE


def history_colour(number: int, final: bool) -> str:
    """A measurement's colour in the history chart: 0 is the untrimmed one."""
    if final:
        return HISTORY_FINAL
    if number == 0:
        return HISTORY_UNTRIMMED
    return HISTORY_PASSES[(number - 1) % len(HISTORY_PASSES)]
