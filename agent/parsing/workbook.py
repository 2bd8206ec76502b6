"""Open a workbook once with python-calamine and read whole sheets as rows.

calamine reads .xlsx and legacy .xls with one API and is several times faster
than openpyxl (docs/decisions/0001-excel-reader.md). Every failure to open or
read becomes an InputFileError with a code an operator can act on.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from shared.errors import ErrorCode, InputFileError

Rows = list[list[Any]]

# calamine raises several unrelated types for bad files, and a Rust panic on a
# mangled one arrives as pyo3's PanicException, which derives from
# BaseException. All of them mean "this file cannot be read".
_READER_FAILURES = BaseException


def _reraise_interrupts(exc: BaseException) -> None:
    if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
        raise exc


class Workbook:
    """The sheets of one file, each read at most once."""

    def __init__(self, path: Path, content: bytes, max_rows: int) -> None:
        """Parse content (the bytes that were hashed), so the verdict and the hash agree."""
        self.path = path
        self.max_rows = max_rows
        try:
            self._book = CalamineWorkbook.from_filelike(io.BytesIO(content))
            self.sheet_names: list[str] = list(self._book.sheet_names)
        except _READER_FAILURES as exc:
            _reraise_interrupts(exc)
            raise InputFileError(
                ErrorCode.UNREADABLE_FILE,
                f"{path.name} is not a readable Excel workbook ({_short(exc)}). "
                "Check that the station finished writing it and that it opens in Excel.",
            ) from exc
        self._cache: dict[str, Rows] = {}
        # Derived views of parameter sheets (agent.parsing.parameters), built once per file.
        self.tables: dict[tuple[str, int], object] = {}

    def rows(self, name: str) -> Rows:
        """All rows of a sheet (blank cells are ''), refusing sheets over the row cap."""
        if name in self._cache:
            return self._cache[name]
        try:
            sheet = self._book.get_sheet_by_name(name)
            height = sheet.height
            if height > self.max_rows:
                raise InputFileError(
                    ErrorCode.TOO_LARGE,
                    f"Sheet '{name}' has {height} rows, over the cap of {self.max_rows}. "
                    "Raise max_rows in the agent config if such files are expected.",
                )
            rows: Rows = sheet.to_python(skip_empty_area=False)
        except InputFileError:
            raise
        except _READER_FAILURES as exc:
            _reraise_interrupts(exc)
            raise InputFileError(
                ErrorCode.UNREADABLE_FILE,
                f"Sheet '{name}' of {self.path.name} cannot be read ({_short(exc)}); "
                "the file may be truncated or corrupt.",
            ) from exc
        self._cache[name] = rows
        return rows

    def close(self) -> None:
        with contextlib.suppress(Exception):  # a read-only handle: nothing to recover
            self._book.close()

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]
