"""Labelled parameter sheets: a label column beside one value column per track.

Stations write their program's settings (resistance limits, angle window,
points ignored) as label/value tables whose rows move between template
versions, so values are found by label, never by row number. A missing
sheet, label or value is simply absent: these facts are reported, and a file
without them still gets its verdict.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, cast

from agent.parsing.cells import Row, cell, to_float
from agent.parsing.workbook import Workbook
from shared.errors import ErrorCode, InputFileError


def normalise(label: Any) -> str:
    """Labels compare case- and spacing-blind ('High Value Tolerance ' = 'high value tolerance')."""
    return " ".join(label.lower().split()) if isinstance(label, str) else ""


def optional_rows(book: Workbook, name: str) -> Sequence[Row]:
    """A parameter sheet's rows, or none when the sheet is absent or unusable.

    A corrupt or oversized file still stops the whole file: only the
    parameter sheet itself is optional.
    """
    wanted = normalise(name)
    sheet = next((n for n in book.sheet_names if normalise(n) == wanted), None)
    if sheet is None:
        return []
    try:
        return book.rows(sheet)
    except InputFileError as exc:
        if exc.code in (ErrorCode.UNREADABLE_FILE, ErrorCode.TOO_LARGE):
            raise
        return []


def labelled(book: Workbook, name: str, label_col: int) -> Labelled:
    """A parameter sheet indexed by its labels, built once per workbook (two tracks share it)."""
    key = (name, label_col)
    table = cast("Labelled | None", book.tables.get(key))
    if table is None:
        table = Labelled(optional_rows(book, name), label_col)
        book.tables[key] = table
    return table


def column_of(rows: Sequence[Row], header: str, fallback: int | None) -> int | None:
    """The column whose first-row cell reads `header` (e.g. 'SEC1-TRK2'), else the fallback."""
    wanted = normalise(header)
    first = rows[0] if rows else ()
    for index, value in enumerate(first):
        if normalise(value) == wanted:
            return index
    return fallback


class Labelled:
    """A parameter sheet indexed once by its label column (first row of each label wins)."""

    def __init__(self, rows: Sequence[Row], label_col: int) -> None:
        self.rows = rows
        self._index: dict[str, int] = {}
        for number, row in enumerate(rows):
            if label_col < len(row):
                self._index.setdefault(normalise(row[label_col]), number)

    def value(self, labels: Sequence[str], value_col: int | None) -> Any:
        """The value beside the first of `labels` the sheet has ('' when none)."""
        if value_col is None:
            return ""
        for label in labels:
            number = self._index.get(normalise(label))
            if number is not None:
                row = self.rows[number]
                return row[value_col] if value_col < len(row) else ""
        return ""


def lookup(
    rows: Sequence[Row], labels: Sequence[str], label_col: int, value_col: int | None
) -> Any:
    """The value beside the first row whose label is one of `labels` ('' when none)."""
    return Labelled(rows, label_col).value(labels, value_col)


def number(value: Any) -> float | None:
    result = to_float(value)
    return None if math.isnan(result) else result


def count(value: Any) -> int | None:
    """A small whole number such as 'points ignored'; anything else is absent."""
    result = number(value)
    if result is None or result < 0 or result > 1e6 or not float(result).is_integer():
        return None
    return int(result)


def pot_type(value: Any) -> str | None:
    text = normalise(value)
    if text.startswith("rot"):
        return "rotary"
    if text.startswith("lin"):
        return "linear"
    return None


def value_at(rows: Sequence[Row], row: int, col: int) -> float | None:
    return number(cell(rows, row, col))
