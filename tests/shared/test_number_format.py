"""The one number format every page and chart prints with: rules that hold for any value."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.charts.numbers import NOISE_FLOOR, format_number, signed, stated

FINITE = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)
DIGITS = st.integers(min_value=1, max_value=8)
MEASURED = st.floats(min_value=1e-9, max_value=1e9).flatmap(
    lambda v: st.sampled_from([v, -v])
)  # what this product measures: never closer to 0 than 1e-9


def significant_digits(text: str) -> int:
    """How many significant digits a printed number states ("0.00250" states 3)."""
    mantissa = text.lstrip("+-").split("e")[0]
    digits = mantissa.replace(".", "").lstrip("0")
    return len(digits) if digits else 1


@given(FINITE, DIGITS)
def test_never_more_significant_digits_than_asked(value: float, digits: int) -> None:
    text = format_number(value, digits)
    assert significant_digits(text) <= max(digits, len(text.split(".")[0].lstrip("-")))
    if "e" in text or "." in text:  # fixed decimals or exponent: exactly the digits asked
        assert significant_digits(text) <= digits


@given(MEASURED, DIGITS)
def test_the_printed_value_reads_back_within_its_last_digit(value: float, digits: int) -> None:
    text = format_number(value, digits)
    back = float(text)
    assert math.isclose(back, value, rel_tol=0.5 * 10 ** (1 - digits) + 1e-12)


@given(FINITE, DIGITS)
def test_zero_is_written_one_way(value: float, digits: int) -> None:
    text = format_number(value, digits)
    if float(text) == 0:
        assert text == "0"
    assert not re.fullmatch(r"-0(\.0*)?(e.*)?", text)


@given(
    st.integers(min_value=1, max_value=999),
    st.integers(min_value=-8, max_value=6),
    st.floats(min_value=-1e-12, max_value=1e-12),
    DIGITS,
)
def test_float_noise_of_a_rounder_number_prints_as_that_number(
    mantissa: int, exponent: int, noise: float, digits: int
) -> None:
    """0.025000000000000158 prints as 0.025 would: noise far below the last digit shows."""
    round_value = mantissa * 10.0**exponent
    noisy = round_value * (1 + noise)
    assert format_number(noisy, max(digits, 3)) == format_number(round_value, max(digits, 3))


@given(
    st.floats(min_value=-NOISE_FLOOR, max_value=NOISE_FLOOR, exclude_min=True, exclude_max=True),
    DIGITS,
)
def test_float_noise_of_zero_prints_as_zero(noise: float, digits: int) -> None:
    assert format_number(noise, digits) == "0"
    assert signed(noise, digits) == "0"


@given(FINITE, DIGITS)
def test_a_sign_only_on_a_value_that_prints_as_not_zero(value: float, digits: int) -> None:
    text = signed(value, digits)
    assert text != "+0" and text != "-0"
    plain = format_number(value, digits)
    assert text == (f"+{plain}" if value > 0 and plain != "0" else plain)


@given(FINITE)
def test_a_stated_limit_has_no_padding_zeros_and_the_same_value(value: float) -> None:
    text = stated(value)
    mantissa = text.split("e")[0]
    if "." in mantissa:
        assert not mantissa.endswith("0") and not mantissa.endswith(".")
    assert float(text) == float(format_number(value, 4))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.025000000000000158, "0.025"),
        (0.1 + 0.2, "0.3"),
        (2.1e-5, "2.1e-5"),
        (340.0, "340"),
        (1e9, "1e9"),
        (None, "—"),
        (math.nan, "—"),
    ],
)
def test_stated_examples(value: float | None, expected: str) -> None:
    assert stated(value) == expected


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [
        (1.61e-16, 3, "0"),
        (-2.2e-17, 4, "0"),
        (0.025000000000000158, 3, "0.0250"),
        (0.0099999, 3, "0.0100"),
        (2.1e-5, 3, "2.10e-5"),
        (336.04, 4, "336.0"),
    ],
)
def test_format_examples(value: float, digits: int, expected: str) -> None:
    assert format_number(value, digits) == expected


def test_an_offset_of_float_noise_reads_zero_not_plus_a_power_of_ten() -> None:
    assert signed(1.61e-16, 4) == "0"
    assert signed(0.00123, 3) == "+0.00123"
    assert signed(-0.00123, 3) == "-0.00123"
