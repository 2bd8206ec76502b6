"""Tables as CSV a spreadsheet opens safely.

Station names, models, serials, file names and alarm notes come from
stations, files and people: a cell that starts with = + - @ (or a tab or
carriage return) is a formula to Excel and LibreOffice. Such a text cell is
written with a leading apostrophe, so it shows as the text it is and runs
nothing. Numbers are written as plain numbers (a negative number stays a
number: it is never text), booleans as true/false, empty for null.

A table's rows are the API's row bodies (central/api/schemas.py) flattened to
one level, `day` + `yield_pct` -> `day_yield_pct`, so a CSV row holds the
same figures as its JSON row, and every row has every column.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel

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


def flatten(body: BaseModel) -> dict[str, Any]:
    """A row body as one level of columns: nested figures become `day_yield_pct`."""
    found: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}_{key}" if prefix else key, inner)
        else:
            found[prefix] = value

    walk("", body.model_dump(mode="python", by_alias=True))
    return found


def columns(row_type: type[BaseModel]) -> list[str]:
    """The CSV header of a row body: its flattened fields, nested ones expanded even when
    a row has them null (so every row has every column)."""
    names: list[str] = []
    for name, info in row_type.model_fields.items():
        nested = [
            t
            for t in getattr(info.annotation, "__args__", (info.annotation,))
            if isinstance(t, type) and issubclass(t, BaseModel)
        ]
        if nested:
            names += [f"{name}_{inner}" for inner in columns(nested[0])]
        else:
            names.append(name)
    return names


def bodies_table(row_type: type[BaseModel], rows: Iterable[BaseModel]) -> str:
    """Row bodies of one type as a CSV table."""
    header = columns(row_type)
    return table(header, ([flat.get(h) for h in header] for flat in map(flatten, rows)))
