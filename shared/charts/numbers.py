"""Numbers as a chart, a card and a table print them, so a value reads the same everywhere.

Errors and sigmas are small (1e-5..1e-2) and positions large (340.787), so one
significant-digits rule serves them all; a value that is not finite prints as a dash
instead of 'nan', which a chart must never turn into a coordinate either.
"""

from __future__ import annotations

import math


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


def plain_number(value: float | None, max_decimals: int = 4) -> str:
    """A value as the file states it: '92', '54.5', '340.787' (no trailing zeros, no '-0')."""
    if value is None or not math.isfinite(value):
        return "—"
    text = f"{value:.{max_decimals}f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def count_text(value: float) -> str:
    """A count as written ("12"), any other value with 6 significant digits."""
    return str(int(value)) if float(value).is_integer() else format_number(value, 6)
