"""A model's process statistics from its per-unit series: what the model pages show.

central/spc computes each statistic from an array; this module decides which
array and which spec, once, so the model list and a model's page can never
disagree about a model:

- **Which values, against which spec.** Linearity error is judged against
  each unit's `linearity_spec` (an upper limit; the error is >= 0), the
  sigma gradient against its `sigma_threshold`. When every unit of the
  selection has the same limit the values stay in their own units (volts);
  when the limits differ within the model, each value is divided by its own
  limit and judged against an upper limit of 1 (`normalised`), and the page
  says so. Units without a limit then take no part (counted in `left_out`).
  Tracks the trim process did not act on (never trimmed, or aborted:
  shared/quality.py) take no part in the charts or the indices either; they
  are counted apart in `untrimmed`.
- **Cpk/Ppk** (central/spc/capability.py) over the selection, and as a
  trend over consecutive windows of a fixed number of units.
- **Drift** per station (central/spc/drift.py, on the sigma gradient, in each
  station's own production order) against the station's reference baseline, the
  one the drift alarm uses (central/spc/reference.py: the period before the window,
  at least 30 tracks; without it the station has none), and one word for the model: `up`/`down`
  when some station drifts that way and none the other, `mixed` when they
  disagree, `stable` when at least one station has a baseline and none
  drifts, `unknown` when none has a baseline.
- **The scorecard**: yield (from the rollups: every unit of the
  window), then linearity Cpk with its rating and the drift state over the
  model's latest SCORECARD_TRACKS tracks of the window, and open alarms.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from central.queries.counts import StatusCounts
from central.spc.capability import (
    Capability,
    IndexEstimate,
    SpecLimits,
    WindowCapability,
    capability,
    rolling_capability,
)
from central.spc.drift import (
    Cusum,
    DriftState,
    Ewma,
    cusum,
    drift_state,
    ewma,
)
from central.spc.reference import DriftReference
from central.spc.series import FloatArray, Unavailable

DEFAULT_TREND_WINDOW = 100  # units per point of the Cpk/Ppk trend
#: The scorecard rests on the model's latest tracks in the window, the same on the model
#: list (one query for every model) and on the model's page. More would make the list
#: read tens of thousands of tracks per request; the page's capability section shows the
#: whole series beside it.
SCORECARD_TRACKS = 200

IndexArray = npt.NDArray[np.intp]


class SpcPoint(Protocol):
    """What the statistics read of one analysed track (central.queries.models.UnitPoint
    and the model list's lighter rows both have it)."""

    @property
    def station(self) -> str: ...
    @property
    def sigma_gradient(self) -> float: ...
    @property
    def sigma_threshold(self) -> float | None: ...
    @property
    def linearity_error(self) -> float | None: ...
    @property
    def linearity_spec(self) -> float | None: ...
    @property
    def untrimmed(self) -> bool: ...


@dataclass(frozen=True)
class Metric:
    """One metric of the selection, ready for SPC: values in production order and the spec.

    `values[i]` belongs to input point `indices[i]` (units without a limit drop
    out when the others are normalised). `spec` is None when no unit has a
    limit (no capability index then).
    """

    key: str  # "linearity" or "sigma"
    name: str  # "linearity error"
    values: FloatArray
    indices: IndexArray
    spec: SpecLimits | None
    normalised: bool
    unit: str  # "V", "" (sigma gradient) or "x limit" when normalised
    left_out: int  # units without a value, or without a limit when the others were normalised
    limits_seen: tuple[float, ...]  # the distinct limits, smallest first (at most a few)
    untrimmed: int = 0  # never trimmed or aborted (shared/quality.py): left out, counted here

    @property
    def label(self) -> str:
        """The axis label: the metric and what it is measured in."""
        if self.normalised:
            return f"{self.name} / its limit"
        return f"{self.name} ({self.unit})" if self.unit else self.name


SAME_LIMIT = 1e-9  # relative: limits this close are one limit computed two ways


def _distinct(limits: FloatArray) -> tuple[float, ...]:
    """The different limits, smallest first; 0.010000000000000005 and 0.01 are one."""
    found: list[float] = []
    for value in np.unique(limits).tolist():  # sorted; a model has one or a few
        if not found or value - found[-1] > SAME_LIMIT * value:
            found.append(value)
    return tuple(found)


def _metric(
    key: str,
    name: str,
    unit: str,
    points: Sequence[SpcPoint],
    value_of: Callable[[SpcPoint], float | None],
    limit_of: Callable[[SpcPoint], float | None],
) -> Metric:
    values = np.array([value_of(p) for p in points], dtype=np.float64)  # None becomes NaN
    limit = np.array([limit_of(p) for p in points], dtype=np.float64)
    untrimmed = np.array([p.untrimmed for p in points], dtype=np.bool_)
    has_value = np.isfinite(values) & ~untrimmed
    others = int(values.size - np.count_nonzero(untrimmed))  # the trimmed tracks
    has_limit = np.isfinite(limit) & (limit > 0)
    limits = _distinct(limit[has_value & has_limit])
    normalised = len(limits) > 1
    kept = np.flatnonzero(has_value & has_limit if normalised else has_value).astype(np.intp)
    if normalised:
        return Metric(
            key,
            name,
            values[kept] / limit[kept],
            kept,
            SpecLimits(upper=1.0),
            True,
            "x limit",
            others - int(kept.size),
            limits[:6],
            int(np.count_nonzero(untrimmed)),
        )
    spec = SpecLimits(upper=limits[0]) if limits else None
    return Metric(
        key,
        name,
        values[kept],
        kept,
        spec,
        False,
        unit,
        others - int(kept.size),
        limits,
        int(np.count_nonzero(untrimmed)),
    )


def linearity_metric(points: Sequence[SpcPoint]) -> Metric:
    """Linearity error against each unit's linearity spec (normalised when specs differ)."""
    return _metric(
        "linearity",
        "linearity error",
        "V",
        points,
        lambda p: p.linearity_error,
        lambda p: p.linearity_spec,
    )


def sigma_metric(points: Sequence[SpcPoint]) -> Metric:
    """Sigma gradient against each unit's sigma threshold (normalised when they differ)."""
    return _metric(
        "sigma",
        "sigma gradient",
        "",
        points,
        lambda p: p.sigma_gradient,
        lambda p: p.sigma_threshold,
    )


@dataclass(frozen=True)
class MetricCapability:
    metric: Metric
    capability: Capability | None  # None without a spec
    trend: tuple[WindowCapability, ...]
    trend_window: int


def metric_capability(metric: Metric, trend_window: int = DEFAULT_TREND_WINDOW) -> MetricCapability:
    """Cpk/Ppk over the whole selection and over consecutive windows of `trend_window` units."""
    if metric.spec is None:
        return MetricCapability(metric, None, (), trend_window)
    overall = capability(metric.values, metric.spec)
    trend: tuple[WindowCapability, ...] = ()
    if metric.values.size >= 2 * trend_window:  # a trend of one point says nothing
        trend = tuple(rolling_capability(metric.values, metric.spec, window=trend_window))
    return MetricCapability(metric, overall, trend, trend_window)


@dataclass(frozen=True)
class StationDrift:
    """One station's detectors; `indices` are its units' positions in the input points."""

    station: str
    indices: tuple[int, ...]
    cusum: Cusum | Unavailable
    ewma: Ewma | Unavailable
    state: DriftState


def station_drift(points: Sequence[SpcPoint], reference: DriftReference) -> list[StationDrift]:
    """CUSUM and EWMA of the sigma gradient per station, by station name, each against
    the station's reference baseline (the drift alarm's)."""
    by_station: dict[str, list[int]] = {}
    for index, point in enumerate(points):  # in production order; a few thousand at most
        by_station.setdefault(point.station, []).append(index)
    found = []
    for station in sorted(by_station):
        mine = by_station[station]
        values = np.array([points[i].sigma_gradient for i in mine], dtype=np.float64)
        base = reference.baseline(station)  # once for both detectors
        c: Cusum | Unavailable = (
            base if isinstance(base, Unavailable) else cusum(values, baseline=base)
        )
        e: Ewma | Unavailable = (
            base if isinstance(base, Unavailable) else ewma(values, baseline=base)
        )
        found.append(StationDrift(station, tuple(mine), c, e, drift_state(c, e)))
    return found


def model_drift_state(states: Sequence[DriftState]) -> DriftState:
    """One word for a model from its stations' drift states (module docstring)."""
    moving = {s for s in states if s in (DriftState.UP, DriftState.DOWN, DriftState.MIXED)}
    if DriftState.MIXED in moving or moving == {DriftState.UP, DriftState.DOWN}:
        return DriftState.MIXED
    if moving:
        return moving.pop()
    if DriftState.STABLE in states:
        return DriftState.STABLE
    return DriftState.UNKNOWN


@dataclass(frozen=True)
class Scorecard:
    """The one line per model: yield, Cpk, drift, open alarms (and what they rest on)."""

    model: str
    counts: StatusCounts
    cpk: IndexEstimate | Unavailable | None  # linearity error; None: no spec
    units_for_cpk: int
    drift: DriftState
    open_alarms: int | None  # None: alarms are not known here
    untrimmed: int = 0  # of the latest tracks: never trimmed or aborted, not in the Cpk

    @property
    def yield_pct(self) -> float | None:
        return self.counts.yield_pct

    @property
    def cpk_value(self) -> float | None:
        return self.cpk.value if isinstance(self.cpk, IndexEstimate) else None


def scorecard(
    model: str,
    counts: StatusCounts,
    points: Sequence[SpcPoint],
    open_alarms: int | None,
    reference: DriftReference,
) -> Scorecard:
    """The scorecard of a model from its window's counts and its latest tracks.

    Only the latest SCORECARD_TRACKS of `points` (oldest first) count, so the
    caller may hand in a longer series.
    """
    points = points[-SCORECARD_TRACKS:]
    lin = linearity_metric(points)
    cap = capability(lin.values, lin.spec) if lin.spec is not None else None
    drift = model_drift_state([d.state for d in station_drift(points, reference)])
    return Scorecard(
        model=model,
        counts=counts,
        cpk=None if cap is None else cap.cpk,
        units_for_cpk=int(lin.values.size),
        drift=drift,
        open_alarms=open_alarms,
        untrimmed=lin.untrimmed,
    )
