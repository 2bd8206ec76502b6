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

import csv
import hashlib
import io
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from python_calamine import CalamineWorkbook

from shared.errors import SpecFileError
from shared.model_specs import ModelSpec, Policy, SpecTable, ToleranceType, parse_exclude_points

MAX_SPEC_FILE_BYTES = 5 * 1024 * 1024
MAX_SPEC_ROWS = 20_000
MAX_CELL_CHARS = 500
MAX_PROBLEMS_SHOWN = 20
COLUMNS = (
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
_TRUE = {"yes", "y", "true", "1", "x"}
_FALSE = {"no", "n", "false", "0", ""}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _number(text: str) -> float:
    value = float(text.replace(",", ""))
    if not math.isfinite(value):
        raise ValueError("is not a finite number")
    return value


def _flag(text: str) -> bool:
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError("is not yes/no")


def _aliases(text: str) -> list[str]:
    return [part.strip() for part in text.replace(";", ",").replace("|", ",").split(",")]


def _choice(kind: type[Policy] | type[ToleranceType]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            return kind(text.lower())
        except ValueError:
            raise ValueError(f"is not one of {', '.join(m.value for m in kind)}") from None

    return parse


_PARSERS: dict[str, Callable[[str], Any]] = {
    "policy": _choice(Policy),
    "angle_tolerance_type": _choice(ToleranceType),
    "exclude_points": parse_exclude_points,
    "aliases": lambda t: [a for a in _aliases(t) if a],
    "resistance_in_verdict": _flag,
    "angle_in_verdict": _flag,
    "model": str,
    "linearity_type": str,
    "element_type": str,
    "product_class": str,
}


def _rows_from_csv(content: bytes) -> list[list[str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1252", errors="replace")  # Excel's "CSV" on Windows
    return [list(row) for row in csv.reader(io.StringIO(text))]


def _rows_from_xlsx(content: bytes) -> list[list[str]]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(content))
    sheet = book.get_sheet_by_index(0)
    if sheet.height > MAX_SPEC_ROWS + 1:
        raise SpecFileError(f"the first sheet has {sheet.height} rows, over {MAX_SPEC_ROWS}")
    return [[_text(v) for v in row] for row in sheet.to_python(skip_empty_area=False)]


def _header(row: Sequence[str], name: str) -> list[str]:
    header = [" ".join(c.lower().split()).replace(" ", "_") for c in row]
    unknown = [h for h in header if h and h not in COLUMNS]
    if unknown:
        raise SpecFileError(
            f"{name}: unknown column(s) {', '.join(repr(u[:40]) for u in unknown[:5])}; the "
            f"header may use {', '.join(COLUMNS)}"
        )
    if "model" not in header:
        raise SpecFileError(f"{name}: the header has no 'model' column")
    repeated = {h for h in header if h and header.count(h) > 1}
    if repeated:
        raise SpecFileError(f"{name}: column(s) {', '.join(sorted(repeated))} appear twice")
    return header


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
            shown = text[:40].replace("\n", " ")
            problems.append(f"{name} row {number}, column {column}: '{shown}' {_why(exc)}")
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


def _why(exc: ValueError) -> str:
    text = str(exc)
    if "could not convert" in text:
        return "is not a number"
    return text


def parse_spec_file(name: str, content: bytes) -> SpecTable:
    """The table in `content` (CSV, or XLSX by its zip signature); raises SpecFileError."""
    if len(content) > MAX_SPEC_FILE_BYTES:
        raise SpecFileError(f"{name} is {len(content)} bytes, over {MAX_SPEC_FILE_BYTES}")
    try:
        rows = _rows_from_xlsx(content) if content[:2] == b"PK" else _rows_from_csv(content)
    except SpecFileError:
        raise
    except Exception as exc:  # calamine and csv raise many types for a damaged file
        raise SpecFileError(f"{name} cannot be read as CSV or XLSX ({type(exc).__name__})") from exc
    rows = [r for r in rows if any(_text(c) for c in r)]
    if not rows:
        raise SpecFileError(f"{name} is empty: it needs a header row with a 'model' column")
    if len(rows) > MAX_SPEC_ROWS + 1:
        raise SpecFileError(f"{name} has {len(rows) - 1} rows, over {MAX_SPEC_ROWS}")
    header = _header([_text(c) for c in rows[0]], name)
    problems: list[str] = []
    specs: list[ModelSpec] = []
    for number, row in enumerate(rows[1:], start=2):
        values = {h: _text(v) for h, v in zip(header, row, strict=False) if h}
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
