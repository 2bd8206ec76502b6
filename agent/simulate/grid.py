"""Sheets as plain grids of cells, shared by the layout builders and both file writers.

A layout is first drawn on a sparse `Canvas` (cells placed by row and column, the
way the station templates place them), then turned into rows of cells. One grid
for both .xls and .xlsx means the two file types cannot drift apart.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np


@dataclass(frozen=True)
class ExcelDate:
    """A number Excel shows as a date (or date and time): days since 1899-12-30."""

    serial: float
    with_time: bool = False


Cell = float | int | str | ExcelDate | None
Grid = list[list[Cell]]
Sheets = list[tuple[str, Grid]]

_EXCEL_EPOCH = datetime(1899, 12, 30)

# What the stations write in `Last Cal.` / `Next Cal.`: serial 1461.79, which Excel
# shows as 1903-12-31 19:00 (a 1904-epoch zero read in the 1900 epoch).
STALE_CALIBRATION = ExcelDate(1461.0 + 19.0 / 24.0, with_time=True)


def excel_serial(moment: datetime) -> float:
    """Days since 1899-12-30, the way Excel stores a date-time as a number."""
    return (moment - _EXCEL_EPOCH).total_seconds() / 86400.0


def day_of(moment: datetime) -> ExcelDate:
    """The calendar day of `moment` as an Excel date cell (no time of day)."""
    return ExcelDate(float(int(excel_serial(moment))))


def numbers(values: np.ndarray) -> list[Cell]:
    """Array to cells: NaN becomes an empty cell."""
    return [None if np.isnan(v) else float(v) for v in values.tolist()]


def work_rng(*keys: object) -> np.random.Generator:
    """A generator for station work numbers (cut lengths, currents), fixed by `keys`.

    Sheet builders are pure functions of the unit; the numbers a station writes
    for its own bookkeeping are drawn from this, so the unit's own draws (and so
    its intended verdict) never depend on how many such cells a layout has.
    """
    return np.random.default_rng(zlib.crc32(repr(keys).encode("utf-8")))


class Canvas:
    """A sparse sheet: cells placed anywhere, empty everywhere else."""

    def __init__(self) -> None:
        self._cells: dict[tuple[int, int], Cell] = {}

    def put(self, row: int, col: int, value: Cell) -> None:
        """Place one cell; None leaves it empty."""
        if value is not None:
            self._cells[(row, col)] = value

    def down(self, row: int, col: int, values: Sequence[Cell]) -> None:
        """Place `values` in one column, from `row` downwards."""
        for offset, value in enumerate(values):
            self.put(row + offset, col, value)

    def across(self, row: int, col: int, values: Sequence[Cell]) -> None:
        """Place `values` in one row, from `col` rightwards."""
        for offset, value in enumerate(values):
            self.put(row, col + offset, value)

    def grid(self) -> Grid:
        """Rows of cells, each row as wide as its last filled cell."""
        if not self._cells:
            return []
        height = max(r for r, _ in self._cells) + 1
        rows: Grid = [[] for _ in range(height)]
        for (r, c), value in sorted(self._cells.items()):
            row = rows[r]
            row.extend([None] * (c + 1 - len(row)))
            row[c] = value
        return rows


def column_name(index: int) -> str:
    """Excel column letters: 0 -> A, 25 -> Z, 26 -> AA."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name
