"""System A ("DLTS") workbooks: the sheet set, order and data-sheet layout of real files.

Sheets, in the order the station writes them: `Model Parameters`, `Track
Parameters`, `Trim Parameters`, `Notes`, `Process`, `ref`, `Stats`, `Report`,
`Report Data`, then per track `SEC1 TRK<t> 0` (untrimmed) and `SEC1 TRK<t> <p> TRM1`
for each trim pass p (the last pass is the final data). A data sheet has a header
row, data from row 2 (Excel numbering), and the metadata labels in column A with
their values in column B, on rows shared with the first data points.
"""

from __future__ import annotations

import numpy as np

from agent.simulate import system_a_params as params
from agent.simulate.grid import (
    STALE_CALIBRATION,
    Canvas,
    Cell,
    ExcelDate,
    Grid,
    Sheets,
    day_of,
    excel_serial,
    numbers,
    work_rng,
)
from agent.simulate.units import TrackSpec, UnitSpec

DATA_HEADERS: tuple[str, ...] = (
    "Meas Volts", "Index", "Theory Volts", "Lin Error", "Position", "Upper Lin Lim",
    "Lower Lin Lim", "pass/fail?", "trim target", "initial trim value", "final trim value",
    "Zero-Start", "Pred. Deltas", "Used Deltas", "mod theory", "Cut Lengths", "Trim Currents",
)  # fmt: skip
FIRST_HEADER_COLUMN = 3  # D

METADATA_LABELS: tuple[str, ...] = (
    "model#", "shop#", "sectionID", "trackID", "trimID", "date", "phase value",
    "length value", "meas value", "resistance", "predicted r", "used r", "test volts",
    "#ofLinPoints", "DMM ID", "DMM S/N", "Volt Scale", "Res Scale", "Last Cal.", "Next Cal.",
    "Center Tap", "Laser Start pos.", "Current Used", "Current Pred.", "Current Init.",
    "Calc. Angle",
)  # fmt: skip
REF_METADATA_LABELS = METADATA_LABELS[:-1]  # the template sheet has no `Calc. Angle`

# Data columns (0-based): D measured, E index, F theory, G error, H position,
# I upper, J lower, K pass flag, L trim target, M/N trim values, O zero-based travel.
COL_MEASURED, COL_INDEX, COL_THEORY, COL_ERROR, COL_POSITION = 3, 4, 5, 6, 7
COL_UPPER, COL_LOWER, COL_FLAG, COL_TARGET, COL_TRAVEL = 8, 9, 10, 11, 14
_CHART_COLUMN = 20  # U: the report chart's caption cells
_TEMPLATE_DAY = ExcelDate(41436.0)  # 2013-06-11, the date the ref template was saved
# Stations of these models write the centre-tap reading (about 4-5 V) into
# `Center Tap` in a date-time format, so it reads as 1900-01-04 23:51 and the like.
_CENTER_TAP_MODELS = frozenset({"6828", "8506A"})


def system_a_sheets(unit: UnitSpec) -> Sheets:
    """Every sheet of a System A file, in workbook order."""
    sheets: Sheets = [
        ("Model Parameters", params.model_parameters(unit)),
        ("Track Parameters", params.track_parameters(unit)),
        ("Trim Parameters", params.trim_parameters(unit)),
        ("Notes", params.notes()),
        ("Process", params.process()),
        ("ref", ref_sheet(unit)),
        ("Stats", params.stats()),
        ("Report", params.report(unit)),
        ("Report Data", report_data(unit)),
    ]
    for track in unit.tracks:
        sheets.append((f"SEC1 TRK{track.track} 0", data_sheet(unit, track, 0)))
        for number in range(1, len(track.pass_errors) + 1):
            name = f"SEC1 TRK{track.track} {number} TRM1"
            sheets.append((name, data_sheet(unit, track, number)))
    return sheets


def _shop(serial: str) -> Cell:
    """Numeric shop numbers are stored as numbers, others (254A) as text."""
    return float(serial) if serial.isdigit() else serial


def _flags(errors: np.ndarray, upper: np.ndarray, lower: np.ndarray) -> list[Cell]:
    """`pass/fail?`: the station copies the error into the cell of every point outside."""
    outside = (errors > upper) | (errors < lower)
    return [float(e) if out else None for e, out in zip(errors.tolist(), outside, strict=True)]


def data_sheet(unit: UnitSpec, track: TrackSpec, stage: int) -> Grid:
    """`SEC1 TRKn 0` (stage 0) or `SEC1 TRKn <stage> TRM1`, header and metadata included."""
    trimmed = stage > 0
    errors = track.pass_errors[stage - 1] if trimmed else track.untrimmed_error
    ohms = track.pass_ohms[stage - 1] if trimmed else track.untrimmed_ohms
    canvas = Canvas()
    _header(canvas, unit.model)
    canvas.down(1, 0, list(METADATA_LABELS[1:]))
    canvas.down(0, 1, _metadata(unit, track, stage, ohms))
    _points(canvas, track, errors, track.measured[stage])
    if trimmed:
        _trim_columns(canvas, unit, track, stage)
    _chart_captions(canvas, unit.model, unit.serial, ohms, day_of(unit.tested_at), track, stage)
    if unit.info.chart_header:
        stamp = ExcelDate(excel_serial(unit.tested_at), with_time=True)
        _chart_header(canvas, unit.model, _shop(unit.serial), stamp)
    return canvas.grid()


def _header(canvas: Canvas, model: str) -> None:
    canvas.across(0, 0, ["model#", model])
    canvas.across(0, FIRST_HEADER_COLUMN, list(DATA_HEADERS))


def _metadata(unit: UnitSpec, track: TrackSpec, stage: int, ohms: float) -> list[Cell]:
    """Column B, rows 1-26: the station's record of this measurement."""
    trimmed = stage > 0
    # Some untrimmed sheets keep the template's cells: no shop#, section 1, no track,
    # no point count, no meter, no calibration dates (real 8555 TRK2, some TRK1).
    template = track.template_metadata and not trimmed
    angle: Cell = "NaN" if np.isnan(track.measured_angle) else track.measured_angle
    rng = work_rng(unit.serial, unit.model, track.track, stage, "metadata")
    laser = _laser_start(unit, track)
    current = round(float(work_rng(unit.serial, track.track, "current").uniform(9e-4, 5.5e-3)), 9)
    cells: list[Cell] = [
        unit.model,
        None if template else _shop(unit.serial),
        1.0 if template else "SEC1",
        None if template else f"TRK{track.track}",
        "TRM1" if trimmed else None,
        day_of(unit.tested_at),
        0.0,
        track.nominal_angle,
        angle,
        ohms,
        float(round(ohms * rng.uniform(1.05, 1.12))) if trimmed else None,
        float(round(unit.info.theoretical_ohms * rng.uniform(0.98, 1.0))) if trimmed else None,
        unit.test_volts,
        None if template else float(track.positions.size),
        None if template else "NI PXI-4065",
        None if template else "17DDD99",
        "10 VDC",
        "-1 Ohms",
        None if template else STALE_CALIBRATION,
        None if template else STALE_CALIBRATION,
        _center_tap(unit, rng),
        laser if trimmed else None,
        current if trimmed else None,
        current if trimmed else None,
        round(current * float(rng.uniform(1.0, 1.1)), 9) if trimmed else None,
        angle,
    ]
    return cells


def _center_tap(unit: UnitSpec, rng: np.random.Generator) -> Cell:
    """`Center Tap` (B21): a volts reading formatted as a date-time, or empty."""
    if unit.model not in _CENTER_TAP_MODELS:
        return None
    return ExcelDate(round(float(rng.uniform(3.8, 5.1)), 6), with_time=True)


def _laser_start(unit: UnitSpec, track: TrackSpec) -> float:
    """Where the laser starts cutting this track: fixed per unit and track."""
    return round(float(work_rng(unit.serial, unit.model, track.track, "laser").uniform(5, 36)), 4)


def _points(canvas: Canvas, track: TrackSpec, errors: np.ndarray, measured: np.ndarray) -> None:
    """Columns D-K and O of every measurement point, from row 1."""
    error_cells = numbers(errors)
    for row in track.blank_error_rows:
        error_cells[row] = None
    flags = _flags(errors, track.upper, track.lower)
    for row in track.blank_error_rows:
        flags[row] = None
    columns: dict[int, list[Cell]] = {
        COL_MEASURED: numbers(measured),
        COL_INDEX: [float(i) for i in range(track.positions.size)],
        COL_THEORY: numbers(track.theory),
        COL_ERROR: error_cells,
        COL_POSITION: numbers(track.positions),
        COL_UPPER: numbers(track.upper),
        COL_LOWER: numbers(track.lower),
        COL_FLAG: flags,
        COL_TRAVEL: numbers(np.round(track.positions - track.positions[0], 6)),
    }
    for col, cells in columns.items():
        canvas.down(1, col, cells)


def _trim_columns(canvas: Canvas, unit: UnitSpec, track: TrackSpec, stage: int) -> None:
    """L-T on a pass sheet: trim targets and the laser's bookkeeping for this pass."""
    n = track.positions.size
    first, last = unit.info.ignored
    ignored = np.zeros(n, dtype=bool)
    ignored[:first] = True
    ignored[n - last :] = True
    before = track.measured[stage - 1]
    after = track.measured[stage]
    rng = work_rng(unit.serial, unit.model, track.track, stage, "trim")
    laser = _laser_start(unit, track)
    predicted = round(float(rng.uniform(0.03, 0.17)), 6)
    used = round(predicted * float(rng.uniform(0.4, 0.95)), 6)
    current = round(float(rng.uniform(9e-4, 5.5e-3)), 9)
    for i in range(n):
        row = i + 1
        skip = bool(ignored[i])
        canvas.put(row, 11, "NaN" if skip else round(float(track.theory[i]), 6))
        canvas.put(
            row, 12, "NaN" if skip else round(float(before[i]) - float(rng.uniform(0, 1e-3)), 6)
        )
        canvas.put(row, 13, "NaN" if skip else round(float(after[i]), 6))
        canvas.put(row, 15, 0.0 if i == 0 else predicted)
        canvas.put(row, 16, 0.0 if i == 0 else used)
        cut = laser if rng.random() < 0.4 else laser - float(rng.uniform(0.0, 1.6))
        canvas.put(row, 18, round(cut, 4))
        canvas.put(row, 19, round(current + float(rng.normal(0.0, 2e-9)), 9))


def _chart_captions(
    canvas: Canvas,
    model: str,
    serial: str,
    ohms: float,
    day: ExcelDate,
    track: TrackSpec,
    stage: int,
) -> None:
    """Column U: the captions the report chart reads (`MODEL:`, `SHOP#`, `RESISTANCE:`)."""
    shop = "" if track.template_metadata and stage == 0 else serial
    canvas.down(24, _CHART_COLUMN, [f"MODEL: {model}", f"SHOP# {shop}", f"RESISTANCE: {ohms:.0f}"])
    canvas.down(33, _CHART_COLUMN, [f"MODEL: {model}", "  TEST RESULTS DATA FOR MODEL 8555  ", day])


def _chart_header(canvas: Canvas, model: str, shop: Cell, stamp: ExcelDate) -> None:
    """Row 2, V-AD: the chart title block some programs (8852) write on every data sheet."""
    canvas.put(1, 21, "LINEARITY ERROR DATA")
    canvas.across(1, 25, ["MODEL:", model, "SHOP:", shop, stamp])


def ref_sheet(unit: UnitSpec) -> Grid:
    """`ref`: the data-sheet template as last saved, with its stale straight-line data."""
    track = unit.tracks[0]
    n = track.positions.size
    canvas = Canvas()
    _header(canvas, unit.model)
    canvas.down(1, 0, list(REF_METADATA_LABELS[1:]))
    canvas.put(2, 1, 1.0)
    canvas.put(5, 1, _TEMPLATE_DAY)
    canvas.put(6, 1, 0.0)
    canvas.put(7, 1, track.nominal_angle)
    canvas.put(12, 1, unit.test_volts)
    stale = np.linspace(0.0, unit.test_volts, n)
    errors = stale - track.theory
    columns: dict[int, list[Cell]] = {
        COL_MEASURED: numbers(stale),
        COL_INDEX: [float(i) for i in range(n)],
        COL_THEORY: numbers(track.theory),
        COL_ERROR: numbers(errors),
        COL_POSITION: numbers(track.positions),
        COL_UPPER: numbers(track.upper),
        COL_LOWER: numbers(track.lower),
        COL_FLAG: _flags(errors, track.upper, track.lower),
        COL_TRAVEL: [float(i) for i in range(n)],
    }
    for col, cells in columns.items():
        canvas.down(1, col, cells)
    canvas.down(24, _CHART_COLUMN, [f"MODEL: {unit.model}", "SHOP# ", "RESISTANCE: "])
    canvas.down(
        33,
        _CHART_COLUMN,
        [f"MODEL: {unit.model}", "  TEST RESULTS DATA FOR MODEL 8555  ", _TEMPLATE_DAY],
    )
    if unit.info.chart_header:
        _chart_header(canvas, unit.model, 0.0, STALE_CALIBRATION)
    return canvas.grid()


def report_data(unit: UnitSpec) -> Grid:
    """`Report Data`: what the report charts plot, final data of up to two tracks.

    Column A holds the captions' values, B-I the first track (index, measured,
    theory, error, position, limits, fail flag), J-P the second (or the template's
    leftovers), Q the caption texts.
    """
    canvas = Canvas()
    first = unit.tracks[0]
    second = unit.tracks[1] if len(unit.tracks) > 1 else None
    alias = "Inner Track" if second else ("" if unit.info.chart_header else "Track 2 ID")
    canvas.down(0, 0, [
        _shop(unit.model), _shop(unit.serial), day_of(unit.tested_at), "Outer Track", 0.0,
        first.nominal_angle, unit.test_volts, alias, 0.0,
        second.nominal_angle if second else 342.0, unit.test_volts,
    ])  # fmt: skip
    _report_block(canvas, 1, first, with_index=True)
    if second is not None:
        _report_block(canvas, 9, second, with_index=False)
    captions = [f"MODEL: {unit.model}", f"SHOP: {unit.serial}-Outer Track"]
    if second is not None:
        captions.append(f"SHOP: {unit.serial}-Inner Track")
    canvas.down(0, 16, [*captions, "LINEARITY: FAILED", "LINEARITY: FAILED"])
    return canvas.grid()


def _report_block(canvas: Canvas, col: int, track: TrackSpec, *, with_index: bool) -> None:
    """One track's final curve as the report sheet lays it out."""
    errors = track.trimmed_error if track.trimmed_error is not None else track.untrimmed_error
    measured = track.measured[-1]
    outside = (errors > track.upper) | (errors < track.lower)
    columns: list[list[Cell]] = [
        numbers(np.round(measured, 6)),
        numbers(track.theory),
        numbers(errors),
        numbers(track.positions),
        numbers(track.upper),
        numbers(track.lower),
        [1.0 if out else 0.0 for out in outside],
    ]
    if with_index:
        columns.insert(0, [float(i) for i in range(track.positions.size)])
    for offset, cells in enumerate(columns):
        canvas.down(0, col + offset, cells)
