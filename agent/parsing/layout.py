"""What a reader hands to the analysis: per-track arrays plus file metadata.

Plain dataclasses over numpy arrays; NaN in a limit array means "no spec at
this point". Positions and errors are always finite.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

import numpy as np

from agent.parsing.cells import Row, columns, to_float, to_numbers
from shared.errors import ErrorCode, InputFileError, NoteCode
from shared.models import ErrorInfo, Note

if TYPE_CHECKING:
    from agent.parsing.workbook import Workbook

MAX_HEADER_SCAN = 20
# Failures that condemn the whole file rather than one sheet or track.
FILE_LEVEL_CODES = (ErrorCode.UNREADABLE_FILE, ErrorCode.TOO_LARGE)


@dataclass(frozen=True)
class Columns:
    """Zero-based column indices of one layout's data block."""

    measured: int
    theory: int
    error: int
    position: int
    upper: int
    lower: int


@dataclass(frozen=True)
class SheetData:
    positions: np.ndarray
    errors: np.ndarray
    upper: np.ndarray
    lower: np.ndarray
    resistance: float | None
    notes: tuple[Note, ...] = ()
    sheet: str = ""  # the sheet it was read from, as the workbook names it
    # Theory volts per point (the rotation's lever, shared/band.py); None = no rotation possible.
    theory: np.ndarray | None = None
    # The nominal electrical angle the theory column was computed with (System A B8 of
    # this sheet, System B `Lin Error` L1); None when the sheet does not say.
    angle_nominal: float | None = None

    def theory_or_zero(self) -> np.ndarray:
        """Theory volts, or zeros (a rotation then changes nothing) when unknown."""
        return self.theory if self.theory is not None else np.zeros_like(self.errors)


@dataclass(frozen=True)
class PassData:
    """One measurement sheet of a track: untrimmed (number 0) or after laser pass `number`."""

    number: int
    sheet: str
    trim_set: int | None
    data: SheetData | None
    error: ErrorInfo | None = None  # the sheet exists but could not be used


@dataclass(frozen=True)
class SpecFacts:
    """What the station's own parameter sheets say about this track (reported, not judged)."""

    pot_type: Literal["rotary", "linear"] | None = None
    resistance_min: float | None = None
    resistance_max: float | None = None
    angle_nominal: float | None = None
    angle_measured: float | None = None
    angle_min: float | None = None
    angle_max: float | None = None
    ignored_start: int | None = None
    ignored_end: int | None = None


@dataclass(frozen=True)
class TrackData:
    track_id: str
    trimmed: SheetData | None  # the final pass; None when the unit was never trimmed
    untrimmed: SheetData | None
    notes: tuple[Note, ...] = ()
    error: ErrorInfo | None = None  # set when the track's sheets could not be read
    passes: tuple[PassData, ...] = ()  # untrimmed first, final last
    facts: SpecFacts = field(default_factory=SpecFacts)

    @property
    def final(self) -> SheetData | None:
        """The data the verdict is about: the last pass, else the untrimmed measurement."""
        return self.trimmed or self.untrimmed


@dataclass(frozen=True)
class ParsedFile:
    system: Literal["A", "B"]
    model: str | None
    serial: str | None
    test_date: datetime | None
    tracks: list[TrackData]
    notes: list[Note] = field(default_factory=list)


def first_data_row(rows: Sequence[Row], position_col: int, sheet: str) -> int:
    """The first row (within the first 20) whose position cell holds a number."""
    if not any(any(v not in ("", None) for v in r) for r in rows[:MAX_HEADER_SCAN]):
        raise InputFileError(
            ErrorCode.NO_DATA,
            f"Sheet '{sheet}' is empty. The station may have saved the file before "
            "the measurement finished; re-run or re-export the unit.",
        )
    for i, r in enumerate(rows[:MAX_HEADER_SCAN]):
        value = r[position_col] if position_col < len(r) else ""
        if type(value) in (float, int) or (isinstance(value, str) and _numeric_text(value)):
            return i
    raise InputFileError(
        ErrorCode.UNKNOWN_LAYOUT,
        f"Sheet '{sheet}' has no numeric positions in column "
        f"{_column_letter(position_col)} within its first {MAX_HEADER_SCAN} rows; "
        "this is not a layout the agent knows.",
    )


def read_sheet(
    rows: Sequence[Row],
    cols: Columns,
    sheet: str,
    resistance_cell: tuple[int, int],
    nominal_cell: tuple[int, int] | None = None,
) -> SheetData:
    """Data block of one sheet: stop at the first blank position; fill or drop missing errors."""
    start = first_data_row(rows, cols.position, sheet)
    (position_cells,) = columns(rows, (cols.position,), start)
    positions, _ = to_numbers(position_cells)
    blank = np.flatnonzero(np.isnan(positions))
    stop = int(blank[0]) if blank.size else positions.size
    positions = positions[:stop]
    # The data ends at the first blank position: only that block is read further.
    others = (cols.error, cols.measured, cols.theory, cols.upper, cols.lower)
    block = columns(rows[: start + stop], others, start)
    converted = [to_numbers(values) for values in block]
    errors, measured, theory, upper, lower = (numbers for numbers, _ in converted)
    notes: list[Note] = []

    text_cells = sum(text for _, text in converted)
    if text_cells:
        notes.append(
            Note(
                code=NoteCode.BLANK_OR_TEXT_CELLS,
                message=f"{sheet}: {text_cells} cell(s) held text where a number belongs; "
                "read as blank.",
            )
        )
    missing = np.isnan(errors)
    if missing.any():
        computable = missing & ~np.isnan(measured) & ~np.isnan(theory)
        if computable.any():
            errors = errors.copy()
            errors[computable] = measured[computable] - theory[computable]
            notes.append(
                Note(
                    code=NoteCode.ERROR_COMPUTED,
                    message=f"{sheet}: {int(computable.sum())} blank error cell(s) computed "
                    "as measured - theory.",
                )
            )
        keep = ~np.isnan(errors)
        dropped = int((~keep).sum())
        if dropped:
            notes.append(
                Note(
                    code=NoteCode.POINTS_DROPPED,
                    message=f"{sheet}: {dropped} point(s) without an error value left out.",
                )
            )
            positions, errors = positions[keep], errors[keep]
            upper, lower = upper[keep], lower[keep]
            measured, theory = measured[keep], theory[keep]
    theory = _theory(theory, measured, errors, sheet, notes)
    row, col = resistance_cell
    resistance = to_float(rows[row][col]) if row < len(rows) and col < len(rows[row]) else None
    return SheetData(
        sheet=sheet,
        positions=np.ascontiguousarray(positions),
        errors=np.ascontiguousarray(errors),
        upper=np.ascontiguousarray(upper),
        lower=np.ascontiguousarray(lower),
        resistance=None if resistance is None or np.isnan(resistance) else resistance,
        notes=tuple(notes),
        theory=np.ascontiguousarray(theory),
        angle_nominal=None if nominal_cell is None else _number_at(rows, *nominal_cell),
    )


def _theory(
    theory: np.ndarray, measured: np.ndarray, errors: np.ndarray, sheet: str, notes: list[Note]
) -> np.ndarray:
    """Theory volts for every analysed point: blank cells from measured - error, else 0.

    A point with no theory at all cannot take part in a rotation (its error
    is kept as it is); that is noted, never hidden.
    """
    missing = np.isnan(theory)
    if not missing.any():
        return theory
    theory = theory.copy()
    theory[missing] = measured[missing] - errors[missing]
    unknown = np.isnan(theory)
    if unknown.any():
        theory[unknown] = 0.0
        notes.append(
            Note(
                code=NoteCode.THEORY_MISSING,
                message=f"{sheet}: {int(unknown.sum())} point(s) have no theory volts; a "
                "rotation of the theory line leaves them unchanged.",
            )
        )
    return theory


def _number_at(rows: Sequence[Row], row: int, col: int) -> float | None:
    value = to_float(rows[row][col]) if row < len(rows) and col < len(rows[row]) else np.nan
    return None if np.isnan(value) else float(value)


def _numeric_text(value: str) -> bool:
    return not np.isnan(to_float(value))


def _column_letter(index: int) -> str:
    return chr(ord("A") + index) if index < 26 else f"#{index + 1}"


def read_optional(
    book: Workbook, sheet: str | None, read: Callable[[Workbook, str], SheetData]
) -> tuple[SheetData | None, tuple[Note, ...]]:
    """An untrimmed sheet only adds context: if it cannot be used, say so and go on.

    A file-level failure (corrupt or over the cap) still stops the file.
    """
    if sheet is None:
        return None, ()
    try:
        return read(book, sheet), ()
    except InputFileError as exc:
        if exc.code in FILE_LEVEL_CODES:
            raise
        return None, (Note(code=str(exc.code), message=f"Untrimmed data not used: {exc.message}"),)


@dataclass(frozen=True)
class PassSheet:
    """A measurement sheet found by name, before it is read."""

    number: int
    sheet: str
    trim_set: int | None = None


def read_passes(
    book: Workbook,
    track_id: str,
    untrimmed: PassSheet | None,
    trims: Sequence[PassSheet],
    read: Callable[[Workbook, str], SheetData],
) -> TrackData:
    """Read a track's untrimmed sheet and every pass; the last pass in `trims` is final.

    The final pass must be readable (it carries the verdict); an untrimmed or
    intermediate sheet that cannot be used is kept in the history with its
    error and noted, and the analysis goes on.
    """
    notes: list[Note] = []
    passes: list[PassData] = []
    final = trims[-1] if trims else None
    for entry in ([untrimmed] if untrimmed else []) + list(trims):
        if entry is final:
            data: SheetData | None = read(book, entry.sheet)
            passes.append(PassData(entry.number, entry.sheet, entry.trim_set, data))
            continue
        data, problems = read_optional(book, entry.sheet, read)
        error = None
        if data is None and problems:
            error = ErrorInfo(code=problems[0].code, message=problems[0].message)
            if entry is not untrimmed:
                notes.append(
                    Note(
                        code=NoteCode.PASS_UNREADABLE,
                        message=f"{track_id}: pass sheet '{entry.sheet}' not used: "
                        f"{problems[0].message}",
                    )
                )
            else:
                notes.extend(problems)
        passes.append(PassData(entry.number, entry.sheet, entry.trim_set, data, error))
    untrimmed_data = passes[0].data if untrimmed else None
    trimmed = passes[-1].data if final else None
    if trimmed is None:
        if untrimmed_data is None:
            raise InputFileError(
                ErrorCode.NO_DATA, f"{track_id}: its untrimmed sheet has no usable data."
            )
        notes.append(
            Note(
                code=NoteCode.UNTRIMMED_ONLY,
                message=f"{track_id} has only its untrimmed sheet (not trimmed, or the trim "
                "was aborted); the untrimmed data was analysed.",
            )
        )
    return TrackData(
        track_id=track_id,
        trimmed=trimmed,
        untrimmed=untrimmed_data,
        notes=tuple(notes),
        passes=tuple(passes),
    )
