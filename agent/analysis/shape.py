"""Whole-curve statistics: spec width, RMS, straight-line fit (untrimmed-looking curves)."""

from __future__ import annotations

import numpy as np
from numba import njit

DEFAULT_LINEARITY_SPEC = 0.01
ANOMALY_R_SQUARED = 0.95
ANOMALY_MIN_RANGE = 0.02
ANOMALY_THRESHOLD_FACTOR = 10.0
# A trim that changed the curve by less than this share of the untrimmed curve's own
# variation (RMS about its mean, offsets aside) did not happen. Real trimmed units go
# as low as 0.04 (a unit that needed little trim, not a straight line); the anomaly
# needs both the straight, wide final line and this.
ANOMALY_TRIM_CHANGE = 0.2


@njit(cache=True)
def linearity_spec(upper: np.ndarray, lower: np.ndarray) -> float:
    """Half the mean band width over the limits that are present; 0.01 when there are none."""
    up_sum = 0.0
    up_n = 0
    lo_sum = 0.0
    lo_n = 0
    for i in range(upper.size):
        if np.isfinite(upper[i]):
            up_sum += upper[i]
            up_n += 1
        if np.isfinite(lower[i]):
            lo_sum += lower[i]
            lo_n += 1
    if up_n == 0 and lo_n == 0:
        return DEFAULT_LINEARITY_SPEC
    up_mean = up_sum / up_n if up_n > 0 else 0.0
    lo_mean = lo_sum / lo_n if lo_n > 0 else 0.0
    return (up_mean - lo_mean) / 2.0


@njit(cache=True)
def rms(values: np.ndarray) -> float:
    total = 0.0
    for i in range(values.size):
        total += values[i] * values[i]
    return np.sqrt(total / values.size) if values.size > 0 else 0.0


@njit(cache=True)
def line_fit_r_squared(x: np.ndarray, y: np.ndarray) -> float:
    """R^2 of the least-squares line y = a + b x; 0 for a flat or degenerate series."""
    n = x.size
    if n < 3:
        return 0.0
    x_mean = x.mean()
    y_mean = y.mean()
    sxx = 0.0
    sxy = 0.0
    syy = 0.0
    for i in range(n):
        dx = x[i] - x_mean
        dy = y[i] - y_mean
        sxx += dx * dx
        sxy += dx * dy
        syy += dy * dy
    if sxx <= 0.0 or syy <= 0.0:
        return 0.0
    return (sxy * sxy) / (sxx * syy)


@njit(cache=True)
def trim_change(
    positions: np.ndarray,
    errors: np.ndarray,
    untrimmed_positions: np.ndarray,
    untrimmed_errors: np.ndarray,
) -> float:
    """How much the trim changed the error curve, as a share of the untrimmed curve's variation.

    RMS of (final - untrimmed) about its mean (a constant shift is a fixture
    offset, not a trim) over the RMS of the untrimmed curve about its mean. The
    untrimmed curve is read at the final positions: index by index when both
    sheets have the same points, else linearly interpolated (System B's trimmed
    sheet may have more points). Non-finite values are left out; 1.0 (changed)
    when nothing can be compared.
    """
    n = positions.size
    before = np.empty(n)
    if untrimmed_positions.size == n:
        before[:] = untrimmed_errors
    else:
        keep = np.isfinite(untrimmed_positions) & np.isfinite(untrimmed_errors)
        ux = untrimmed_positions[keep]
        ue = untrimmed_errors[keep]
        if ux.size < 2:
            return 1.0
        order = np.argsort(ux)
        before[:] = np.interp(positions, ux[order], ue[order])
    ok = np.isfinite(positions) & np.isfinite(errors) & np.isfinite(before)
    if ok.sum() < 3:
        return 1.0
    after = errors[ok]
    was = before[ok]
    diff = after - was
    moved = diff - diff.mean()
    spread = was - was.mean()
    reference = np.sqrt(np.mean(spread * spread))
    if reference <= 0.0:
        return 1.0
    return float(np.sqrt(np.mean(moved * moved)) / reference)


@njit(cache=True)
def is_anomaly(positions: np.ndarray, errors: np.ndarray, threshold: float) -> bool:
    """A straight, wide error line: what an untrimmed track looks like (DOMAIN.md step 7)."""
    spread = errors.max() - errors.min()
    if spread <= max(ANOMALY_THRESHOLD_FACTOR * threshold, ANOMALY_MIN_RANGE):
        return False
    return line_fit_r_squared(positions, errors) > ANOMALY_R_SQUARED


@njit(cache=True)
def is_untrimmed_anomaly(
    positions: np.ndarray,
    errors: np.ndarray,
    threshold: float,
    untrimmed_positions: np.ndarray,
    untrimmed_errors: np.ndarray,
) -> bool:
    """The final curve looks untrimmed AND the trim history says the laser did not change it.

    A straight, wide final line alone is not proof: a trim that flattened a
    +/-0.4 V slope to a small residual tilt inside a wide band leaves a straight
    line too. With the untrimmed measurement at hand, the trim happened when it
    changed the curve by at least `ANOMALY_TRIM_CHANGE` of the untrimmed curve's
    variation (trim_change).
    """
    if not is_anomaly(positions, errors, threshold):
        return False
    change = trim_change(positions, errors, untrimmed_positions, untrimmed_errors)
    return change < ANOMALY_TRIM_CHANGE


@njit(cache=True)
def plausibility_figures(
    positions: np.ndarray,
    errors: np.ndarray,
    upper: np.ndarray,
    lower: np.ndarray,
    wide_limit: float,
) -> tuple[float, bool, float, float, float, int, int, int]:
    """What agent.parsing.sanity judges a sheet by, in one pass instead of a dozen array calls.

    (largest |error|, any error non-zero, largest finite |upper| and |lower|
    (-1 when there is none), largest |position|, steps that do not increase,
    limit cells beyond wide_limit, points whose upper limit is below the lower).
    NaN behaves as numpy's max and comparisons would: a NaN error or position
    makes its maximum NaN, a NaN limit is absent, a NaN compares False.
    """
    worst_error = 0.0
    nonzero = False
    for value in errors:
        magnitude = abs(value)
        if np.isnan(magnitude) or magnitude > worst_error:
            worst_error = magnitude
            if np.isnan(magnitude):
                break
    for value in errors:
        if value != 0.0:  # NaN too, as numpy's any()
            nonzero = True
            break
    top_upper = -1.0
    top_lower = -1.0
    wide = 0
    swapped = 0
    for i in range(upper.size):
        up = abs(upper[i])
        low = abs(lower[i])
        if np.isfinite(up) and up > top_upper:
            top_upper = up
        if np.isfinite(low) and low > top_lower:
            top_lower = low
        wide += (up > wide_limit) + (low > wide_limit)
        swapped += upper[i] < lower[i]
    farthest = 0.0
    for value in positions:
        magnitude = abs(value)
        if np.isnan(magnitude) or magnitude > farthest:
            farthest = magnitude
            if np.isnan(magnitude):
                break
    backward = 0
    for i in range(1, positions.size):
        backward += positions[i] - positions[i - 1] <= 0.0
    return worst_error, nonzero, top_upper, top_lower, farthest, backward, wide, swapped
