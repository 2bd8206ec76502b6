"""How a spec-file cell reads is one rule for a station and for central's import."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared import spec_cells
from shared.errors import SpecFileError
from shared.model_specs import Policy


@given(st.sampled_from(sorted(spec_cells.YES | spec_cells.NO)), st.booleans())
def test_yes_no_reads_any_case(word: str, upper: bool) -> None:
    assert spec_cells.yes_no(word.upper() if upper else word) is (word in spec_cells.YES)


def test_a_bad_cell_is_quoted_short_and_visible() -> None:
    with pytest.raises(ValueError, match=r"^'maybe' is not yes/no$"):
        spec_cells.yes_no("maybe")
    with pytest.raises(ValueError, match="is not one of") as caught:
        spec_cells.choice(Policy)("x\u202e" + "y" * 100)
    message = str(caught.value)
    assert "\u202e" not in message and "is not one of station, spec, strict" in message
    assert len(message) < 120


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e14, max_value=1e14))
def test_a_number_cell_reads_back_as_the_same_number(value: float) -> None:
    assert float(spec_cells.cell_text(value)) == value


def test_cell_text_undoes_the_csv_formula_guard_only() -> None:
    assert spec_cells.cell_text("'=SUM(A1)") == "=SUM(A1)"
    assert spec_cells.cell_text("'quoted'") == "'quoted'"
    assert spec_cells.cell_text(True) == "yes" and spec_cells.cell_text(48.0) == "48"


def test_a_header_is_checked_whoever_reads_it() -> None:
    assert spec_cells.header_of(["Model", " Angle  Tolerance "], spec_cells.STATION_COLUMNS) == [
        "model",
        "angle_tolerance",
    ]
    for row, wanted in (
        (["model", "tolerance"], "unknown column"),
        (["aliases"], "no 'model' column"),
        (["model", "MODEL"], "appear twice"),
    ):
        with pytest.raises(SpecFileError, match=wanted):
            spec_cells.header_of(row, spec_cells.STATION_COLUMNS)


def test_csv_rows_are_bounded() -> None:
    content = ("model\n" + "8340\n" * 30).encode()
    assert len(spec_cells.rows_of(content, 100, 64)) == 31
    with pytest.raises(SpecFileError, match="more than 10 rows"):
        spec_cells.rows_of(content, 10, 64)
    assert spec_cells.rows_of(b"a,b,c\n", 10, 2) == [["a", "b"]]
