"""The cells of a model-spec file, read alike by a station and by central's import.

A station reads QA's table from a file (`lta-agent analyze --specs FILE`,
agent/specs_file.py); central imports the plant's own workbook
(central/specs/files.py) and exports the table stations fetch. Both must agree
on the columns, on what a yes/no or a choice cell says and on how a CSV or
XLSX is turned into rows of text, or a file exported by central would mean
something else on a station. Each side still words its own file-level errors
(a station names the file, central the spreadsheet row).

Hostile input is bounded before it is decoded: callers check the byte size,
these readers the row and column counts.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any, TypeVar

from python_calamine import CalamineWorkbook

from shared.errors import SpecFileError
from shared.untrusted import visible

#: The columns of a station's spec file (any order; only `model` is required).
STATION_COLUMNS = (
    "model",
    "aliases",
    "policy",
    "linearity_spec",
    "linearity_type",
    "angle_nominal",
    "angle_tolerance",
    "angle_tolerance_type",
    "resistance_min",
    "resistance_max",
    "exclude_points",
    "sigma_threshold",
    "resistance_in_verdict",
    "angle_in_verdict",
    "element_type",
    "product_class",
)
#: A cell Excel would run as a formula starts with one of these (CSV export guards them).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
YES = frozenset({"yes", "y", "true", "1", "x"})
NO = frozenset({"no", "n", "false", "0"})
SHOWN_CHARS = 40  # how much of a bad cell a message quotes

E = TypeVar("E", bound=Enum)


def cell_text(value: Any) -> str:
    """A cell as the text a person typed: 48.0 is '48', True is 'yes', our CSV guard removed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    text = str(value).strip()
    if text[:1] == "'" and text[1:2] in FORMULA_START:
        return text[1:]  # central's CSV export's guard against formulas
    return text


def quoted(text: str) -> str:
    """A cell's text as a message quotes it: short, every control character shown escaped."""
    return "'" + visible(text[:SHOWN_CHARS]) + "'"


def yes_no(text: str) -> bool:
    lowered = text.lower()
    if lowered in YES:
        return True
    if lowered in NO:
        return False
    raise ValueError(f"{quoted(text)} is not yes/no")


def choice(kind: type[E]) -> Callable[[str], E]:
    """A reader for a column whose cells name one member of `kind` (any case)."""

    def parse(text: str) -> E:
        try:
            return kind(text.lower())
        except ValueError:
            allowed = ", ".join(str(m.value) for m in kind)
            raise ValueError(f"{quoted(text)} is not one of {allowed}") from None

    return parse


def aliases(text: str) -> list[str]:
    """Other names of a model, separated by commas, semicolons or bars."""
    parts = text.replace(";", ",").replace("|", ",").split(",")
    return [p.strip() for p in parts if p.strip()]


def rows_from_csv(content: bytes, max_rows: int, max_columns: int) -> list[list[str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1252", errors="replace")  # Excel's "CSV" on Windows
    rows: list[list[str]] = []
    for row in csv.reader(io.StringIO(text, newline="")):
        if len(rows) > max_rows + 1:
            raise SpecFileError(f"the file has more than {max_rows} rows")
        rows.append(list(row[:max_columns]))
    return rows


def rows_from_xlsx(content: bytes, max_rows: int, max_columns: int) -> list[list[str]]:
    """The first sheet's rows as text (calamine reads .xlsx and .xls alike)."""
    book = CalamineWorkbook.from_filelike(io.BytesIO(content))
    sheet = book.get_sheet_by_index(0)
    if sheet.height > max_rows + 1:
        raise SpecFileError(f"the first sheet has {sheet.height} rows, over {max_rows}")
    if sheet.width > max_columns:
        raise SpecFileError(f"the first sheet has {sheet.width} columns, over {max_columns}")
    return [[cell_text(v) for v in row] for row in sheet.to_python(skip_empty_area=False)]


def rows_of(content: bytes, max_rows: int, max_columns: int) -> list[list[str]]:
    """An XLSX (by its zip signature) or CSV file as rows of text."""
    if content[:2] == b"PK":
        return rows_from_xlsx(content, max_rows, max_columns)
    return rows_from_csv(content, max_rows, max_columns)


def header_of(row: Sequence[Any], columns: Sequence[str]) -> list[str]:
    """The header's column names ('Angle Tolerance' is angle_tolerance); raises SpecFileError."""
    header = [" ".join(cell_text(c).lower().split()).replace(" ", "_") for c in row]
    unknown = [h for h in header if h and h not in columns]
    if unknown:
        shown = ", ".join(quoted(u) for u in unknown[:5])
        raise SpecFileError(
            f"unknown column(s) {shown} in the header; it may use {', '.join(columns)}"
        )
    if "model" not in header:
        raise SpecFileError("the header row has no 'model' column")
    repeated = sorted({h for h in header if h and header.count(h) > 1})
    if repeated:
        raise SpecFileError(f"column(s) {', '.join(repeated)} appear twice in the header")
    return header
