"""System A ("DLTS") files: one sheet pair per track, header row, metadata in A/B."""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.parsing.cells import cell, to_datetime, to_text
from agent.parsing.layout import (
    FILE_LEVEL_CODES,
    Columns,
    ParsedFile,
    SheetData,
    TrackData,
    read_optional,
    read_sheet,
)
from agent.parsing.workbook import Workbook
from shared.errors import ErrorCode, InputFileError, NoteCode
from shared.models import ErrorInfo, Note

COLUMNS = Columns(measured=3, theory=5, error=6, position=7, upper=8, lower=9)
MODEL_CELL = (0, 1)  # B1
SERIAL_CELL = (1, 1)  # B2
DATE_CELL = (5, 1)  # B6
RESISTANCE_CELL = (9, 1)  # B10

# `SEC1 TRK1 0` (untrimmed), `SEC1 TRK1 TRM` (trimmed); older files: `TRK1 TRM1`.
_SHEET = re.compile(r"^\s*(?:SEC\d+\s+)?TRK(\d+)\s+(0|TRM(\d*))\s*$", re.IGNORECASE)


@dataclass
class _TrackSheets:
    untrimmed: str | None = None
    trimmed: str | None = None
    trimmed_rank: int = -1


def is_system_a(sheet_names: list[str]) -> bool:
    return any("SEC1 TRK" in name.upper() or _SHEET.match(name) for name in sheet_names)


def _group_sheets(sheet_names: list[str]) -> dict[int, _TrackSheets]:
    tracks: dict[int, _TrackSheets] = {}
    for name in sheet_names:
        match = _SHEET.match(name)
        if not match:
            continue
        entry = tracks.setdefault(int(match.group(1)), _TrackSheets())
        if match.group(2) == "0":
            entry.untrimmed = name
            continue
        rank = int(match.group(3) or 0)
        if rank > entry.trimmed_rank:  # the last trim pass is the final data
            entry.trimmed, entry.trimmed_rank = name, rank
    return tracks


def _read_track(book: Workbook, track_no: int, sheets: _TrackSheets) -> TrackData:
    track_id = f"TRK{track_no}"
    trimmed = _read(book, sheets.trimmed) if sheets.trimmed else None
    untrimmed, notes = read_optional(book, sheets.untrimmed, _read)
    if trimmed is None:
        if untrimmed is None:
            raise InputFileError(
                ErrorCode.NO_DATA, f"{track_id}: its untrimmed sheet has no usable data."
            )
        notes += (
            Note(
                code=NoteCode.UNTRIMMED_ONLY,
                message=f"{track_id} has only its untrimmed sheet (trim aborted?); "
                "the untrimmed data was analysed.",
            ),
        )
    return TrackData(track_id=track_id, trimmed=trimmed, untrimmed=untrimmed, notes=notes)


def _read(book: Workbook, sheet: str) -> SheetData:
    return read_sheet(book.rows(sheet), COLUMNS, sheet, RESISTANCE_CELL)


def read_system_a(book: Workbook) -> ParsedFile:
    grouped = _group_sheets(book.sheet_names)
    if not grouped:
        raise InputFileError(
            ErrorCode.UNKNOWN_LAYOUT,
            "Sheet names mention 'SEC1 TRK' but none is a track sheet "
            "('SEC1 TRK1 0' or 'SEC1 TRK1 TRM').",
        )
    tracks: list[TrackData] = []
    for track_no in sorted(grouped):
        try:
            tracks.append(_read_track(book, track_no, grouped[track_no]))
        except InputFileError as exc:
            if exc.code in FILE_LEVEL_CODES:
                raise
            tracks.append(_failed_track(f"TRK{track_no}", exc))
    meta_sheet = next(
        (s for s in (grouped[n].trimmed or grouped[n].untrimmed for n in sorted(grouped)) if s),
        None,
    )
    meta_rows = book.rows(meta_sheet) if meta_sheet else []
    return ParsedFile(
        system="A",
        model=to_text(cell(meta_rows, *MODEL_CELL)),
        serial=to_text(cell(meta_rows, *SERIAL_CELL)),
        test_date=to_datetime(cell(meta_rows, *DATE_CELL)),
        tracks=tracks,
    )


def _failed_track(track_id: str, exc: InputFileError) -> TrackData:
    """A track whose sheets cannot be read still appears, carrying its error."""
    return TrackData(
        track_id=track_id,
        trimmed=None,
        untrimmed=None,
        error=ErrorInfo(code=str(exc.code), message=exc.message),
    )
