"""System B ("LTS") files: one track, no header row, final data on `Lin Error`.

Measurement sheets are `test` (untrimmed), `Trim 1`, `Trim 2`, ... (the
passes) and `Lin Error` (the final trimmed data; the highest `Trim N` only
when `Lin Error` is missing). `TrimVolts<N>`, `VOLTAGES`, `ERRORS`,
`TRIMDATA`, `Lin Chart` are the station's work sheets, never measurements.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Literal, cast

from agent.parsing import parameters as params
from agent.parsing.cells import to_text
from agent.parsing.layout import (
    Columns,
    ParsedFile,
    PassSheet,
    SheetData,
    SpecFacts,
    read_passes,
    read_sheet,
)
from agent.parsing.workbook import Workbook
from shared.errors import FileSkipped, NoteCode
from shared.models import Note

COLUMNS = Columns(measured=0, theory=2, error=3, position=4, upper=5, lower=6)
RESISTANCE_CELL = (0, 17)  # R1
MEASURED_ANGLE_CELL = (0, 10)  # `test` K1, when column K is not a second band (see _facts)
NOMINAL_ANGLE_CELL = (0, 11)  # `Lin Error` L1: the theoretical angle
UNTRIMMED_SHEET = "test"
FINAL_SHEET = "Lin Error"
_TRIM_PASS = re.compile(r"^\s*Trim\s+(\d+)\s*$", re.IGNORECASE)


def _find(sheet_names: list[str], wanted: str) -> str | None:
    return next((n for n in sheet_names if n.strip().lower() == wanted.lower()), None)


def is_system_b(sheet_names: list[str]) -> bool:
    return _find(sheet_names, UNTRIMMED_SHEET) is not None or (
        _find(sheet_names, FINAL_SHEET) is not None
    )


def trim_passes(sheet_names: list[str]) -> list[PassSheet]:
    """`Trim N` sheets in pass order (workbook order breaking ties)."""
    found = [
        (int(m.group(1)), order, name)
        for order, name in enumerate(sheet_names)
        if (m := _TRIM_PASS.match(name))
    ]
    return [PassSheet(number, name) for number, _, name in sorted(found)]


def _facts(book: Workbook, untrimmed: str | None, final: str) -> SpecFacts:
    """Model Parameters hold the values in column A and the labels in column B."""
    table = params.labelled(book, "Model Parameters", 1)

    def value(*labels: str) -> float | None:
        return params.number(table.value(labels, 0))

    def points(*labels: str) -> int | None:
        return params.count(table.value(labels, 0))

    # Linear templates label the same two cells `Min Stroke` / `Max Stroke` (8415-1).
    window = sorted(
        v
        for v in (value("min elec. Angle", "Min Stroke"), value("max elec. Angle", "Max Stroke"))
        if v is not None
    )
    measured = None
    if untrimmed:
        rows = book.rows(untrimmed)
        row, col = MEASURED_ANGLE_CELL
        # 8340-3 templates use J/K for a second +/-0.05 band: then K1 is that band's
        # lower limit, not an angle, and K2 holds the same limit again.
        if params.value_at(rows, row + 1, col) is None:
            measured = params.value_at(rows, row, col)
    return SpecFacts(
        pot_type=cast(
            "Literal['rotary', 'linear'] | None",
            params.pot_type(table.value(["Pot Type"], 0)),
        ),
        resistance_min=value("Min Resistance"),
        resistance_max=value("Max resistance"),
        angle_nominal=_nominal(book, final, value("Pot Angle")),
        angle_measured=measured,
        angle_min=window[0] if len(window) == 2 else None,
        angle_max=window[1] if len(window) == 2 else None,
        ignored_start=points("Initial Points Ignored"),
        ignored_end=points("Ending points Ignored", "Ending Points Ignored"),
    )


def _nominal(book: Workbook, final: str, pot_angle: float | None) -> float | None:
    """`Lin Error` L1, the angle the theory column was computed with; else |Pot Angle| (A3)."""
    nominal = params.value_at(book.rows(final), *NOMINAL_ANGLE_CELL)
    if nominal is None and pot_angle is not None:
        return abs(pot_angle)
    return nominal


def read_system_b(book: Workbook) -> ParsedFile:
    names = book.sheet_names
    untrimmed_name = _find(names, UNTRIMMED_SHEET)
    final_name = _find(names, FINAL_SHEET)
    trims = trim_passes(names)
    notes: tuple[Note, ...] = ()
    if final_name is None:
        if not trims:
            raise FileSkipped(
                "Only a 'test' sheet: this is a Final Test shop-test file, not a trim result."
            )
        notes = (
            Note(
                code=NoteCode.INTERMEDIATE_TRIM_USED,
                message=f"No 'Lin Error' sheet; analysed the last pass '{trims[-1].sheet}'.",
            ),
        )
    else:
        # `Lin Error` is the station's final measurement, taken after the last pass.
        trims.append(PassSheet(trims[-1].number if trims else 1, final_name))
    untrimmed = PassSheet(0, untrimmed_name) if untrimmed_name else None
    track = read_passes(book, "TRK1", untrimmed, trims, _read)
    final = track.final
    assert final is not None  # noqa: S101 - read_passes raises when there is no data
    track_facts = _facts(book, untrimmed_name if track.untrimmed else None, final.sheet)
    model = to_text(params.labelled(book, "Model Parameters", 1).value(["Model number"], 0))
    track = replace(track, notes=notes + track.notes, facts=track_facts)
    return ParsedFile(system="B", model=model, serial=None, test_date=None, tracks=[track])


def _read(book: Workbook, sheet: str) -> SheetData:
    return read_sheet(book.rows(sheet), COLUMNS, sheet, RESISTANCE_CELL, NOMINAL_ANGLE_CELL)
