"""Numbers as a chart, a card and a table print them, so a value reads the same everywhere.

Errors and sigmas are small (1e-5..1e-2) and positions large (340.787), so one
significant-digits rule serves them all; a value that is not finite prints as a dash
instead of 'nan', which a chart must never turn into a coordinate either.

Every number printed for people goes through `format_number` (or `stated`, its form
for a limit someone typed): arithmetic leaves float noise such as 1.61e-16 for an
offset of zero or 0.025000000000000158 for a 0.025 V spec, and a reader takes every
printed digit as measured.
"""

from __future__ import annotations

import math

# Nothing this product measures is this small (sigma gradients are ~1e-6 and up, errors
# ~1e-5 V): a value below it is the float noise of a zero and prints as "0".
NOISE_FLOOR = 1e-12


def format_number(value: float | None, digits: int = 3) -> str:
    """A readable number with `digits` significant digits, never '-0' nor '1e-05' noise.

    Errors and sigmas are small (1e-5..1e-2), so tiny values use a short
    exponent form ("2.10e-5") and others fixed decimals ("0.00557", "336.0").
    """
    if value is None or not math.isfinite(value):
        return "—"
    if abs(value) < NOISE_FLOOR:
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
    """format_number with an explicit '+' so an offset's direction is obvious.

    A value that prints as 0 has no direction: it is "0", never "+0".
    """
    text = format_number(value, digits)
    if value is not None and math.isfinite(value) and value > 0 and text != "0":
        return "+" + text
    return text


def stated(value: float | None, digits: int = 4) -> str:
    """A limit as someone set it (a spec, a threshold): rounded like format_number, without
    padding zeros, because the limit is exact as typed: "0.025", not "0.0250" nor
    "0.025000000000000158"."""
    text = format_number(value, digits)
    if "e" in text:
        mantissa, exponent = text.split("e")
        return _strip_zeros(mantissa) + "e" + exponent
    return _strip_zeros(text)


def _strip_zeros(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def plain_number(value: float | None, max_decimals: int = 4) -> str:
    """A value as the file states it: '92', '54.5', '340.787' (no trailing zeros, no '-0')."""
    if value is None or not math.isfinite(value):
        return "—"
    text = f"{value:.{max_decimals}f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def count_text(value: float) -> str:
    """A count as written ("12"), any other value with 6 significant digits."""
    return str(int(value)) if float(value).is_integer() else format_number(value, 6)
