"""CSV cells: hostile text never becomes a formula, numbers stay numbers (property tests)."""

from __future__ import annotations

import csv
import io
import math
from datetime import UTC, datetime
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from central.api.csv_table import FORMULA_STARTS, cell, table


def read_back(header: list[str], row: list[object]) -> list[str]:
    parsed = list(csv.reader(io.StringIO(table(header, [row]), newline="")))
    assert parsed[0] == header
    return parsed[1]


@given(st.text(max_size=60))
def test_text_reads_back_as_itself_and_never_as_a_formula(text: str) -> None:
    (back,) = read_back(["note"], [text])
    assert not back.startswith(FORMULA_STARTS)
    assert back == ("'" + text if text.startswith(FORMULA_STARTS) else text)


@given(st.one_of(st.integers(min_value=-(10**15), max_value=10**15), st.floats()))
def test_numbers_are_plain_numbers(value: float) -> None:
    (back,) = read_back(["figure"], [value])
    if isinstance(value, float) and not math.isfinite(value):
        assert back == ""  # no figure, as JSON's null
    else:
        assert type(value)(back) == value  # negative numbers stay numbers, no apostrophe


def test_other_values() -> None:
    moment = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)
    ident = UUID(int=7)
    assert [cell(v) for v in (None, True, False, moment, ident)] == [
        "",
        "true",
        "false",
        "2025-03-01T08:30:00+00:00",
        str(ident),
    ]
    assert table(["a", "b"], [["x,y", '"q"']]) == 'a,b\r\n"x,y","""q"""\r\n'
