"""System B ("LTS") workbooks: the sheet set, order and cell layout of real files.

Sheets, in the order the station writes them: `Model Parameters`, `Trim
Parameters`, `Lin Error` (final data), `Lin Chart`, `test` (untrimmed), `hold`,
`Sheet1`, then `TrimVolts<k>` and `Trim <k>` for each pass k, then the work sheets
`VOLTAGES`, `ERRORS`, `TRIMDATA`. Measurement sheets have no header row: data
starts in row 1, with the sheet's own figures (R1 resistance, K1 / L1 angles and
the station's angle arithmetic in N-T) beside the first points.
"""

from __future__ import annotations

import numpy as np

from agent.simulate import system_b_params as params
from agent.simulate.grid import Canvas, Cell, Grid, Sheets, numbers, work_rng
from agent.simulate.units import TrackSpec, UnitSpec

# Columns (0-based): A measured, B index, C theory, D error, E position, F upper,
# G lower, H multiplier, I cumulative travel; J/K a second band (8340-3 style).
COL_MEASURED, COL_INDEX, COL_THEORY, COL_ERROR, COL_POSITION = 0, 1, 2, 3, 4
COL_UPPER, COL_LOWER, COL_MULTIPLIER, COL_TRAVEL = 5, 6, 7, 8
COL_MEASURED_ANGLE, COL_THEORY_ANGLE, COL_RESISTANCE = 10, 11, 17

_ANGLE_LABELS = (
    "Degrees you want between points", "Voltage", "Theoretical angle", "Measured angle",
    "Number of points ", "Even Number of points", "Degrees between points",
    "Degrees between points using Even Value",
)  # fmt: skip
_END_LABELS = (
    "Degrees Fom ends", "Angle at theoretical length",
    "Voltage at this angle for theoretical length", "Voltage at measured length",
    "Angle at measured length",
)  # fmt: skip


def system_b_sheets(unit: UnitSpec) -> Sheets:
    """Every sheet of a System B file, in workbook order."""
    track = unit.tracks[0]
    final = len(track.pass_errors)
    sheets: Sheets = [
        ("Model Parameters", params.model_parameters(unit)),
        ("Trim Parameters", params.trim_parameters(unit)),
        ("Lin Error", data_sheet(unit, track, final)),
        ("Lin Chart", lin_chart(unit)),
        ("test", data_sheet(unit, track, 0)),
        ("hold", []),
        ("Sheet1", []),
    ]
    for number in range(1, final + 1):
        sheets.append((f"TrimVolts{number}", trim_volts(unit, track, number)))
        sheets.append((f"Trim {number}", data_sheet(unit, track, number)))
    sheets += [
        ("VOLTAGES", voltages(track)),
        ("ERRORS", errors_sheet(track)),
        ("TRIMDATA", trim_data(unit, track)),
    ]
    return sheets


def data_sheet(unit: UnitSpec, track: TrackSpec, stage: int) -> Grid:
    """`test` (stage 0), `Trim <stage>` or `Lin Error` (the last stage): data from row 1."""
    trimmed = stage > 0
    errors = track.pass_errors[stage - 1] if trimmed else track.untrimmed_error
    ohms = track.pass_ohms[stage - 1] if trimmed else track.untrimmed_ohms
    n = track.positions.size
    canvas = Canvas()
    error_cells = numbers(errors)
    for row in track.blank_error_rows:
        error_cells[row] = None
    columns: dict[int, list[Cell]] = {
        COL_MEASURED: numbers(track.measured[stage]),
        COL_INDEX: [float(i) for i in range(n)],
        COL_THEORY: numbers(track.theory),
        COL_ERROR: error_cells,
        COL_POSITION: numbers(track.positions),
        COL_UPPER: numbers(track.upper),
        COL_LOWER: numbers(track.lower),
        COL_MULTIPLIER: [1.0] * n,
        COL_TRAVEL: numbers(track.positions - track.positions[0]),
    }
    if unit.info.band == "ends_wide":
        columns[9] = [unit.info.spec] * n
        columns[10] = [-unit.info.spec] * n
    for col, cells in columns.items():
        canvas.down(0, col, cells)
    _angle_block(canvas, unit, track, stage)
    canvas.put(0, COL_RESISTANCE, ohms)
    if trimmed:
        _trimmed_extras(canvas, unit, track, stage, ohms)
    else:
        canvas.put(1, 12, unit.shop)
    return canvas.grid()


def _angle_block(canvas: Canvas, unit: UnitSpec, track: TrackSpec, stage: int) -> None:
    """K1/L1, M1 and the station's angle arithmetic in N-O (values) and S-T (ends)."""
    n = track.positions.size
    length = track.nominal_angle
    measured = length if np.isnan(track.measured_angle) else track.measured_angle
    step = length / (n - 1)
    if stage == 0 and not np.isnan(track.measured_angle):
        canvas.put(0, COL_MEASURED_ANGLE, track.measured_angle)
    if stage > 0:
        canvas.put(0, COL_THEORY_ANGLE, length)
    canvas.put(0, 12, float(n - 1))
    canvas.down(0, 13, [round(step, 2), unit.test_volts, length, measured,
                        float(n - 2 if stage else n - 1), float(n - 1), step, step])  # fmt: skip
    canvas.down(0, 14, list(_ANGLE_LABELS))
    half = length / 2.0
    end_volts = unit.test_volts * step / 2.0 / length
    canvas.down(1, 18, [0.005, -(half - step / 2.0), end_volts, end_volts, -half])
    canvas.down(1, 19, list(_END_LABELS))


def _trimmed_extras(
    canvas: Canvas, unit: UnitSpec, track: TrackSpec, stage: int, ohms: float
) -> None:
    """What a pass sheet adds: S1/T1, the R-column bookkeeping, two centre readings."""
    n = track.positions.size
    rng = work_rng(unit.serial, unit.model, stage, "lts pass")
    canvas.across(
        0, 18, [round(float(rng.uniform(-1, 1)), 6), round(float(rng.uniform(0, 0.9)), 6)]
    )
    predicted = round(ohms * float(rng.uniform(0.95, 1.07)), 6)
    first_block = round(float(rng.uniform(0.15, 0.7)), 6)
    second_block = round(first_block * float(rng.uniform(0.9, 1.0)), 6)
    canvas.down(1, COL_RESISTANCE, [predicted, 0.0])
    canvas.down(3, COL_RESISTANCE, [first_block] * (n - 1) + [0.0] + [second_block] * (n - 1))
    canvas.put(2 * n + 2, COL_RESISTANCE, predicted)
    centre = unit.test_volts / 2.0 + float(rng.uniform(0.0, 0.07))
    canvas.down(n, COL_MEASURED, [round(centre, 6), round(centre + 2e-5, 6)])


def lin_chart(unit: UnitSpec) -> Grid:
    """`Lin Chart`: O1 the station compensation, then the chart's caption texts."""
    track = unit.tracks[0]
    ohms = f"RESISTANCE: {track.trimmed_ohms:.0f}"
    canvas = Canvas()
    canvas.put(0, 14, unit.compensation)
    canvas.put(1, 2, f"MODEL: {unit.model}")
    canvas.put(1, 5, "SHOP: ")
    canvas.put(1, 9, ohms)
    canvas.down(1, 14, [f"SHOP: {unit.shop}", f"MODEL: {unit.model}", ohms])
    return canvas.grid()


def trim_volts(unit: UnitSpec, track: TrackSpec, stage: int) -> Grid:
    """`TrimVolts<k>`: the readings at each interior point while the laser cut it.

    Row 1 holds the volts before the pass; below it, each point that was cut gets
    its successive readings moving towards the result, the rest are 0.0.
    """
    rng = work_rng(unit.serial, unit.model, stage, "trim volts")
    before = track.measured[stage - 1][1:-1]
    after = track.measured[stage][1:-1]
    rows = int(rng.integers(18, 60))
    grid: Grid = [[round(float(v), 6) for v in before]]
    cuts = np.minimum(rng.geometric(0.25, before.size), rows - 1)
    cuts[rng.random(before.size) < 0.5] = 0
    for r in range(1, rows):
        share = r / rows
        row: list[Cell] = []
        for j in range(before.size):
            if r > cuts[j]:
                row.append(0.0)
                continue
            reading = before[j] + (after[j] - before[j]) * share + float(rng.normal(0.0, 5e-4))
            row.append(round(float(reading), 6))
        grid.append(row)
    return grid


def voltages(track: TrackSpec) -> Grid:
    """`VOLTAGES`: untrimmed volts in A, then each pass's volts (NaN at the first point)."""
    columns = [np.round(m, 6) for m in track.measured]
    grid: Grid = []
    for i in range(track.positions.size):
        row: list[Cell] = [float(columns[0][i])]
        row += ["NaN" if i == 0 else float(c[i]) for c in columns[1:]]
        grid.append(row)
    return grid


def errors_sheet(track: TrackSpec) -> Grid:
    """`ERRORS`: the error of every measurement, untrimmed first, rounded as written."""
    curves = [np.round(e, 6) for e in (track.untrimmed_error, *track.pass_errors)]
    return [[float(c[i]) for c in curves] for i in range(track.positions.size)]


def trim_data(unit: UnitSpec, track: TrackSpec) -> Grid:
    """`TRIMDATA`: per pass, the correction the trim aimed for at each point."""
    rng = work_rng(unit.serial, unit.model, "trim data")
    curves = (track.untrimmed_error, *track.pass_errors)
    grid: Grid = []
    for i in range(track.positions.size):
        row: list[Cell] = []
        for k in range(1, len(curves)):
            delta = -curves[k - 1][i] * float(rng.uniform(0.8, 1.2)) - float(rng.uniform(0, 0.01))
            row.append("NaN" if i == 0 else round(delta, 6))
        grid.append(row)
    return grid
