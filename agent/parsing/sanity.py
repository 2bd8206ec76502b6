"""Plausibility of what was read.

A corrupted legacy .xls has no checksum: it can open "successfully" and hand
over wrong numbers. Values no potentiometer test can produce condemn the
track (Error, `implausible_data`); smaller oddities are reported as notes.
"""

from __future__ import annotations

import numpy as np

from agent.parsing.layout import SheetData
from shared.errors import ErrorCode, InputFileError, NoteCode
from shared.models import Note

MAX_ABS_VOLTS = 50.0  # errors and limits; test voltages are 5-10 V
MAX_ABS_POSITION = 1.0e5  # degrees or inches
MAX_BACKWARD_STEP_SHARE = 0.10


def check_sheet(sheet: SheetData, label: str) -> list[Note]:
    """Raise for impossible data; return notes for suspicious but usable data."""
    n = sheet.positions.size
    worst_error = float(np.abs(sheet.errors).max()) if n else 0.0
    if worst_error > MAX_ABS_VOLTS:
        raise _implausible(f"{label}: an error of {worst_error:.4g} V is not a possible reading")
    for name, limits in (("upper", sheet.upper), ("lower", sheet.lower)):
        present = limits[np.isfinite(limits)]
        if present.size and float(np.abs(present).max()) > MAX_ABS_VOLTS:
            raise _implausible(f"{label}: an {name} limit of {np.abs(present).max():.4g} V")
    if n and float(np.abs(sheet.positions).max()) > MAX_ABS_POSITION:
        raise _implausible(
            f"{label}: a position of {np.abs(sheet.positions).max():.4g} is beyond any travel"
        )
    notes: list[Note] = []
    steps = np.diff(sheet.positions)
    backward = int((steps <= 0).sum())
    if backward:
        if backward > MAX_BACKWARD_STEP_SHARE * max(steps.size, 1):
            raise _implausible(
                f"{label}: positions go backwards or repeat at {backward} of {steps.size} steps"
            )
        notes.append(
            Note(
                code=NoteCode.POSITIONS_NOT_INCREASING,
                message=f"{label}: positions do not increase at {backward} step(s).",
            )
        )
    inverted = int((sheet.upper < sheet.lower).sum())  # NaN compares False
    if inverted:
        notes.append(
            Note(
                code=NoteCode.LIMITS_INVERTED,
                message=f"{label}: upper limit below lower limit at {inverted} point(s); "
                "those points cannot pass.",
            )
        )
    if n and not sheet.errors.any():
        notes.append(
            Note(
                code=NoteCode.ALL_ZERO_ERROR,
                message=f"{label}: every error value is exactly 0; check the station export.",
            )
        )
    return notes


def _implausible(detail: str) -> InputFileError:
    return InputFileError(
        ErrorCode.IMPLAUSIBLE_DATA,
        f"{detail}. The file is probably corrupt; re-export it from the station.",
    )
