"""System A ("DLTS") set-up and template sheets, with the labels the station writes.

`Model Parameters`, `Track Parameters`, `Trim Parameters`, `Notes`, `Process`,
`Stats` and `Report` are written by the station program from its templates, the
same labels in the same cells in every file (the labels and their order are
copied from the real files). Only the values change with the model and the unit.
"""

from __future__ import annotations

from agent.simulate.grid import Canvas, Cell, Grid, day_of, work_rng
from agent.simulate.units import TrackSpec, UnitSpec

TRACK_PARAMETER_LABELS: tuple[str, ...] = (
    "TRACK PARAMETERS", "# of Trim Parameters", "Initial Resistance Upper Limit",
    "Initial Resistance Lower Limit", "Final Resistance Upper Limit",
    "Final Resistance Lower Limit", "Length Minimum", "Length Theoretical", "Length Maximum",
    "Starting Position", "Response (Linear or Function)", "Laser Power (0-255)",
    "Laser Duration (ns)", "Laser Pulse Repetition Rate (Hz)", "Test Voltage",
    "Error Split Low Voltage", "Error Split Low Position", "Error Split High Voltage",
    "Error Split High Position", "Indexing Method", "End Position", "Plate Move During Setup?",
    "Center-Tap Target", "Center-Tap Upper Limit", "Center-Tap Lower Limit",
    "# of Lin Positions", "Linearity Velocity", "Alias", "Index Voltage", "Index Position",
    "Outer Edge Position", "Inner Edge Position", "Resistance Threshold %",
    "Theoretical Resistance", "Laser Height", "End Collet Release?",
)  # fmt: skip

# The two station templates: the older one spells `Length Mamimum` and ends with
# the `Next Position` rows, the newer one spells it right and ends with the taps.
TEMPLATE_TAILS: dict[str, tuple[str, str]] = {
    "maximum": ("LOW-TAP", "HIGH-TAP"),
    "mamimum": ("Next Position", "Next Position Index"),
}
LENGTH_MAXIMUM: dict[str, str] = {"maximum": "Length Maximum", "mamimum": "Length Mamimum"}

TRIM_PARAMETER_LABELS: tuple[str, ...] = (
    "TRIM PARAMETERS", "Laser Cut Length (mm)", "# of Linear Positions", "# of Trim Positions",
    "Laser Speed High", "Laser Speed Low", "Initial Linearity Points Ignored",
    "Final Linearity Points Ignored", "Vfinder Increment Multiplier",
    "Initial Trim Points Ignored", "Final Trim Points Ignored", "Trim Volts",
    "Trim Upper Tolerance", "Trim Lower Tolerance", "Delta Rank", "Speed Crossover",
    "Theory Delta Multiplier", "Balance Ends?", "Auto-Retrim?", "Initial End-Balance?",
    "Trim Range", "Trim Delta Source", "Laser Direction", "Trim Velocity", "Alias",
    "High Position", "High Value", "High Value Tolerance", "High Start", "High Increment",
    "High Limit", "High Cut Length", "Low Position", "Low Value", "Low Value Tolerance",
    "Low Start", "Low Increment", "Low Limit", "Low Cut Length",
)  # fmt: skip

MODEL_PARAMETER_LABELS: tuple[str, ...] = (
    "Model", "Type", "# of Sections", "# of Tracks", "X-Axis Current Limit",
    "Y-Axis Current Limit", "A-Axis Current Limit", "Z-Axis Current Limit",
)  # fmt: skip

_ALIASES = ("Outer Track", "Inner Track")
_EDGES = ((35.179, 32.004), (27.051, 24.257))
_ODD_POINTS_NOTE = "use an odd number for a center at 5v 0 degrees"


def model_parameters(unit: UnitSpec) -> Grid:
    """Model, type, sections, tracks (as declared: 7844 says 2 and writes one per file)."""
    info = unit.info
    values: list[Cell] = [info.model, info.kind, 1.0, float(info.declared_tracks), 2.3, 0.3]
    values += [2.3, 2.3]
    return [[label, value] for label, value in zip(MODEL_PARAMETER_LABELS, values, strict=True)]


def track_parameters(unit: UnitSpec) -> Grid:
    """`Track Parameters`: labels in column A, one value column per track (B = TRK1)."""
    info = unit.info
    canvas = Canvas()
    labels = list(TRACK_PARAMETER_LABELS)
    labels[labels.index("Length Maximum")] = LENGTH_MAXIMUM[info.template]
    canvas.down(0, 0, [*labels, *TEMPLATE_TAILS[info.template]])
    for col, track in enumerate(unit.tracks, start=1):
        canvas.down(0, col, _track_values(unit, track))
    if info.template == "maximum" and len(unit.tracks) == 1:
        canvas.put(labels.index("# of Lin Positions"), 2, _ODD_POINTS_NOTE)
    return canvas.grid()


def _track_values(unit: UnitSpec, track: TrackSpec) -> list[Cell]:
    """One track's column of `Track Parameters`, in label order."""
    info = unit.info
    rng = work_rng(info.model, track.track, "track parameters")
    start = float(track.positions[0])
    step = float(track.positions[1] - track.positions[0])
    split_volts = info.test_volts * step / track.nominal_angle
    initial_low, initial_high = info.initial_ohm_limits
    final_low, final_high = info.final_ohm_limits
    length_low, length_high = info.length_window
    outer, inner = _EDGES[track.track - 1]
    return [
        f"SEC1-TRK{track.track}", 1.0, initial_high, initial_low, final_high, final_low,
        length_low, track.nominal_angle, length_high, start, "LINEAR",
        float(rng.integers(24, 64)), 200.0, 10000.0, info.test_volts,
        split_volts, start + step, info.test_volts - split_volts, -(start + step),
        "ERROR-SPLIT", "CENTER", "YES", None, None, None, float(track.positions.size), 20.0,
        _ALIASES[track.track - 1], 0.006, -171.0, outer, inner, 1.0, info.theoretical_ohms,
        round(float(rng.uniform(-122.0, -85.0)), 4), "NO",
    ]  # fmt: skip


def trim_parameters(unit: UnitSpec) -> Grid:
    """`Trim Parameters`: one column per track's trim set (`SEC1-TRKn-TRM1`)."""
    canvas = Canvas()
    canvas.down(0, 0, list(TRIM_PARAMETER_LABELS))
    first, last = unit.info.ignored
    for col, track in enumerate(unit.tracks, start=1):
        rng = work_rng(unit.model, track.track, "trim parameters")
        cut = round(float(rng.uniform(1.1, 2.2)), 4)
        n = float(track.positions.size)
        canvas.down(0, col, [
            f"SEC1-TRK{track.track}-TRM1", cut, n, n, 0.6, 0.1, float(first), float(last),
            4.0, float(first), float(last), unit.test_volts, 0.001, -0.0005, 0.0, 30.0, 1.0,
            "NO", "NO", "NO", ">32.512" if track.track == 1 else "<28.448", "MEAS",
            "FORWARD", 10.0, "Outer Edge", 169.0, 9.9415, 0.001, 0.5, 0.5, 3.0, 1.2,
            -169.0, 0.0585, 0.001, 0.5, 0.5, 3.0, 1.2,
        ])  # fmt: skip
    return canvas.grid()


def notes() -> Grid:
    """The wiring notes template (the second track's rows stay blank placeholders)."""
    canvas = Canvas()
    canvas.across(0, 0, ["WIRING", None, None, None, "TRIM NOTES"])
    for row, (tap, colour) in enumerate((("Low Tap", "blue"), ("High Tap", "orange"),
                                         ("Wiper", "white")), start=1):  # fmt: skip
        canvas.across(row, 0, ["Track 1", tap, colour, None, " "])
        canvas.across(row + 3, 0, ["Track 2", " ", colour, None, " "])
    canvas.down(1, 5, ["<- Primary Wiring Info", "<- Redundant Wiring Info", "<- Handling Note"])
    canvas.down(7, 1, [" "] * 4)
    canvas.put(7, 4, " ")
    return canvas.grid()


def process() -> Grid:
    """The station's process description template."""
    canvas = Canvas()
    canvas.put(0, 0, "process after initial linearity is taken:")
    canvas.across(1, 0, ["Determine trim criteria", "{max meas delta, indexed meas delta, "
                         "indiv theory deltas, indiv meas deltas, max theory delta}"])  # fmt: skip
    canvas.across(2, 0, ["Trim", "Profile ID"])
    canvas.across(3, 0, ["check total resistance", "Low limit val", "high limit val",
                         "stop on low warning", "stop on high warning",
                         "retrim on low warning"])  # fmt: skip
    canvas.across(4, 0, ["run linearity", "phase?", "Angle adjust?"])
    canvas.across(6, 0, ["end-balance", "limit n"])
    canvas.put(7, 0, "next track?")
    return canvas.grid()


def stats() -> Grid:
    """The (never filled) statistics template, one block per track."""
    canvas = Canvas()
    rows = ["TrimParamID", "Meas Length", "Resistance", "Lin Max", "Lin Min", "Lin Median",
            "Lin Std-Dev"]  # fmt: skip
    for top, name in ((0, "Section1TrackA"), (9, "Section1TrackB")):
        canvas.across(top, 0, [name, "<iter#>", "<iter#>"])
        canvas.down(top + 1, 0, list(rows))
    return canvas.grid()


def report(unit: UnitSpec) -> Grid:
    """The printed report page. Its texts are template leftovers, as in the real files:
    another model's drawing, `MODEL: 8555`, and FAILED whatever the unit did."""
    canvas = Canvas()
    day = day_of(unit.tested_at)
    if unit.info.report == "cda":
        canvas.down(0, 0, ["Customer: CDA InterCorp.", "Drawing: P99 PT 002 Rev. A, ISS. 3",
                           "Model: XF8755-2"])  # fmt: skip
        canvas.across(5, 1, ["MODEL:", unit.model, "SHOP:", _shop_cell(unit.serial), None, day,
                             "LINEARITY DATA", None, None, "FAILED"])  # fmt: skip
        canvas.put(22, 3, "FAILED")
        return canvas.grid()
    revision = "H" if work_rng(unit.model, "report").random() < 0.2 else "C"
    canvas.down(0, 0, ["Customer: Moog Chatsworth", f"Drawing: CB01915-001 Rev. {revision}",
                       "Model: EF8555"])  # fmt: skip
    second = "Inner Track" if len(unit.tracks) == 2 else "Track 2 ID"
    for top, alias in ((5, "Outer Track"), (26, second)):
        canvas.across(
            top, 1, ["MODEL: 8555", None, f"SHOP: {unit.serial}-{alias}", None, None, day]
        )
        canvas.put(top + 17, 3, "LINEARITY: FAILED")
    return canvas.grid()


def _shop_cell(serial: str) -> Cell:
    """Shop numbers that are plain numbers are stored as numbers, others as text."""
    return float(serial) if serial.isdigit() else serial
