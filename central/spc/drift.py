"""Drift of a metric (the sigma gradient, per model and station): tabular CUSUM and EWMA.

Both compare the series with a baseline mean and standard deviation: the
first N values (default 20), or a mean/sd the caller gives (e.g. last
quarter's). The baseline sd is the sample standard deviation (ddof = 1) of
the baseline values, the "standard deviations of a baseline" of DOMAIN.md.

- CUSUM (Page's tabular form, in the data's units): K = k sd, H = h sd with
  k = 0.5 and h = 5;
  C+_i = max(0, C+_(i-1) + x_i - (mean + K)),
  C-_i = max(0, C-_(i-1) + (mean - K) - x_i), both starting at 0;
  an alarm is C+ > H (drift up) or C- > H (drift down). The sums are not
  reset after an alarm: the page shows the whole history, and the state of
  the newest point is what the scorecard reports.
- EWMA: z_0 = mean, z_i = lambda x_i + (1 - lambda) z_(i-1), lambda = 0.2;
  limits mean +/- L sd sqrt(lambda / (2 - lambda) (1 - (1 - lambda)^(2i)))
  with L = 3 (the exact, time-varying limits, which start narrow); an alarm
  is z_i strictly outside them.
CUSUM is vectorised (Lindley's identity); the EWMA recursion is a plain loop,
about 0.2 ms per thousand values: a model page over 90 days has a few
thousand units per station.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from central.spc.errors import SpcErrorCode, SpcInputError
from central.spc.series import (
    ArrayLike,
    FloatArray,
    Unavailable,
    as_series,
    frozen,
    negligible,
    require_positive,
    too_few,
    zero_spread,
)

DEFAULT_BASELINE_POINTS = 20
MIN_BASELINE_POINTS = 2
CUSUM_K = 0.5
CUSUM_H = 5.0
EWMA_LAMBDA = 0.2
EWMA_L = 3.0


class Direction(StrEnum):
    """Which way a drift alarm points."""

    UP = "up"
    DOWN = "down"


class DriftState(StrEnum):
    """The scorecard's one-word drift summary for the newest point."""

    STABLE = "stable"
    UP = "up"
    DOWN = "down"
    MIXED = "mixed"  # one detector says up while the other says down
    UNKNOWN = "unknown"  # not enough data for a baseline


@dataclass(frozen=True)
class Baseline:
    """The in-control mean and sd the detectors compare against."""

    mean: float
    sd: float
    points: int  # how many leading values it came from; 0 when the caller gave it

    def __post_init__(self) -> None:
        if not np.isfinite(self.mean):
            raise SpcInputError(SpcErrorCode.BAD_PARAMETER, "the baseline mean must be finite")
        require_positive(self.sd, "the baseline standard deviation")


def estimate_baseline(
    values: ArrayLike, points: int = DEFAULT_BASELINE_POINTS
) -> Baseline | Unavailable:
    """Mean and sample sd (ddof = 1) of the first `points` values."""
    if points < MIN_BASELINE_POINTS:
        raise SpcInputError(
            SpcErrorCode.BAD_PARAMETER,
            f"a baseline needs at least {MIN_BASELINE_POINTS} points, got {points}",
        )
    x = as_series(values)
    if x.size < points:
        return too_few("a drift baseline", points, int(x.size))
    head = x[:points]
    sd = float(np.std(head, ddof=1))
    if negligible(sd, float(np.max(np.abs(head)))):
        return zero_spread("the baseline's standard deviation")
    return Baseline(mean=float(np.mean(head)), sd=sd, points=points)


@dataclass(frozen=True)
class Cusum:
    """C+ and C- for every value, with the alarms they raise."""

    baseline: Baseline
    k: float
    h: float
    upper: FloatArray  # C+
    lower: FloatArray  # C-
    alarms_up: tuple[int, ...]
    alarms_down: tuple[int, ...]

    @property
    def allowance(self) -> float:
        """K = k sd, in the data's units."""
        return self.k * self.baseline.sd

    @property
    def decision_interval(self) -> float:
        """H = h sd, in the data's units: the line C+ and C- are drawn against."""
        return self.h * self.baseline.sd

    @property
    def first_alarm(self) -> tuple[int, Direction] | None:
        """The first index where either sum exceeds H, and which one (up wins a tie)."""
        return _first(self.alarms_up, self.alarms_down)

    @property
    def state(self) -> Direction | None:
        """Whether the newest value is in alarm, and which way."""
        return _last_state(self.upper.size, self.alarms_up, self.alarms_down)


@dataclass(frozen=True)
class Ewma:
    """The EWMA statistic with its exact time-varying limits and the alarms."""

    baseline: Baseline
    lam: float
    width: float
    statistic: FloatArray
    ucl: FloatArray
    lcl: FloatArray
    alarms_up: tuple[int, ...]
    alarms_down: tuple[int, ...]

    @property
    def first_alarm(self) -> tuple[int, Direction] | None:
        """The first index outside the limits, and on which side."""
        return _first(self.alarms_up, self.alarms_down)

    @property
    def state(self) -> Direction | None:
        """Whether the newest value is outside the limits, and which way."""
        return _last_state(self.statistic.size, self.alarms_up, self.alarms_down)


def _first(up: tuple[int, ...], down: tuple[int, ...]) -> tuple[int, Direction] | None:
    candidates = [(up[0], Direction.UP)] if up else []
    candidates += [(down[0], Direction.DOWN)] if down else []
    return min(candidates, key=lambda item: item[0]) if candidates else None


def _last_state(size: int, up: tuple[int, ...], down: tuple[int, ...]) -> Direction | None:
    last = size - 1
    if up and up[-1] == last:
        return Direction.UP
    if down and down[-1] == last:
        return Direction.DOWN
    return None


def _baseline(
    x: FloatArray, baseline: Baseline | None, baseline_points: int
) -> Baseline | Unavailable:
    return baseline if baseline is not None else estimate_baseline(x, baseline_points)


def _reflected_sum(steps: FloatArray) -> FloatArray:
    """C_i = max(0, C_(i-1) + steps_i), C_(-1) = 0, without a Python loop.

    Lindley's identity: the reflected sum equals S_i - min(0, S_0, ..., S_i)
    with S the running sum of the steps. Where C is 0 it is exactly 0.
    """
    running = np.cumsum(steps)
    return np.maximum(running - np.minimum(np.minimum.accumulate(running), 0.0), 0.0)


def cusum(
    values: ArrayLike,
    *,
    baseline: Baseline | None = None,
    baseline_points: int = DEFAULT_BASELINE_POINTS,
    k: float = CUSUM_K,
    h: float = CUSUM_H,
) -> Cusum | Unavailable:
    """Tabular CUSUM of `values` (production order) against the baseline."""
    require_positive(k, "the CUSUM reference value k")
    require_positive(h, "the CUSUM decision interval h")
    x = as_series(values)
    base = _baseline(x, baseline, baseline_points)
    if isinstance(base, Unavailable):
        return base
    upper = _reflected_sum(x - (base.mean + k * base.sd))
    lower = _reflected_sum((base.mean - k * base.sd) - x)
    limit = h * base.sd
    return Cusum(
        baseline=base,
        k=k,
        h=h,
        upper=frozen(upper),
        lower=frozen(lower),
        alarms_up=tuple(int(i) for i in np.flatnonzero(upper > limit)),
        alarms_down=tuple(int(i) for i in np.flatnonzero(lower > limit)),
    )


def ewma(
    values: ArrayLike,
    *,
    baseline: Baseline | None = None,
    baseline_points: int = DEFAULT_BASELINE_POINTS,
    lam: float = EWMA_LAMBDA,
    width: float = EWMA_L,
) -> Ewma | Unavailable:
    """EWMA of `values` (production order) with exact limits around the baseline mean."""
    require_positive(lam, "the EWMA weight lambda")
    if lam > 1.0:
        raise SpcInputError(SpcErrorCode.BAD_PARAMETER, f"lambda must be <= 1, got {lam}")
    require_positive(width, "the EWMA limit width L")
    x = as_series(values)
    base = _baseline(x, baseline, baseline_points)
    if isinstance(base, Unavailable):
        return base
    statistic = np.empty(x.size)
    current = base.mean
    for i, value in enumerate(x.tolist()):
        current = lam * value + (1.0 - lam) * current
        statistic[i] = current
    steps = np.arange(1, x.size + 1)
    half = width * base.sd * np.sqrt(lam / (2.0 - lam) * (1.0 - (1.0 - lam) ** (2 * steps)))
    ucl = base.mean + half
    lcl = base.mean - half
    return Ewma(
        baseline=base,
        lam=lam,
        width=width,
        statistic=frozen(statistic),
        ucl=frozen(ucl),
        lcl=frozen(lcl),
        alarms_up=tuple(int(i) for i in np.flatnonzero(statistic > ucl)),
        alarms_down=tuple(int(i) for i in np.flatnonzero(statistic < lcl)),
    )


def drift_state(cusum_result: Cusum | Unavailable, ewma_result: Ewma | Unavailable) -> DriftState:
    """One word for the scorecard: does either detector flag the newest value, and which way."""
    states = {r.state for r in (cusum_result, ewma_result) if not isinstance(r, Unavailable)}
    if not states:
        return DriftState.UNKNOWN
    states.discard(None)
    if not states:
        return DriftState.STABLE
    if len(states) > 1:
        return DriftState.MIXED
    return DriftState.UP if states.pop() is Direction.UP else DriftState.DOWN
