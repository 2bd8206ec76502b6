"""Tables as CSV a spreadsheet opens safely.

Station names, models, serials, file names and alarm notes come from
stations, files and people: a cell that starts with = + - @ (or a tab or
carriage return) is a formula to Excel and LibreOffice. Such a text cell is
written with a leading apostrophe, so it shows as the text it is and runs
nothing. Numbers are written as plain numbers (a negative number stays a
number: it is never text), booleans as true/false, empty for null.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    """One value as its CSV text (before quoting, which the csv module does)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """The whole table, header first, CRLF line ends (RFC 4180)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([cell(h) for h in header])
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return out.getvalue()
