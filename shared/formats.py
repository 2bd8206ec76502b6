"""How both web apps write a percentage or a flag, so one figure reads alike on every page.

The number format itself (significant digits, the sign of an offset) is the
charts' own (`shared.charts.numbers.format_number`, `signed`), so a value on a card and
on its plot agree; these are the words around numbers that the station page
and the dashboard both show.
"""

from __future__ import annotations

import math

DASH = "—"  # unknown: never shown as 0 or "no", which would be a claim


def pct(value: float | None, decimals: int = 0) -> str:
    """A percentage with `decimals` places; a dash when unknown (a missing margin is not 0 %).

    A value that rounds to zero is written "0 %", never "-0 %" or "0.0 %": a
    change too small to show has no sign.
    """
    if value is None or not math.isfinite(value):
        return DASH
    text = f"{value:.{decimals}f}"
    return f"{'0' if float(text) == 0 else text} %"


def yesno(value: bool | None) -> str:
    """A pass/fail flag; None (not judged) stays visibly different from "no"."""
    return DASH if value is None else ("yes" if value else "no")
