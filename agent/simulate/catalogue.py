"""The part numbers the simulated stations trim, shaped after the real result files.

Every number here was read off the real files in `../shared/real-samples` (or, for
the wide-band model 8888, off DOMAIN.md): point counts, step sizes, electrical
lengths, resistance windows, ignored-point counts and the template quirks each
station program writes (the `Length Mamimum` typo, the `LOW-TAP` tail rows, the
chart header cells of model 8852). Keeping them in one table means the sheet
builders never guess a value of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

ALL_OUTCOMES: frozenset[str] = frozenset(
    {"pass", "warning", "fail", "near_miss", "anomaly", "aborted"}
)


@dataclass(frozen=True)
class ModelInfo:
    """One catalogue part number and how its station measures and writes it."""

    model: str
    system: str  # "A" (DLTS, SEC1 TRKn sheets) or "B" (LTS, test / Lin Error sheets)
    kind: str  # "Rotary" or "Linear", as the Model Parameters sheet spells it
    points: int  # measurement points per sheet
    step: float  # position step; 0.0 = spread the points over the electrical length
    length: tuple[float, float]  # electrical length (Length Theoretical) drawn per unit
    length_window: tuple[float, float]  # Length Minimum / Length Maximum
    whole_positions: bool  # positions written as whole numbers (e.g. -170, -168, ...)
    spec: float  # half band width in volts where the band is narrowest (mid travel)
    band: str  # flat, stepped (7844), wide (8888), ends_open (8340-1), ends_wide (8340-3)
    test_volts: float
    untrimmed_ohms: tuple[float, float]
    trimmed_ohms: tuple[float, float]
    initial_ohm_limits: tuple[float, float]  # Initial Resistance Lower / Upper Limit
    final_ohm_limits: tuple[float, float]  # Final Resistance Lower / Upper Limit
    theoretical_ohms: float
    ignored: tuple[int, int]  # Initial / Final Linearity Points Ignored
    tracks: int  # tracks measured in one file
    declared_tracks: int  # `# of Tracks` on Model Parameters (7844 says 2, writes 1)
    serial_style: str  # "number" (43) or "ab" (254A / 254B: one file per track)
    template: str  # "maximum" (Length Maximum, LOW-TAP) or "mamimum" (typo, Next Position)
    chart_header: bool  # 8852 writes `LINEARITY ERROR DATA  MODEL: ... SHOP: ...` in row 2
    report: str  # "moog" (44-row report) or "cda" (23-row report)
    max_passes: int
    outcomes: frozenset[str]  # outcomes this model can show under the default rules
    weight: float


# Outcomes a wide-band model cannot show: its mean band (DOMAIN's default spec) is
# tens of volts, so the default sigma threshold is never reached and no trimmed curve
# is wide enough to look untrimmed; near misses are measured against that wide band.
_WIDE_OUTCOMES = frozenset({"pass", "fail", "aborted"})
# The 8340s (0.01 / 0.05 V bands over 0.61 / 0.314 in) have default sigma thresholds
# of 0.0004 / 0.003 V/in: only a straight line passes, and a straight line reaching
# both limits (a near miss) reads as untrimmed.
# 7844 (21 points) and 8852 (81 points) are too short to be rough enough for a
# warning inside their band: the filter leaves too little of any ripple.
# An aborted trim only exists on System A stations.

CATALOGUE: tuple[ModelInfo, ...] = (
    ModelInfo("6828", "A", "Rotary", 341, 1.0, (340.2, 342.1), (335.0, 345.0), False,
              0.025, "flat", 10.0, (1530, 1820), (2015, 2065), (1800, 1900), (1900, 2100),
              2000.0, (4, 2), 1, 1, "number", "maximum", False, "moog", 2,
              ALL_OUTCOMES, 0.18),
    ModelInfo("7844", "A", "Rotary", 21, 0.0, (41.3, 42.05), (41.0, 42.0), False,
              0.1, "stepped", 10.0, (4500, 4900), (4660, 5210), (4200, 4800), (4500, 5500),
              10000.0, (1, 1), 1, 2, "ab", "maximum", False, "moog", 4,
              ALL_OUTCOMES - {"warning"}, 0.14),
    ModelInfo("8506A", "A", "Rotary", 171, 2.0, (340.0, 340.0), (340.0, 341.0), True,
              0.01, "flat", 10.0, (4440, 5200), (4700, 5470), (4200, 4800), (4500, 5500),
              5000.0, (1, 1), 1, 1, "number", "maximum", False, "moog", 4,
              ALL_OUTCOMES, 0.12),
    ModelInfo("8555", "A", "Rotary", 341, 1.0, (340.0, 340.385), (340.0, 345.0), False,
              0.01, "flat", 10.0, (9240, 10290), (9780, 10500), (8500, 9500), (9300, 10980),
              10000.0, (1, 1), 2, 2, "number", "mamimum", False, "moog", 2,
              ALL_OUTCOMES, 0.10),
    ModelInfo("8852", "A", "Rotary", 81, 1.0, (80.0, 82.3), (77.0, 78.0), False,
              0.05, "flat", 10.0, (8680, 9330), (9220, 9750), (8400, 10000), (9000, 11000),
              10000.0, (2, 1), 1, 1, "number", "mamimum", True, "cda", 2,
              ALL_OUTCOMES - {"warning"}, 0.08),
    ModelInfo("8888", "A", "Rotary", 321, 1.0, (320.0, 321.0), (318.0, 322.0), True,
              0.02, "wide", 10.0, (4300, 4700), (4750, 5150), (4200, 4800), (4500, 5500),
              5000.0, (2, 2), 1, 1, "number", "mamimum", False, "moog", 3,
              _WIDE_OUTCOMES, 0.04),
    ModelInfo("8340-1", "B", "Linear", 63, 0.0, (0.61, 0.61), (0.0, 0.0), False,
              0.01, "ends_open", 10.0, (860, 970), (975, 1145), (800, 1200), (800, 1200),
              1000.0, (1, 1), 1, 1, "number", "lts", False, "lts", 1,
              ALL_OUTCOMES - {"aborted", "near_miss"}, 0.20),
    ModelInfo("8340-3", "B", "Linear", 17, 0.0, (0.314, 0.314), (0.0, 0.0), False,
              0.05, "ends_wide", 10.0, (800, 955), (935, 1005), (800, 1200), (800, 1200),
              1000.0, (1, 1), 1, 1, "number", "lts", False, "lts", 3,
              ALL_OUTCOMES - {"aborted", "near_miss"}, 0.14),
)  # fmt: skip


def models_for(outcome: str) -> list[ModelInfo]:
    """The models that can show `outcome` (an aborted trim only exists on System A)."""
    return [m for m in CATALOGUE if outcome in m.outcomes]
