"""A numpy model of one laser-trimmed unit, as the trim station would have measured it.

The simulator exists so the agent can be demonstrated and load-tested without a
station. Each unit is drawn with an *intended* outcome; its final (last-pass) error
curve is built and checked (`curves`) so that the verdict rules of DOMAIN.md give
that outcome with the default sigma threshold. Earlier passes sit between the
untrimmed curve and the final one, each better than the one before, as a real
station's passes do.

Everything is drawn from the caller's `numpy.random.Generator`, so a seed fixes
every unit exactly; nothing reads the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from agent.simulate.catalogue import CATALOGUE, ModelInfo, models_for
from agent.simulate.curves import Layout, quantise, trimmed_error, untrimmed_error
from agent.simulate.verdicts import sigma_gradient, sigma_threshold

OUTCOMES: tuple[str, ...] = ("pass", "warning", "fail", "near_miss", "anomaly", "aborted")
OUTCOME_WEIGHTS: tuple[float, ...] = (0.70, 0.08, 0.10, 0.07, 0.03, 0.02)
PASS_COUNT_WEIGHTS: tuple[float, ...] = (0.78, 0.16, 0.045, 0.015)  # 1, 2, 3, 4 passes

__all__ = [
    "CATALOGUE",
    "OUTCOMES",
    "ModelInfo",
    "TrackSpec",
    "UnitSpec",
    "sigma_gradient",
    "simulate_unit",
]


@dataclass(frozen=True, eq=False)
class TrackSpec:
    """One resistive element: positions, band and the error curve of every measurement.

    Limits are NaN where the station writes no limit. `pass_errors` holds the curve
    after each trim pass (the last one is the final data) and is empty when the trim
    was aborted. Errors are what the station writes: its rounded measured volts minus
    the theory volts.
    """

    track: int
    outcome: str
    positions: np.ndarray
    theory: np.ndarray
    upper: np.ndarray
    lower: np.ndarray
    untrimmed_error: np.ndarray
    pass_errors: tuple[np.ndarray, ...]
    untrimmed_ohms: float
    pass_ohms: tuple[float, ...]
    nominal_angle: float  # Length Theoretical / `length value`
    measured_angle: float  # NaN: System A writes the text "NaN", System B writes nothing
    blank_error_rows: tuple[int, ...]  # point indexes whose error cell is left empty
    template_metadata: bool  # untrimmed sheet keeps the template's metadata cells
    decimals: int  # rounding of the measured-volts column

    @property
    def trimmed_error(self) -> np.ndarray | None:
        """The final data: the last pass, None when the unit was never trimmed."""
        return self.pass_errors[-1] if self.pass_errors else None

    @property
    def trimmed_ohms(self) -> float:
        """Resistance after the last pass (the untrimmed value when not trimmed)."""
        return self.pass_ohms[-1] if self.pass_ohms else self.untrimmed_ohms

    @property
    def measured(self) -> tuple[np.ndarray, ...]:
        """Measured volts of the untrimmed sheet and of each pass, as written."""
        curves = (self.untrimmed_error, *self.pass_errors)
        return tuple(np.round(self.theory + e, self.decimals) for e in curves)


@dataclass(frozen=True, eq=False)
class UnitSpec:
    """One unit as simulated: what a station file will contain, and what it should mean."""

    info: ModelInfo
    serial: str  # as the file name has it
    tested_at: datetime
    tracks: tuple[TrackSpec, ...]
    outcome: str
    compensation: float

    @property
    def system(self) -> str:
        return self.info.system

    @property
    def model(self) -> str:
        return self.info.model

    @property
    def test_volts(self) -> float:
        return self.info.test_volts

    @property
    def shop(self) -> str:
        """The serial as typed at the station: System B operators append `_TA`."""
        return f"{self.serial}_TA" if self.system == "B" else self.serial


class Serials:
    """Shop numbers a station hands out, per model in order from `first`.

    Two different units of one model never share a serial: central reads a repeated
    model and serial as the same unit trimmed again (a re-trim), so drawn serials
    (1 to 300 at random) made a fleet of made-up re-trims. Stations with different
    `first` numbers (the demo's: 100,000 apart) never share one either.
    """

    def __init__(self, first: int = 1) -> None:
        self._first = first
        self._next: dict[str, int] = {}

    def take(self, model: str) -> int:
        number = self._next.get(model, self._first)
        self._next[model] = number + 1
        return number


def simulate_unit(
    rng: np.random.Generator,
    index: int,
    start: datetime,
    spacing_s: float = 120.0,
    serials: Serials | None = None,
) -> UnitSpec:
    """Draw unit number `index` of a run that starts at `start`.

    Units are tested `spacing_s` apart on average (by default about two minutes,
    60-180 s between neighbours), so the test time depends only on the index, the
    spacing and the rng, never on the wall clock. With `serials` the unit takes the
    model's next shop number instead of a drawn one (the draw is still made, so
    everything else about the unit stays what the seed makes it).
    """
    jitter = int(rng.integers(-30, 31)) * spacing_s / 120.0
    tested_at = start + timedelta(seconds=spacing_s * index + jitter)
    outcome = str(rng.choice(OUTCOMES, p=OUTCOME_WEIGHTS))
    info = _pick_model(rng, outcome)
    serial = _serial(rng, info.serial_style, None if serials is None else serials.take(info.model))
    worst = int(rng.integers(info.tracks))
    tracks = tuple(
        _track(
            rng,
            info,
            number=t + 1,
            outcome=outcome if t == worst or outcome == "aborted" else "pass",
        )
        for t in range(info.tracks)
    )
    compensation = 0.0 if rng.random() < 0.8 else round(float(rng.normal(0.0, 0.002)), 4)
    return UnitSpec(
        info=info,
        serial=serial,
        tested_at=tested_at,
        tracks=tracks,
        outcome=outcome,
        compensation=compensation,
    )


def _pick_model(rng: np.random.Generator, outcome: str) -> ModelInfo:
    """Choose a part number that can show `outcome`, by production share."""
    models = models_for(outcome)
    weights = np.array([m.weight for m in models])
    return models[int(rng.choice(len(models), p=weights / weights.sum()))]


def _serial(rng: np.random.Generator, style: str, given: int | None = None) -> str:
    """Shop numbers as stations write them: 43, 120, or 254A / 254B (one file per track)."""
    drawn = int(rng.integers(1, 300))
    number = drawn if given is None else given
    if style == "ab":
        return f"{number}{'AB'[int(rng.integers(2))]}"
    return str(number)


def _length(rng: np.random.Generator, info: ModelInfo, track: int) -> float:
    """Electrical length (Length Theoretical) of one track, as the station rounds it."""
    low, high = info.length
    if info.tracks == 2:  # 8555: the outer track is the longer one
        return high if track == 1 else low
    length = round(float(rng.uniform(low, high)), 3)
    if info.whole_positions:
        length = 2.0 * round(length / 2.0)
    return length


def _band(rng: np.random.Generator, info: ModelInfo, frac: np.ndarray) -> np.ndarray:
    """Half band width at every point, in the band shapes the real stations use."""
    spec = info.spec
    half = np.full(frac.size, spec)
    if info.band == "stepped":  # 7844: a tight first point, wider towards the end
        half[frac > 0.7] = 2.0 * spec
        half[frac > 0.85] = 4.0 * spec
        half[0] = 0.07 * spec
    elif info.band == "wide":  # 8888: beyond a section the band opens to +/-148 V
        steps = (2.5 * spec, 0.5, 5.0, 50.0, 148.0)
        cut = rng.uniform(0.6, 0.8)
        beyond = np.flatnonzero(frac > cut)
        for k, group in enumerate(np.array_split(beyond, len(steps))):
            half[group] = steps[k]
        if rng.random() < 0.5:
            half = half[::-1].copy()
    elif info.band == "ends_wide":  # 8340-3: the end points get a wider band
        half[0] = half[-1] = 4.0 * spec
    return half


def _layout(rng: np.random.Generator, info: ModelInfo, length: float) -> Layout:
    """Positions, ideal line and spec band of one track of `info`."""
    n = info.points
    index = np.arange(n)
    start = -length / 2.0
    if info.kind == "Linear":
        positions = start + index * (length / (n - 1))
        theory = info.test_volts * index / (n - 1)
    else:
        step = info.step or length / (n - 1)
        positions = np.round(start + step * index, 4)
        theory = info.test_volts * (positions - positions[0]) / length
    frac = (positions - positions[0]) / (positions[-1] - positions[0])
    half = _band(rng, info, frac)
    upper, lower = half.copy(), -half
    if info.band == "ends_open":  # 8340-1: no limits on five points at each end
        for limits in (upper, lower):
            limits[:5] = np.nan
            limits[n - 5 :] = np.nan
    travel = float(positions[-1] - positions[0])
    return Layout(
        positions=positions,
        frac=frac,
        theory=theory,
        half=half,
        upper=upper,
        lower=lower,
        narrow=half <= info.spec * 1.0001,
        tight=half < 0.5 * info.spec,
        threshold=sigma_threshold(positions, upper, lower),
        smooth_scale=min(
            sigma_threshold(positions, upper, lower),
            max(info.spec / (24.0 * max(1.0, travel / 100.0)), 1e-4),
        ),
        linear=info.kind == "Linear",
        decimals=5 if info.system == "A" else 6,
    )


def _pass_count(rng: np.random.Generator, info: ModelInfo) -> int:
    """How many trim passes the station ran (most units need one)."""
    weights = np.array(PASS_COUNT_WEIGHTS[: info.max_passes])
    return int(rng.choice(len(weights), p=weights / weights.sum())) + 1


def _passes(
    rng: np.random.Generator, layout: Layout, untrimmed: np.ndarray, final: np.ndarray, count: int
) -> tuple[np.ndarray, ...]:
    """Curves after passes 1..count: each earlier pass keeps a share of the untrimmed error.

    The share shrinks pass by pass, and grows where needed, so the worst error
    strictly improves from one pass to the next and the last pass is `final`.
    """
    curves = [final]
    share = rng.uniform(0.05, 0.12)
    ceiling = float(np.max(np.abs(untrimmed)))
    for _ in range(count - 1):
        later = curves[0]
        share = min(share * rng.uniform(1.6, 2.2), 0.7)
        earlier = quantise(layout, later + share * untrimmed)
        while np.max(np.abs(earlier)) <= 1.05 * np.max(np.abs(later)) and share < 0.9:
            share = min(share * 1.3, 0.9)
            earlier = quantise(layout, later + share * untrimmed)
        if not np.max(np.abs(later)) < np.max(np.abs(earlier)) < ceiling:
            break  # no room for another pass between the untrimmed curve and this one
        curves.insert(0, earlier)
    return tuple(curves)


def _ohms(
    rng: np.random.Generator, info: ModelInfo, passes: int
) -> tuple[float, tuple[float, ...]]:
    """Untrimmed resistance and the resistance after each pass (trimming raises it)."""
    final = float(round(rng.uniform(*info.trimmed_ohms)))
    low, high = info.untrimmed_ohms
    untrimmed = float(round(rng.uniform(low, min(high, final * 0.985))))
    if not passes:
        return untrimmed, ()
    steps = np.sort(rng.uniform(0.55, 0.95, passes - 1))
    between = [float(round(untrimmed + (final - untrimmed - passes) * s)) + k
               for k, s in enumerate(steps, start=1)]  # fmt: skip
    return untrimmed, (*between, final)


# An anomaly's untrimmed curve: its final line, 5 % steeper (the trim changed nothing;
# the anomaly rule reads a change under 20 % of the curve as no trim).
UNTRIMMED_ANOMALY_SCALE = 1.05


def _track(rng: np.random.Generator, info: ModelInfo, number: int, outcome: str) -> TrackSpec:
    """One track: untrimmed curve, passes shaped for `outcome`, resistances, angles."""
    length = _length(rng, info, number)
    layout = _layout(rng, info, length)
    untrimmed = untrimmed_error(rng, layout, info.spec)
    passes: tuple[np.ndarray, ...] = ()
    if outcome != "aborted":
        final = trimmed_error(rng, layout, outcome)
        if outcome == "anomaly":
            # The laser never trimmed: every measurement is the same straight line, the
            # untrimmed one a little steeper (no new draws: later units stay as they were).
            untrimmed = quantise(layout, final * UNTRIMMED_ANOMALY_SCALE)
        passes = _passes(rng, layout, untrimmed, final, _pass_count(rng, info))
    untrimmed_ohms, pass_ohms = _ohms(rng, info, len(passes))
    n = layout.positions.size
    blank_rows: tuple[int, ...] = ()
    draw = rng.random()
    if draw < 0.04:
        blank_rows = (0,)  # the station often leaves the first point's error empty
    elif draw < 0.06:
        count = int(rng.integers(1, 4))
        blank_rows = tuple(sorted(int(i) for i in rng.choice(np.arange(1, n - 1), count, False)))
    measured = round(length * (1.0 + float(rng.normal(0.0, 0.001))), 3)
    if (info.system == "A" and rng.random() < 0.05) or info.band == "ends_wide":
        measured = float("nan")
    return TrackSpec(
        track=number,
        outcome=outcome,
        positions=layout.positions,
        theory=layout.theory,
        upper=layout.upper,
        lower=layout.lower,
        untrimmed_error=untrimmed,
        pass_errors=passes,
        untrimmed_ohms=untrimmed_ohms,
        pass_ohms=pass_ohms,
        nominal_angle=length,
        measured_angle=measured,
        blank_error_rows=blank_rows,
        template_metadata=number == 2 or rng.random() < 0.1,
        decimals=layout.decimals,
    )
