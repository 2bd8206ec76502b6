"""Spec tables in and out of CSV and XLSX files: QA's workbook in, one number per cell out.

Import reads the plant's free-text cells in the column they describe
(central/specs/freetext.py), checks every row like a station would
(SpecRow), and reports every row it cannot use by its spreadsheet row number
(the header is row 1). Export writes one number per cell, text as text (an
XLSX cell is typed as a string, a CSV cell that Excel would run as a formula
gets a leading apostrophe, which import takes off again), so an exported file
imported again changes nothing.

Hostile input is bounded before it is decoded: the file size, the number of
rows, the length of a cell.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from pydantic import ValidationError

from central.specs import freetext
from central.specs.record import COLUMNS, SpecRow
from shared import spec_cells
from shared.errors import SpecFileError
from shared.model_specs import Policy, ToleranceType, parse_exclude_points
from shared.untrusted import visible

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 20_000
MAX_CELL_CHARS = 500
MAX_COLUMNS = 64
FORMULA_START = spec_cells.FORMULA_START


@dataclass(frozen=True)
class RowProblem:
    row: int  # the spreadsheet's row number (header = 1)
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class ParsedFile:
    rows: list[SpecRow] = field(default_factory=list)
    row_numbers: dict[str, int] = field(default_factory=dict)  # model -> spreadsheet row
    problems: list[RowProblem] = field(default_factory=list)
    rows_read: int = 0


def _unit(text: str) -> str:
    lowered = text.strip().lower()
    if lowered in ("%", "percent"):
        return "%"
    if lowered in ("v", "volt", "volts"):
        return "V"
    raise ValueError(f"'{text[:40]}' is not % or V")


def _angle_tolerance(text: str) -> float:
    value, extra = freetext.parse_angle(text)
    if extra is not None:
        raise ValueError(f"'{text[:40]}' is not one tolerance")
    return value


def _one_resistance(text: str) -> float:
    low, high = freetext.parse_resistance(text)
    if high is not None:
        raise ValueError(f"'{text[:40]}' is a range; write it in resistance_min")
    return low


_SIMPLE: dict[str, Callable[[str], Any]] = {
    "model": str,
    "aliases": spec_cells.aliases,
    "policy": spec_cells.choice(Policy),
    "angle_tolerance_type": spec_cells.choice(ToleranceType),
    "exclude_points": parse_exclude_points,
    "resistance_in_verdict": spec_cells.yes_no,
    "angle_in_verdict": spec_cells.yes_no,
    "linearity_type": str,
    "linearity_note": str,
    "linearity_unit": _unit,
    "element_type": str,
    "product_class": str,
    "angle_tolerance": _angle_tolerance,
    "sigma_threshold": freetext.number,
    "resistance_max": lambda t: _one_resistance(t),
}


class _Row:
    """One row's fields as they are read, with the problems found on the way."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.fields: dict[str, Any] = {}
        self.problems: list[RowProblem] = []

    def problem(self, column: str | None, message: str) -> None:
        self.problems.append(RowProblem(self.number, column, visible(message[:300])))

    def put(self, column: str, value: Any, source: str) -> None:
        """Set a field; a second, different value for it (from a free-text cell) is a problem."""
        if value is None:
            return
        before = self.fields.get(column)
        if before is not None and before != value:
            self.problem(source, f"gives {column} {value!r} but that column says {before!r}")
            return
        self.fields[column] = value


def _read_cells(row: _Row, values: dict[str, str]) -> None:
    # Plain columns first, so a free-text cell can be checked against them.
    for column, text in values.items():
        if not text or column in ("linearity_spec", "resistance_min", "angle_nominal"):
            continue
        try:
            row.put(column, _SIMPLE[column](text), column)
        except ValueError as exc:
            row.problem(column, str(exc))
    if values.get("linearity_spec"):
        try:
            lin = freetext.parse_linearity(values["linearity_spec"])
        except ValueError as exc:
            row.problem("linearity_spec", str(exc))
        else:
            row.put("linearity_spec", lin.value, "linearity_spec")
            row.put("linearity_unit", lin.unit, "linearity_spec")
            row.put("linearity_type", lin.kind, "linearity_spec")
            row.put("linearity_note", lin.note, "linearity_spec")
    if values.get("resistance_min"):
        try:
            low, high = freetext.parse_resistance(values["resistance_min"])
        except ValueError as exc:
            row.problem("resistance_min", str(exc))
        else:
            row.put("resistance_min", low, "resistance_min")
            row.put("resistance_max", high, "resistance_min")
    if values.get("angle_nominal"):
        try:
            nominal, tolerance = freetext.parse_angle(values["angle_nominal"])
        except ValueError as exc:
            row.problem("angle_nominal", str(exc))
        else:
            row.put("angle_nominal", nominal, "angle_nominal")
            row.put("angle_tolerance", tolerance, "angle_nominal")


def _validated(row: _Row) -> SpecRow | None:
    if "model" not in row.fields:
        row.problem("model", "is empty")
        return None
    if row.problems:
        return None
    try:
        return SpecRow.model_validate(row.fields)
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"]) or None
            row.problem(where, str(error["msg"]).removeprefix("Value error, "))
        return None


def read_row(values: dict[str, str], number: int = 0) -> tuple[SpecRow | None, list[RowProblem]]:
    """One row of cells (column -> text), as the import reads it; the edit form uses it too,
    so a cell typed on the page means what it means in a file."""
    row = _Row(number)
    long = [c for c, v in values.items() if len(v) > MAX_CELL_CHARS]
    for column in long:
        row.problem(column, f"is over {MAX_CELL_CHARS} characters")
    if not long:
        _read_cells(row, {c: v.strip() for c, v in values.items() if c in COLUMNS})
    return _validated(row), row.problems


def parse_file(content: bytes) -> ParsedFile:
    """Every row of a CSV or XLSX spec file; raises SpecFileError when the file as a whole
    cannot be read (too big, damaged, no usable header)."""
    if len(content) > MAX_IMPORT_BYTES:
        raise SpecFileError(f"the file is {len(content):,} bytes, over {MAX_IMPORT_BYTES:,}")
    try:
        rows = spec_cells.rows_of(content, MAX_IMPORT_ROWS, MAX_COLUMNS)
    except SpecFileError:
        raise
    except Exception as exc:  # calamine and csv raise many types for a damaged file
        raise SpecFileError(
            f"the file cannot be read as CSV or XLSX ({type(exc).__name__})"
        ) from exc
    if not rows or not any(spec_cells.cell_text(c) for c in rows[0]):
        raise SpecFileError("the file is empty: it needs a header row with a 'model' column")
    header = spec_cells.header_of(rows[0], COLUMNS)
    parsed = ParsedFile()
    seen: dict[str, int] = {}
    for number, cells in enumerate(rows[1:], start=2):
        values = {h: spec_cells.cell_text(v) for h, v in zip(header, cells, strict=False) if h}
        if not any(values.values()):
            continue
        parsed.rows_read += 1
        spec, problems = read_row(values, number)
        if spec is not None:
            for name in (spec.model, *spec.aliases):
                key = name_key(name)
                if key in seen:
                    problems.append(
                        RowProblem(number, "model", f"'{name}' is already named on row {seen[key]}")
                    )
            if not problems:
                for name in (spec.model, *spec.aliases):
                    seen[name_key(name)] = number
                parsed.rows.append(spec)
                parsed.row_numbers[spec.model] = number
        parsed.problems.extend(problems)
    return parsed


def name_key(name: str) -> str:
    """How a model or alias is looked up: case and spacing do not matter (as on stations)."""
    return " ".join(name.casefold().split())


# --------------------------------------------------------------------------- export


def _ranges(points: Sequence[int]) -> str:
    """(0, 1, 48, 49, 50) -> '0-1, 48-50' (what parse_exclude_points reads)."""
    parts: list[str] = []
    start = prev = None
    for point in points:
        if start is None:
            start = prev = point
        elif prev is not None and point == prev + 1:
            prev = point
        else:
            parts.append(f"{start}-{prev}" if start != prev else f"{start}")
            start = prev = point
    if start is not None:
        parts.append(f"{start}-{prev}" if start != prev else f"{start}")
    return ", ".join(parts)


def export_values(spec: SpecRow) -> list[Any]:
    """One row of the export: numbers as numbers, flags as yes/no, lists as text."""
    cells = spec.cells()
    out: list[Any] = []
    for column in COLUMNS:
        value = cells[column]
        if column == "aliases":
            value = ", ".join(value) if value else None
        elif column == "exclude_points":
            value = _ranges(value) if value else None
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        out.append(value)
    return out


def _csv_safe(value: Any) -> Any:
    if isinstance(value, str):
        text = visible(value)
        return "'" + text if text.startswith(FORMULA_START) else text
    if isinstance(value, float):
        return repr(value)  # the shortest text that reads back as the same float
    return "" if value is None else value


def export_csv(specs: Sequence[SpecRow]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for spec in specs:
        writer.writerow([_csv_safe(v) for v in export_values(spec)])
    return out.getvalue().encode("utf-8-sig")


def export_xlsx(specs: Sequence[SpecRow]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Model specs")
    sheet.freeze_panes = "B2"

    def cell(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        written = WriteOnlyCell(sheet, value=visible(value))
        written.data_type = "s"  # never a formula, whatever the text starts with
        return written

    sheet.append([cell(c) for c in COLUMNS])
    for spec in specs:
        sheet.append([cell(v) for v in export_values(spec)])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
