"""QA's model-spec table from a CSV or XLSX file (`--specs FILE`, `analysis.specs_file`).

The header is `model, aliases, policy, linearity_spec, angle_nominal,
angle_tolerance, angle_tolerance_type, resistance_min, resistance_max,
exclude_points, sigma_threshold, resistance_in_verdict, angle_in_verdict,
element_type, product_class` (any order, only `model` required;
`linearity_type` is accepted too). The file is QA's, so every cell is
checked: a bad file is refused as a whole with every problem named by row and
column, and nothing is analysed under half a table. Its version is the
SHA-256 of its bytes, recorded on every result it governs.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from shared import spec_cells
from shared.errors import SpecFileError
from shared.model_specs import ModelSpec, Policy, SpecTable, ToleranceType, parse_exclude_points

MAX_SPEC_FILE_BYTES = 5 * 1024 * 1024
MAX_SPEC_ROWS = 20_000
MAX_SPEC_COLUMNS = 64
MAX_CELL_CHARS = 500
MAX_PROBLEMS_SHOWN = 20
COLUMNS = spec_cells.STATION_COLUMNS


def _number(text: str) -> float:
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        raise ValueError(f"{spec_cells.quoted(text)} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{spec_cells.quoted(text)} is not a finite number")
    return value


_PARSERS: dict[str, Callable[[str], Any]] = {
    "policy": spec_cells.choice(Policy),
    "angle_tolerance_type": spec_cells.choice(ToleranceType),
    "exclude_points": parse_exclude_points,
    "aliases": spec_cells.aliases,
    "resistance_in_verdict": spec_cells.yes_no,
    "angle_in_verdict": spec_cells.yes_no,
    "model": str,
    "linearity_type": str,
    "element_type": str,
    "product_class": str,
}


def _row_spec(
    values: dict[str, str], number: int, name: str, problems: list[str]
) -> ModelSpec | None:
    fields: dict[str, Any] = {}
    for column, text in values.items():
        if not text:
            continue
        if len(text) > MAX_CELL_CHARS:
            problems.append(f"{name} row {number}, column {column}: over {MAX_CELL_CHARS} chars")
            continue
        parse = _PARSERS.get(column, _number)
        try:
            fields[column] = parse(text)
        except ValueError as exc:
            problems.append(f"{name} row {number}, column {column}: {exc}")
    if "model" not in fields:
        problems.append(f"{name} row {number}, column model: empty")
        return None
    try:
        return ModelSpec.model_validate(fields)
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"]) or "row"
            problems.append(f"{name} row {number}, column {where}: {error['msg']}")
        return None


def parse_spec_file(name: str, content: bytes) -> SpecTable:
    """The table in `content` (CSV, or XLSX by its zip signature); raises SpecFileError."""
    if len(content) > MAX_SPEC_FILE_BYTES:
        raise SpecFileError(f"{name} is {len(content)} bytes, over {MAX_SPEC_FILE_BYTES}")
    try:
        rows = spec_cells.rows_of(content, MAX_SPEC_ROWS, MAX_SPEC_COLUMNS)
    except SpecFileError as exc:
        raise SpecFileError(f"{name}: {exc.message}") from exc
    except Exception as exc:  # calamine and csv raise many types for a damaged file
        raise SpecFileError(f"{name} cannot be read as CSV or XLSX ({type(exc).__name__})") from exc
    rows = [r for r in rows if any(spec_cells.cell_text(c) for c in r)]
    if not rows:
        raise SpecFileError(f"{name} is empty: it needs a header row with a 'model' column")
    if len(rows) > MAX_SPEC_ROWS + 1:
        raise SpecFileError(f"{name} has {len(rows) - 1} rows, over {MAX_SPEC_ROWS}")
    try:
        header = spec_cells.header_of(rows[0], COLUMNS)
    except SpecFileError as exc:
        raise SpecFileError(f"{name}: {exc.message}") from exc
    problems: list[str] = []
    specs: list[ModelSpec] = []
    for number, row in enumerate(rows[1:], start=2):
        values = {h: spec_cells.cell_text(v) for h, v in zip(header, row, strict=False) if h}
        spec = _row_spec(values, number, name, problems)
        if spec is not None:
            specs.append(spec)
    version = "file:" + hashlib.sha256(content).hexdigest()[:12]
    if not problems:
        try:
            return SpecTable(version=version, specs=tuple(specs))
        except ValidationError as exc:
            problems = [f"{name}: {e['msg']}" for e in exc.errors()]
    shown = "; ".join(problems[:MAX_PROBLEMS_SHOWN])
    more = f" (and {len(problems) - MAX_PROBLEMS_SHOWN} more)" if len(problems) > 20 else ""
    raise SpecFileError(f"{name} was not used: {shown}{more}", problems)


def load_spec_file(path: Path) -> SpecTable:
    """Read and check a spec file; the size is checked before the bytes are read."""
    try:
        size = path.stat().st_size
        if size > MAX_SPEC_FILE_BYTES:
            raise SpecFileError(f"{path} is {size} bytes, over {MAX_SPEC_FILE_BYTES}")
        content = path.read_bytes()
    except OSError as exc:
        raise SpecFileError(f"{path} cannot be read: {exc.strerror or exc}") from exc
    return parse_spec_file(path.name, content)
