"""Cpk and Ppk of per-unit values against their spec, with a rating and a confidence interval.

Definitions (DOMAIN.md "Process statistics", constants in 0010):
- Ppk uses the overall sample standard deviation (ddof = 1): what the
  customer receives, drift and all.
- Cpk uses the within-subgroup spread: R-bar / d2 over consecutive subgroups
  of 5 units (d2 = 2.326) once there are at least 20 complete subgroups
  (100 units); a shorter series uses the average moving range / 1.128,
  because R-bar from a handful of subgroups is a poorer estimate than the
  moving ranges of every unit. The trailing partial subgroup (n mod 5 units)
  counts in the mean and Ppk but not in R-bar.
- One-sided specs: linearity error is >= 0 against an upper limit only, so
  `SpecLimits(upper=spec)` gives Cpk = Cpu = (USL - mean) / 3 sigma.
- Confidence interval: Bissell's normal approximation,
  index +/- z * sqrt(1 / (9n) + index^2 / (2(n - 1))), applied to Cpk as well
  (with the within sigma it is an approximation, stated in 0010).
- Fewer than 10 values, or zero spread (a sigma below 1e-12 of the largest
  |value| or |limit|: rounding noise), give `Unavailable`, never a number.
- A rating word needs shared.quality.MIN_RATED_SAMPLE values (30): below it the
  index and its interval are given, the rating is None ("too few for a rating";
  docs/decisions/0021).
Values must be in production order: the within spread depends on it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from central.spc.errors import SpcErrorCode, SpcInputError
from central.spc.series import (
    ArrayLike,
    FloatArray,
    Unavailable,
    as_series,
    negligible,
    too_few,
    zero_spread,
)
from central.spc.special import normal_quantile
from shared.quality import rating_allowed

MIN_POINTS = 10
SUBGROUP_SIZE = 5
D2_SUBGROUP_5 = 2.326  # E[range] / sigma for subgroups of 5
D2_MOVING_RANGE = 1.128  # E[|x_i - x_(i-1)|] / sigma (subgroups of 2)
MIN_SUBGROUPS_FOR_RBAR = 20  # fewer complete subgroups than this is a "short series"
DEFAULT_CONFIDENCE = 0.95


class Rating(StrEnum):
    """QA's reading of an index (DOMAIN.md thresholds)."""

    EXCELLENT = "excellent"  # >= 1.67
    CAPABLE = "capable"  # >= 1.33
    MARGINAL = "marginal"  # >= 1.0
    INCAPABLE = "incapable"


RATING_THRESHOLDS: tuple[tuple[float, Rating], ...] = (
    (1.67, Rating.EXCELLENT),
    (1.33, Rating.CAPABLE),
    (1.0, Rating.MARGINAL),
)


def rate(index: float) -> Rating:
    """The rating of a Cpk or Ppk value; a threshold value itself earns the better rating."""
    for threshold, rating in RATING_THRESHOLDS:
        if index >= threshold:
            return rating
    return Rating.INCAPABLE


class WithinMethod(StrEnum):
    """How the within-subgroup sigma behind Cpk was estimated."""

    SUBGROUP_RANGE = "rbar_d2"  # R-bar / 2.326, consecutive subgroups of 5
    MOVING_RANGE = "mrbar_d2"  # MR-bar / 1.128


@dataclass(frozen=True)
class SpecLimits:
    """The spec band; either side may be absent (a one-sided spec), not both."""

    lower: float | None = None
    upper: float | None = None

    def __post_init__(self) -> None:
        if self.lower is None and self.upper is None:
            raise SpcInputError(
                SpcErrorCode.BAD_SPEC, "a capability index needs a lower or an upper spec limit"
            )
        for side, limit in (("lower", self.lower), ("upper", self.upper)):
            if limit is not None and not math.isfinite(limit):
                raise SpcInputError(
                    SpcErrorCode.BAD_SPEC, f"the {side} spec limit must be finite, got {limit!r}"
                )
        if self.lower is not None and self.upper is not None and self.lower >= self.upper:
            raise SpcInputError(
                SpcErrorCode.BAD_SPEC,
                f"the lower spec limit ({self.lower}) must be below the upper ({self.upper})",
            )

    def mirrored(self) -> SpecLimits:
        """The same band for negated values (used to check Cpk's symmetry)."""
        return SpecLimits(
            lower=None if self.upper is None else -self.upper,
            upper=None if self.lower is None else -self.lower,
        )


@dataclass(frozen=True)
class IndexEstimate:
    """One capability index with its one-sided parts and a confidence interval."""

    value: float
    rating: Rating | None  # None: too few values for a rating (shared/quality.py)
    upper_index: float | None  # (USL - mean) / 3 sigma, None without an upper limit
    lower_index: float | None  # (mean - LSL) / 3 sigma, None without a lower limit
    sigma: float
    ci_low: float
    ci_high: float
    confidence: float
    n: int

    @property
    def rated(self) -> bool:
        return self.rating is not None


@dataclass(frozen=True)
class Capability:
    """Cpk and Ppk of one selection, each an estimate or the reason there is none."""

    n: int
    mean: float | None
    sigma_overall: float | None
    sigma_within: float | None
    within_method: WithinMethod
    spec: SpecLimits
    cpk: IndexEstimate | Unavailable
    ppk: IndexEstimate | Unavailable


def moving_range_sigma(values: FloatArray) -> float:
    """MR-bar / 1.128: the short-term sigma of individual values in time order."""
    return float(np.mean(np.abs(np.diff(values)))) / D2_MOVING_RANGE


def subgroup_range_sigma(values: FloatArray) -> float:
    """R-bar / 2.326 over consecutive subgroups of 5; a trailing partial subgroup is left out."""
    complete = values.size // SUBGROUP_SIZE * SUBGROUP_SIZE
    groups = values[:complete].reshape(-1, SUBGROUP_SIZE)
    return float(np.mean(np.ptp(groups, axis=1))) / D2_SUBGROUP_5


def choose_within_method(n: int) -> WithinMethod:
    """R-bar/d2 from 20 complete subgroups of 5 (100 values) on; moving ranges below that."""
    if n // SUBGROUP_SIZE >= MIN_SUBGROUPS_FOR_RBAR:
        return WithinMethod.SUBGROUP_RANGE
    return WithinMethod.MOVING_RANGE


_WITHIN: dict[WithinMethod, Callable[[FloatArray], float]] = {
    WithinMethod.SUBGROUP_RANGE: subgroup_range_sigma,
    WithinMethod.MOVING_RANGE: moving_range_sigma,
}


def bissell_interval(index: float, n: int, confidence: float) -> tuple[float, float]:
    """Bissell's approximate two-sided interval: index +/- z sqrt(1/(9n) + index^2/(2(n-1)))."""
    z = normal_quantile(0.5 + confidence / 2.0)
    half = z * math.sqrt(1.0 / (9.0 * n) + index * index / (2.0 * (n - 1)))
    return index - half, index + half


def index_estimate(
    mean: float, sigma: float, spec: SpecLimits, n: int, confidence: float
) -> IndexEstimate:
    """The index (the worse one-sided index when both limits exist) for a given sigma > 0."""
    upper = None if spec.upper is None else (spec.upper - mean) / (3.0 * sigma)
    lower = None if spec.lower is None else (mean - spec.lower) / (3.0 * sigma)
    value = min(side for side in (upper, lower) if side is not None)
    low, high = bissell_interval(value, n, confidence)
    return IndexEstimate(
        value=value,
        rating=rate(value) if rating_allowed(n) else None,
        upper_index=upper,
        lower_index=lower,
        sigma=sigma,
        ci_low=low,
        ci_high=high,
        confidence=confidence,
        n=n,
    )


def capability(
    values: ArrayLike,
    spec: SpecLimits,
    *,
    confidence: float = DEFAULT_CONFIDENCE,
    within: WithinMethod | None = None,
) -> Capability:
    """Cpk and Ppk of `values` (production order) against `spec`.

    `within` forces the within-sigma method (default: by series length, see
    the module docstring). `confidence` is the two-sided level of both
    intervals.
    """
    if not 0.0 < confidence < 1.0:
        raise SpcInputError(
            SpcErrorCode.BAD_PARAMETER, f"confidence must lie in (0, 1), got {confidence!r}"
        )
    x = as_series(values)
    method = within or choose_within_method(x.size)
    if x.size < MIN_POINTS:
        missing = too_few("a capability index", MIN_POINTS, int(x.size))
        return Capability(
            n=int(x.size),
            mean=float(np.mean(x)) if x.size else None,
            sigma_overall=None,
            sigma_within=None,
            within_method=method,
            spec=spec,
            cpk=missing,
            ppk=missing,
        )
    mean = float(np.mean(x))
    overall = float(np.std(x, ddof=1))
    within_sigma = _WITHIN[method](x)
    scale = max(
        float(np.max(np.abs(x))), *(abs(v) for v in (spec.lower, spec.upper) if v is not None)
    )
    return Capability(
        n=int(x.size),
        mean=mean,
        sigma_overall=overall,
        sigma_within=within_sigma,
        within_method=method,
        spec=spec,
        cpk=_estimate_or_reason("Cpk", mean, within_sigma, scale, spec, int(x.size), confidence),
        ppk=_estimate_or_reason("Ppk", mean, overall, scale, spec, int(x.size), confidence),
    )


def _estimate_or_reason(
    name: str,
    mean: float,
    sigma: float,
    scale: float,
    spec: SpecLimits,
    n: int,
    confidence: float,
) -> IndexEstimate | Unavailable:
    if negligible(sigma, scale):
        return zero_spread(name)
    return index_estimate(mean, sigma, spec, n, confidence)


@dataclass(frozen=True)
class WindowCapability:
    """Capability over values[start:stop]: one point of a Cpk/Ppk trend."""

    start: int
    stop: int
    capability: Capability


def rolling_capability(
    values: ArrayLike,
    spec: SpecLimits,
    *,
    window: int,
    step: int | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
) -> list[WindowCapability]:
    """Cpk/Ppk over successive windows of `window` values, `step` apart (default: no overlap).

    Windows are counted in units rather than days so every point of the trend
    rests on the same amount of evidence; the last window ends at the newest
    value, and a series shorter than one window gives one window of all of it.
    The within method is chosen for the window length, the same for every window.
    """
    if window < MIN_POINTS:
        raise SpcInputError(
            SpcErrorCode.BAD_PARAMETER, f"window must be >= {MIN_POINTS} values, got {window}"
        )
    step = window if step is None else step
    if step < 1:
        raise SpcInputError(SpcErrorCode.BAD_PARAMETER, f"step must be >= 1, got {step}")
    x = as_series(values)
    method = choose_within_method(min(window, x.size))
    stops = list(range(x.size, window - 1, -step))[::-1] or [x.size]
    return [
        WindowCapability(
            start=max(0, stop - window),
            stop=stop,
            capability=capability(
                x[max(0, stop - window) : stop], spec, confidence=confidence, within=method
            ),
        )
        for stop in stops
    ]
