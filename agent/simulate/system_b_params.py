"""System B ("LTS") set-up sheets: `Model Parameters` and `Trim Parameters`.

The LTS template writes values in column A and labels in column B (units in C,
explanations in D) of `Model Parameters`, 62 rows, the same rows in every file;
the labels, units and notes below are copied from the real files.
"""

from __future__ import annotations

from agent.simulate.grid import Canvas, Cell, ExcelDate, Grid
from agent.simulate.units import UnitSpec

# (label, unit, note) for rows 1-62; the values are filled in by `model_parameters`.
MODEL_PARAMETER_ROWS: tuple[tuple[str, str, str], ...] = (
    ("Model number", "", "Template was last updated"),
    ("Pot Type", "", ""),
    ("Pot Angle", "Deg", ""),
    ("Start Position", "Deg", ""),
    ("Stop Angle", "Deg", ""),
    ("min elec. Angle", "Deg", ""),
    ("max elec. Angle", "Deg", ""),
    ("Max resistance", "Ohms", ""),
    ("Min Resistance", "Ohms", ""),
    ("Theo. Resistance", "Ohms", ""),
    ("Circle Cut Length", "Deg", "Not Used"),
    ("Endset%", "%", "Used for Estimated resistance tolerance bands"),
    ("Laser Cut Segments", "scalar", "Laser Cut Length is divided by this number"),
    ("Laser Cut Length", "Counts", "length of cut "),
    ("Number of Readings (Lin)", "scalar", ""),
    ("Use Table Theory?", "yes/no", "Not Used"),
    ("Readings/Deg.", "scalar", "Not Used"),
    ("Laser Back Length", "counts", "Not Used"),
    ("Laser Start Position", "counts", "Not Used"),
    ("Number of Readings (trim)", "scalar", ""),
    ("Laser Speed High", "rev/sec", ""),
    ("Laser Speed Slow", "rev/sec", ""),
    ("Initial Points Ignored", "scalar", "Number of Initial Lin readings to ignore when reading"),
    ("Ending points Ignored", "scalar", "Number of ending Lin readings to ignore when reading"),
    ("Response", "text", "Linear or Function"),
    ("Laser Current", "amps", ""),
    ("Laser Frequency", "Hertz", ""),
    ("End Degree Increment", "deg", 'degree increment between cuts when "end trimming"'),
    ("End Degree Start", "deg", '# of degrees from pot end to start "End Trimming"'),
    ("Vfinder Increment Multiplier", "scalar", "multiplies the move increments in volt finder"),
    ("Points From Start", "scalar", "How many points from start to begin reading/trimming"),
    ("Points From End", "scalar", "How many points from the end to begin reading/trimming"),
    ("Coarse Trim Voltage", "volts", "initial trim voltage"),
    ("Coarse Upper Tolerance", "scalar", "initial trim upper delta tolerance"),
    ("Coarse Lower Tolerance", "scalar", "initial trim lower delta tolerance"),
    ("Fine Trim Voltage", "volts", "Not Used"),
    ("Fine Upper Tolerance", "scalar", "Not Used"),
    ("Fine lower Tolerance", "scalar", "Not Used"),
    ("Delta Rank", "scalar", "index of delta value to use"),
    ("Speed Crossover", "%", "% away from target value to slow speed"),
    ("Theory Delta Multiplier", "scalar", "value multiplied to each theory delta value"),
    ("Endset Voltage Tolerance", "volts", "tolerance for endset voltage trimming"),
    ("Low Error Split Volts", "volts", ""),
    ("Low Error Split Position", "Deg", "Center-Referenced Degrees"),
    ("High Error Split Volts", "volts", ""),
    ("High Error Split Position", "Deg", "Center-Referenced Degrees"),
    ("Balance Ends?", "yes/no", "Perform Post-Trim End Balance?"),
    ("Auto-Retrim", "yes/no", "Automatically retrim if resistance allows?"),
    ("End Position", "", "Position to move at trim conclusion"),
    ("Initial End-Balance?", "yes/no", "Perform initial End-Balance before trimming?"),
    ("Establish Coordinates", "", "User selects or system determines"),
    ("Absolute End Position", "Deg", "Position used if END POSITION is set to custom"),
    ("Move Plate during setup", "yes/no",
     "Prevents the plate from returning to center during setup"),
    ("Element Configuration", "List", "{Single, Stacked, Adjacent}"),
    ("End-Balance Limit", "iterations", "maximum number of end-balance iterations per position"),
    ("Trim Range", "counts", ""),
    ("Source of trim deltas", "List", "{MEAS, THEORY}; This is for 6644 which uses the theory "
     "table to generate individual deltas for each position"),
    ("<Reserved>", "", ""),
    ("<Reserved>", "", ""),
    ("Laser Power (0-255)", "", ""),
    ("Laser PRR (1600-1000000)", "", ""),
    ("Pulse Duration (4,8,14,20,30,50,100,200)", "", ""),
)  # fmt: skip

TRIM_PARAMETER_LABELS: tuple[str, ...] = (
    "Pass", "Laser Start Position", "Laser Cut Length", "Laser Cut Direction",
    "Laser Speed high", "Laser Speed Low", "SpeedXover", "TrimV", "Upper Trim Tolerance",
    "Lower Trim Tolerance", "Delta Rank", "Theory Delta Multiplier", "High Position",
    "High Value", "High Value Tolerance ", "High Start", "High Increment", "High Limit",
    "High Cut Length", "Low Position", "Low Value", "Low Value Tolerance", "Low Start",
    "Low Increment", "Low Limit", "Low Cut Length",
)  # fmt: skip

_TEMPLATE_UPDATED = {"8340-1": ExcelDate(42142.0), "8340-3": ExcelDate(41746.0)}


def model_parameters(unit: UnitSpec) -> Grid:
    """Values in A, labels in B, units in C, notes in D (A1 model ... A9 Min Resistance)."""
    info = unit.info
    track = unit.tracks[0]
    length = track.nominal_angle
    n = float(track.positions.size)
    split = info.test_volts * (1.0 - (n - 2.0) / (n - 1.0)) / 2.0 + info.test_volts / (n - 1.0)
    split_position = round(length / 2.0 - length / (n - 1.0) / 2.0, 4)
    low_ohms, high_ohms = info.final_ohm_limits
    first, last = info.ignored
    values: list[Cell] = [
        info.model, info.kind, -length, length / 2.0, -length, None, None, high_ohms, low_ohms,
        info.theoretical_ohms, 73.0, 1.0, 20.0, 3000.0, n, "NO", 1.0, 0.0, 0.0, n, 0.03, 0.01,
        float(first), float(last), info.kind, 29.0, 250.0, 0.25, 1.0, 4.0, 1.0, 1.0,
        info.test_volts, 0.0, 0.001, info.test_volts, 0.0001, 0.001, 0.0, 30.0, 1.0, 0.003,
        split, -split_position, info.test_volts - split, split_position, "No", "No", "Center",
        "No", "Error-Split", -1.1, "NO", "Single", 5.0, None, "MEAS", None, None, 26.0, 2000.0,
        50.0,
    ]  # fmt: skip
    canvas = Canvas()
    for row, ((label, unit_name, note), value) in enumerate(
        zip(MODEL_PARAMETER_ROWS, values, strict=True)
    ):
        canvas.across(row, 0, [value, label, unit_name or None, note or None])
    canvas.put(1, 3, _TEMPLATE_UPDATED.get(info.model, ExcelDate(41746.0)))
    canvas.put(9, 9, " ")
    return canvas.grid()


def trim_parameters(unit: UnitSpec) -> Grid:
    """Per-pass trim settings; only pass 1 is filled in, as the stations leave it."""
    track = unit.tracks[0]
    n = float(track.positions.size)
    high = round(track.nominal_angle / 2.0 - track.nominal_angle / (n - 1.0) / 2.0, 4)
    low_volts = unit.test_volts / (n - 1.0) / 2.0 + unit.test_volts / (n - 1.0) / 2.0
    canvas = Canvas()
    canvas.down(0, 0, list(TRIM_PARAMETER_LABELS))
    canvas.across(0, 1, [1.0, 2.0, 3.0, 4.0, 5.0])
    canvas.across(3, 1, ["Forward"] * 5)
    canvas.down(1, 1, ["Manual", 3000.0])
    canvas.down(4, 1, [0.04, 0.006, 30.0, unit.test_volts, 0.001, 0.001, 0.0, 1.0, high,
                       unit.test_volts - low_volts, 0.003, 1.0, 0.25, 5.0, 3000.0, -high,
                       low_volts, 0.003, 1.0, 0.25, 5.0, 3000.0])  # fmt: skip
    return canvas.grid()
