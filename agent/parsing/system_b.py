"""System B ("LTS") files: one track, no header row, final data on `Lin Error`."""

from __future__ import annotations

import re

from agent.parsing.layout import (
    Columns,
    ParsedFile,
    SheetData,
    TrackData,
    read_optional,
    read_sheet,
)
from agent.parsing.workbook import Workbook
from shared.errors import FileSkipped, NoteCode
from shared.models import Note

COLUMNS = Columns(measured=0, theory=2, error=3, position=4, upper=5, lower=6)
RESISTANCE_CELL = (0, 17)  # R1
UNTRIMMED_SHEET = "test"
FINAL_SHEET = "Lin Error"
_TRIM_PASS = re.compile(r"^\s*Trim\s+(\d+)\s*$", re.IGNORECASE)


def _find(sheet_names: list[str], wanted: str) -> str | None:
    return next((n for n in sheet_names if n.strip().lower() == wanted.lower()), None)


def is_system_b(sheet_names: list[str]) -> bool:
    return _find(sheet_names, UNTRIMMED_SHEET) is not None or (
        _find(sheet_names, FINAL_SHEET) is not None
    )


def _last_trim_pass(sheet_names: list[str]) -> str | None:
    passes = [(int(m.group(1)), n) for n in sheet_names if (m := _TRIM_PASS.match(n))]
    return max(passes)[1] if passes else None


def read_system_b(book: Workbook) -> ParsedFile:
    names = book.sheet_names
    untrimmed_name = _find(names, UNTRIMMED_SHEET)
    trimmed_name = _find(names, FINAL_SHEET)
    notes: tuple[Note, ...] = ()
    if trimmed_name is None:
        trimmed_name = _last_trim_pass(names)
        if trimmed_name is None:
            raise FileSkipped(
                "Only a 'test' sheet: this is a Final Test shop-test file, not a trim result."
            )
        notes = (
            Note(
                code=NoteCode.INTERMEDIATE_TRIM_USED,
                message=f"No 'Lin Error' sheet; analysed the last pass '{trimmed_name}'.",
            ),
        )
    trimmed = _read(book, trimmed_name)
    untrimmed, untrimmed_notes = read_optional(book, untrimmed_name, _read)
    notes += untrimmed_notes
    track = TrackData(track_id="TRK1", trimmed=trimmed, untrimmed=untrimmed, notes=notes)
    return ParsedFile(system="B", model=None, serial=None, test_date=None, tracks=[track])


def _read(book: Workbook, sheet: str) -> SheetData:
    return read_sheet(book.rows(sheet), COLUMNS, sheet, RESISTANCE_CELL)
