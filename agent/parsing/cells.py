"""Cell values to numbers: blanks and text become NaN, and the text is counted.

Stations write "NaN", "#VALUE!" or "n/a" where a number belongs; those are
blanks for the analysis, never a crash, but how many there were is reported.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

EXCEL_EPOCH = datetime(1899, 12, 30)

Row = Sequence[Any]


def cell(rows: Sequence[Row], row: int, col: int) -> Any:
    """The value at (row, col), or '' when the sheet does not reach that far."""
    if row >= len(rows):
        return ""
    values = rows[row]
    return values[col] if col < len(values) else ""


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def to_float(value: Any) -> float:
    """A finite float, or NaN for blanks, text and non-finite numbers."""
    kind = type(value)
    if kind is float or kind is int:
        number = float(value)
        return number if math.isfinite(number) else math.nan
    if kind is str:
        try:
            number = float(value.strip())
        except ValueError:
            return math.nan
        return number if math.isfinite(number) else math.nan
    return math.nan


def is_text_in_number_cell(value: Any) -> bool:
    """True for non-blank cells that hold something other than a finite number."""
    if type(value) in (float, int):
        return not math.isfinite(value)
    if is_blank(value):
        return False
    return math.isnan(to_float(value))


def columns(rows: Sequence[Row], cols: Sequence[int], start: int) -> list[list[Any]]:
    """The cells of the given columns from row `start` down, one list per column.

    calamine hands back a rectangle, so a plain index per row does it (only the
    wanted columns: real sheets are 17-30 columns wide and a full transpose
    costs twice as much); ragged rows (other writers) are padded with blanks.
    """
    block = rows[start:]
    try:
        return [[r[c] for r in block] for c in cols]
    except IndexError:
        width = max(cols) + 1
        padded = [list(r) + [""] * (width - len(r)) for r in block]
        return [[r[c] for r in padded] for c in cols]


def to_numbers(values: Sequence[Any]) -> tuple[np.ndarray, int]:
    """Cells as float64 (NaN where there is no number) and how many held text.

    Most columns are all numbers: numpy converts those in one call. Columns
    with blanks (real files leave limits blank at the ends, System B sheets
    run on past the data) take one pass over the cells.
    """
    try:
        numbers = np.array(values, dtype=np.float64)
    except (ValueError, TypeError):
        return _mixed_numbers(values)
    if math.isfinite(numbers.sum()):  # one reduction settles the usual all-finite column
        return numbers, 0
    bad = ~np.isfinite(numbers)  # only text such as "NaN" or "inf" gets here as non-finite
    if bad.any():
        numbers[bad] = np.nan
        return numbers, int(bad.sum())
    return numbers, 0


def _mixed_numbers(values: Sequence[Any]) -> tuple[np.ndarray, int]:
    out: list[float] = []
    append = out.append
    text = 0
    for value in values:
        kind = type(value)
        if kind is float:
            if value - value == 0.0:  # finite: inf - inf and nan - nan are nan
                append(value)
            else:
                append(math.nan)
                text += 1
        elif kind is int:
            append(float(value))
        elif value is None or (kind is str and not value.strip()):
            append(math.nan)
        else:
            number = to_float(value)
            append(number)
            if math.isnan(number):
                text += 1  # "NaN", "#VALUE!", a date where a number belongs
    return np.array(out, dtype=np.float64), text


def to_text(value: Any) -> str | None:
    """Metadata text: whole numbers lose their '.0' (serial 209.0 is '209')."""
    if is_blank(value):
        return None
    if type(value) is float and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def to_datetime(value: Any) -> datetime | None:
    """An Excel serial day number, or a date cell, as a naive datetime."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    number = to_float(value)
    if math.isnan(number) or not 1.0 <= number <= 2958465.0:  # 1900-01-01 .. 9999-12-31
        return None
    return EXCEL_EPOCH + timedelta(seconds=round(number * 86400.0))
