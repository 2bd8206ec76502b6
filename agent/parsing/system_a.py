"""System A ("DLTS") files: per track an untrimmed sheet and one sheet per trim pass.

Real stations name the sheets `SEC1 TRK1 0` (untrimmed) and
`SEC1 TRK1 <pass> TRM<set>` (after each laser pass, with the trim-parameter
set used); older ones write `SEC1 TRK1 TRM` or `TRK1 TRM1`. The final data is
the highest pass, workbook order breaking ties (`1 TRM1` then `1 TRM2`: TRM2
is final). Data sheets have a header row and the metadata in columns A/B.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Literal, cast

from agent.parsing import parameters as params
from agent.parsing.cells import cell, to_datetime, to_text
from agent.parsing.layout import (
    FILE_LEVEL_CODES,
    Columns,
    ParsedFile,
    PassSheet,
    SheetData,
    SpecFacts,
    TrackData,
    read_passes,
    read_sheet,
)
from agent.parsing.workbook import Workbook
from shared.errors import ErrorCode, InputFileError
from shared.models import ErrorInfo

COLUMNS = Columns(measured=3, theory=5, error=6, position=7, upper=8, lower=9)
MODEL_CELL = (0, 1)  # B1
SERIAL_CELL = (1, 1)  # B2
DATE_CELL = (5, 1)  # B6
NOMINAL_ANGLE_CELL = (7, 1)  # B8 "length value"
MEASURED_ANGLE_CELL = (8, 1)  # B9 "meas value" (sometimes the text "NaN")
RESISTANCE_CELL = (9, 1)  # B10

_SHEET = re.compile(
    r"^\s*(?:SEC(?P<section>\d+)\s+)?TRK(?P<track>\d+)\s+"
    r"(?:(?P<untrimmed>0)|(?:(?P<pass>\d+)\s+)?TRM(?P<set>\d*))\s*$",
    re.IGNORECASE,
)


@dataclass
class _TrackSheets:
    section: int
    track: int
    untrimmed: PassSheet | None = None
    trims: list[tuple[int, int, PassSheet]] = field(default_factory=list)  # (pass, order, sheet)

    @property
    def track_id(self) -> str:
        return f"TRK{self.track}" if self.section == 1 else f"SEC{self.section}-TRK{self.track}"

    def ordered_trims(self) -> list[PassSheet]:
        """Pass order; the last one is final (highest pass, later sheet on a tie)."""
        return [sheet for _, _, sheet in sorted(self.trims, key=lambda t: (t[0], t[1]))]


def is_system_a(sheet_names: list[str]) -> bool:
    return any("SEC1 TRK" in name.upper() or _SHEET.match(name) for name in sheet_names)


def group_sheets(sheet_names: list[str]) -> dict[tuple[int, int], _TrackSheets]:
    """Measurement sheets per (section, track); any other sheet is not a measurement."""
    tracks: dict[tuple[int, int], _TrackSheets] = {}
    for order, name in enumerate(sheet_names):
        match = _SHEET.match(name)
        if not match:
            continue
        section, track = int(match.group("section") or 1), int(match.group("track"))
        entry = tracks.setdefault((section, track), _TrackSheets(section, track))
        if match.group("untrimmed"):
            if entry.untrimmed is None:
                entry.untrimmed = PassSheet(number=0, sheet=name)
            continue
        number = int(match.group("pass") or 1)
        trim_set = int(match.group("set")) if match.group("set") else None
        entry.trims.append((number, order, PassSheet(number, name, trim_set)))
    return tracks


def _read(book: Workbook, sheet: str) -> SheetData:
    return read_sheet(book.rows(sheet), COLUMNS, sheet, RESISTANCE_CELL, NOMINAL_ANGLE_CELL)


def _facts(book: Workbook, sheets: _TrackSheets, final_sheet: str) -> SpecFacts:
    """The station's own spec for this track, from its parameter and data sheets."""
    data_rows = book.rows(final_sheet)
    track_table = params.labelled(book, "Track Parameters", 0)
    track_rows = track_table.rows
    track_col = params.column_of(track_rows, f"SEC{sheets.section}-TRK{sheets.track}", sheets.track)
    trims = sheets.ordered_trims()
    trim_set = trims[-1].trim_set if trims and trims[-1].trim_set else 1
    trim_table = params.labelled(book, "Trim Parameters", 0)
    trim_rows = trim_table.rows
    trim_col = params.column_of(
        trim_rows, f"SEC{sheets.section}-TRK{sheets.track}-TRM{trim_set}", None
    ) or params.column_of(trim_rows, f"SEC{sheets.section}-TRK{sheets.track}-TRM1", sheets.track)
    model_table = params.labelled(book, "Model Parameters", 0)

    def track_value(*labels: str) -> float | None:
        return params.number(track_table.value(labels, track_col))

    angle_a = track_value("Length Minimum")
    angle_b = track_value("Length Maximum", "Length Mamimum")  # sic: real templates differ
    window = sorted(v for v in (angle_a, angle_b) if v is not None)  # minimum may be larger
    return SpecFacts(
        pot_type=cast(
            "Literal['rotary', 'linear'] | None",
            params.pot_type(model_table.value(["Type"], 1)),
        ),
        resistance_min=track_value("Final Resistance Lower Limit"),
        resistance_max=track_value("Final Resistance Upper Limit"),
        angle_nominal=params.value_at(data_rows, *NOMINAL_ANGLE_CELL),
        angle_measured=params.value_at(data_rows, *MEASURED_ANGLE_CELL),
        angle_min=window[0] if len(window) == 2 else None,
        angle_max=window[1] if len(window) == 2 else None,
        ignored_start=params.count(
            trim_table.value(["Initial Linearity Points Ignored"], trim_col)
        ),
        ignored_end=params.count(trim_table.value(["Final Linearity Points Ignored"], trim_col)),
    )


def _read_track(book: Workbook, sheets: _TrackSheets) -> TrackData:
    trims = sheets.ordered_trims()
    track = read_passes(book, sheets.track_id, sheets.untrimmed, trims, _read)
    final = track.final
    assert final is not None  # noqa: S101 - read_passes raises when there is no data
    return replace(track, facts=_facts(book, sheets, final.sheet))


def read_system_a(book: Workbook) -> ParsedFile:
    grouped = group_sheets(book.sheet_names)
    if not grouped:
        raise InputFileError(
            ErrorCode.UNKNOWN_LAYOUT,
            "Sheet names mention 'SEC1 TRK' but none is a track sheet "
            "('SEC1 TRK1 0' or 'SEC1 TRK1 1 TRM1').",
        )
    tracks: list[TrackData] = []
    for key in sorted(grouped):
        try:
            tracks.append(_read_track(book, grouped[key]))
        except InputFileError as exc:
            if exc.code in FILE_LEVEL_CODES:
                raise
            tracks.append(_failed_track(grouped[key].track_id, exc))
    meta_sheet = next((t.final.sheet for t in tracks if t.final is not None), None)
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
        error=ErrorInfo(code=exc.code, message=exc.message),
    )
