"""Plausibility of what was read.

A corrupted legacy .xls has no checksum: it can open "successfully" and hand
over wrong numbers. Values no potentiometer test can produce condemn the
track (Error, `implausible_data`); smaller oddities are reported as notes.

Limits are not errors: real stations open the band to +/-148 V over part of
the travel (model 8888) to mean "no constraint there". Such a band is the
station's spec and is analysed as it is (note `wide_limits`); only limits no
spreadsheet of volts could hold are treated as corruption.
"""

from __future__ import annotations

from agent.analysis.shape import plausibility_figures
from agent.parsing.layout import SheetData
from shared.errors import ErrorCode, InputFileError, NoteCode
from shared.models import Note

MAX_ABS_VOLTS = 50.0  # errors: test voltages are 5-10 V
MAX_ABS_LIMIT = 1.0e4  # volts; real bands reach +/-148 V where the station sets no constraint
WIDE_LIMIT = 1.0  # volts; a band edge beyond this is "no practical constraint" at that point
MAX_ABS_POSITION = 1.0e5  # degrees or inches
MAX_BACKWARD_STEP_SHARE = 0.10


def check_sheet(sheet: SheetData, label: str) -> list[Note]:
    """Raise for impossible data; return notes for suspicious but usable data."""
    n = sheet.positions.size
    worst_error, measured, top_upper, top_lower, farthest, backward, wide, swapped = (
        plausibility_figures(sheet.positions, sheet.errors, sheet.upper, sheet.lower, WIDE_LIMIT)
    )
    if n and worst_error > MAX_ABS_VOLTS:
        raise _implausible(f"{label}: an error of {worst_error:.4g} V is not a possible reading")
    if n and not measured:
        raise InputFileError(
            ErrorCode.NOT_MEASURED,
            f"{label}: the error is exactly 0 at all {n} points, so the element was not "
            "measured (open contact or a station export fault). Re-test the unit.",
        )
    for name, top in (("upper", top_upper), ("lower", top_lower)):
        if top > MAX_ABS_LIMIT:
            raise _implausible(f"{label}: an {name} limit of {top:.4g} V")
    widest = max(top_upper, top_lower, 0.0)
    if n and farthest > MAX_ABS_POSITION:
        raise _implausible(f"{label}: a position of {farthest:.4g} is beyond any travel")
    notes: list[Note] = []
    steps = max(n - 1, 0)
    if backward:
        if backward > MAX_BACKWARD_STEP_SHARE * max(steps, 1):
            raise _implausible(
                f"{label}: positions go backwards or repeat at {backward} of {steps} steps"
            )
        notes.append(
            Note(
                code=NoteCode.POSITIONS_NOT_INCREASING,
                message=f"{label}: positions do not increase at {backward} step(s).",
            )
        )
    if widest > WIDE_LIMIT:
        notes.append(
            Note(
                code=NoteCode.WIDE_LIMITS,
                message=f"{label}: the band opens to +/-{widest:.4g} V ({wide} limit cell(s) "
                f"beyond {WIDE_LIMIT:g} V), the station's 'no constraint' there; analysed as "
                "written, and the mean spec and sigma threshold include these limits.",
            )
        )
    if swapped:
        notes.append(
            Note(
                code=NoteCode.LIMITS_SWAPPED,
                message=f"{label}: upper limit below lower limit at {swapped} point(s); "
                "the verdict follows the limits as written, so those points cannot pass.",
            )
        )
    return notes


def _implausible(detail: str) -> InputFileError:
    return InputFileError(
        ErrorCode.IMPLAUSIBLE_DATA,
        f"{detail}. The file is probably corrupt; re-export it from the station.",
    )
