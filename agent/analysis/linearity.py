"""Linearity at one rotation: the exact optimal offset, fail points and margins.

At a fixed rotation k, a judged point i with limits allows offsets c in the
window shared/band.py defines ([lower_i - e_i - t_i*k, upper_i - e_i - t_i*k];
an absent limit leaves that side open; a point with no limits or excluded
never fails). The best offset lies where the most of those windows overlap;
among all such offsets the one with the smallest max |e_i + t_i*k + c| wins.
That max is the V-shaped function max(e_max + c, -(e_min + c)) of the
rotated errors, so within every stretch of maximal overlap the best choice is
the V's apex clamped into the stretch. A sweep over the sorted window ends
finds every stretch exactly: no numerical minimiser, no grid.

Inside/outside is always decided on the windows themselves (c against their
ends), so a point that sits exactly on its limit after the shift is inside,
as it is on paper, here and wherever else the band rule is applied.
agent/analysis/rotation.py lets k vary; with k = 0 and nothing excluded
everything here is the rule of the first release, bit for bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from shared import band

window = njit(cache=True)(band.offset_window)


@njit(cache=True)
def offset_intervals(
    errors: np.ndarray,
    theory: np.ndarray,
    upper: np.ndarray,
    lower: np.ndarray,
    k: float,
    judged: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Allowed offset window per point at rotation k, and whether the point is constrained.

    Constrained = judged (not excluded) and at least one limit present; the
    others get (-inf, inf) and never fail.
    """
    n = errors.size
    low = np.empty(n)
    high = np.empty(n)
    constrained = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        if judged[i] and (np.isfinite(lower[i]) or np.isfinite(upper[i])):
            low[i], high[i] = window(errors[i], theory[i], upper[i], lower[i], k)
            constrained[i] = True
        else:
            low[i] = -np.inf
            high[i] = np.inf
    return low, high, constrained


@njit(cache=True)
def rotated_range(
    errors: np.ndarray, theory: np.ndarray, k: float, judged: np.ndarray
) -> tuple[float, float]:
    """(min, max) of e + t*k over the judged points; (0, 0) when none is judged."""
    e_min = np.inf
    e_max = -np.inf
    for i in range(errors.size):
        if judged[i]:
            value = errors[i] + theory[i] * k if k != 0.0 else errors[i]
            e_min = min(e_min, value)
            e_max = max(e_max, value)
    if e_min > e_max:
        return 0.0, 0.0
    return e_min, e_max


@njit(cache=True)
def _linearity_error(e_min: float, e_max: float, c: float) -> float:
    return max(e_max + c, -(e_min + c))


@njit(cache=True)
def _closer(candidate: float, best: float, e_min: float, e_max: float) -> bool:
    """Smaller max |e + c| wins; on an exact tie the smaller |c| (least correction) wins."""
    cand_err = _linearity_error(e_min, e_max, candidate)
    best_err = _linearity_error(e_min, e_max, best)
    if cand_err < best_err:
        return True
    return cand_err == best_err and abs(candidate) < abs(best)


@njit(cache=True)
def best_offset(
    low: np.ndarray, high: np.ndarray, constrained: np.ndarray, e_min: float, e_max: float
) -> float:
    """The offset with the fewest failing points and, among those, the smallest max |error|."""
    apex = -(e_max + e_min) / 2.0
    m = 0
    for i in range(low.size):
        if constrained[i] and low[i] <= high[i]:
            m += 1
    if m == 0:
        return apex
    # Common case (every passing unit): one offset satisfies every point, so the
    # intervals share the stretch [max start, min end]; no sort needed.
    latest_start = -np.inf
    earliest_end = np.inf
    for i in range(low.size):
        if constrained[i] and low[i] <= high[i]:
            latest_start = max(latest_start, low[i])
            earliest_end = min(earliest_end, high[i])
    if latest_start <= earliest_end:
        return min(max(apex, latest_start), earliest_end)
    starts = np.empty(m)
    ends = np.empty(m)
    j = 0
    for i in range(low.size):
        if constrained[i] and low[i] <= high[i]:
            starts[j] = low[i]
            ends[j] = high[i]
            j += 1
    starts.sort()
    ends.sort()

    # Pass 1: the highest coverage anywhere. Pass 2: the best offset within it.
    best_cover = -1
    best_c = 0.0
    found = False
    for stage in range(2):
        i = 0  # starts <= v consumed
        j = 0  # ends < v consumed
        prev = -np.inf
        while i < m or j < m:
            # next distinct coordinate
            take_start = j >= m or (i < m and starts[i] <= ends[j])
            v = starts[i] if take_start else ends[j]
            # open stretch (prev, v): starts <= prev and ends <= prev are consumed
            open_cover = i - j
            if stage == 0:
                best_cover = max(best_cover, open_cover)
            elif open_cover == best_cover:
                c = min(max(apex, prev), v)
                if not found or _closer(c, best_c, e_min, e_max):
                    best_c = c
                    found = True
            while i < m and starts[i] <= v:
                i += 1
            point_cover = i - j  # closed intervals: starting at v counts, ending at v still counts
            if stage == 0:
                best_cover = max(best_cover, point_cover)
            elif point_cover == best_cover and (not found or _closer(v, best_c, e_min, e_max)):
                best_c = v
                found = True
            while j < m and ends[j] <= v:
                j += 1
            prev = v
        open_cover = i - j
        if stage == 0:
            best_cover = max(best_cover, open_cover)
        elif open_cover == best_cover:
            c = max(apex, prev)
            if not found or _closer(c, best_c, e_min, e_max):
                best_c = c
                found = True
    return best_c


@njit(cache=True)
def outside(low: np.ndarray, high: np.ndarray, constrained: np.ndarray, c: float) -> np.ndarray:
    """Which points are outside their window at offset c (the band rule)."""
    mask = np.zeros(low.size, dtype=np.bool_)
    for i in range(low.size):
        mask[i] = constrained[i] and not (low[i] <= c <= high[i])
    return mask


@njit(cache=True)
def failures(low: np.ndarray, high: np.ndarray, constrained: np.ndarray, c: float) -> int:
    """Points outside their window at offset c."""
    fails = 0
    for i in range(low.size):
        if constrained[i] and not (low[i] <= c <= high[i]):
            fails += 1
    return fails


@njit(cache=True)
def fewest_at(
    errors: np.ndarray,
    theory: np.ndarray,
    upper: np.ndarray,
    lower: np.ndarray,
    k: float,
    judged: np.ndarray,
) -> tuple[float, int]:
    """(best offset, its fail count) at a fixed rotation k."""
    low, high, constrained = offset_intervals(errors, theory, upper, lower, k, judged)
    e_min, e_max = rotated_range(errors, theory, k, judged)
    c = best_offset(low, high, constrained, e_min, e_max)
    return c, failures(low, high, constrained, c)


@njit(cache=True)
def max_abs_adjusted(
    errors: np.ndarray, theory: np.ndarray, k: float, c: float, judged: np.ndarray
) -> float:
    """The linearity error: max |e + t*k + c| over the judged points."""
    worst = 0.0
    for i in range(errors.size):
        if judged[i]:
            value = errors[i] + theory[i] * k if k != 0.0 else errors[i]
            worst = max(worst, abs(value + c))
    return worst


@njit(cache=True)
def band_margins(
    low: np.ndarray,
    high: np.ndarray,
    constrained: np.ndarray,
    upper: np.ndarray,
    lower: np.ndarray,
    offset: float,
    fallback_width: float,
) -> tuple[float, float, float]:
    """(largest violation, mean violation, smallest margin as % of band width).

    Violations are over failing points (0 when none fail). The margin is over
    passing constrained points; a one-sided point is measured against
    fallback_width. NaN margin when no point is constrained.
    """
    worst = 0.0
    total = 0.0
    fails = 0
    margin = np.inf
    for i in range(low.size):
        if not constrained[i]:
            continue
        below = low[i] - offset  # how far the adjusted error sits under the lower limit
        above = offset - high[i]  # how far it sits over the upper limit
        beyond = max(below, above)
        if beyond > 0.0:
            worst = max(worst, beyond)
            total += beyond
            fails += 1
            continue
        if np.isfinite(lower[i]) and np.isfinite(upper[i]):
            width = upper[i] - lower[i]
        else:
            width = fallback_width
        distance = -beyond
        pct = 100.0 * distance / width if width > 0.0 else 0.0
        margin = min(margin, pct)
    mean = total / fails if fails > 0 else 0.0
    if not np.isfinite(margin):
        margin = np.nan
    return worst, mean, margin


@njit(cache=True)
def strict_summary(
    errors: np.ndarray, upper: np.ndarray, lower: np.ndarray
) -> tuple[float, int, int, float, np.ndarray]:
    """Strict (offset only, every point) in one call: offset, fails, raw fails, error, mask."""
    theory = np.zeros(errors.size)
    judged = np.ones(errors.size, dtype=np.bool_)
    low, high, constrained = offset_intervals(errors, theory, upper, lower, 0.0, judged)
    c = best_offset(low, high, constrained, errors.min(), errors.max())
    mask = outside(low, high, constrained, c)
    return (
        c,
        failures(low, high, constrained, c),
        failures(low, high, constrained, 0.0),
        max_abs_adjusted(errors, theory, 0.0, c, judged),
        mask,
    )


# The strict rule (offset only, every point) as the first release called it: tests,
# benchmarks and references use these names.


def _flat(errors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros_like(errors), np.ones(errors.size, dtype=np.bool_)


def strict_windows(
    errors: np.ndarray, upper: np.ndarray, lower: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    theory, judged = _flat(errors)
    return offset_intervals(errors, theory, upper, lower, 0.0, judged)


def optimal_offset(errors: np.ndarray, upper: np.ndarray, lower: np.ndarray) -> float:
    """Strict: the offset with the fewest failing points, then the smallest max |e + c|."""
    low, high, constrained = strict_windows(errors, upper, lower)
    return float(best_offset(low, high, constrained, float(errors.min()), float(errors.max())))


def count_failures(errors: np.ndarray, upper: np.ndarray, lower: np.ndarray, offset: float) -> int:
    """Strict: points outside their band once the whole curve is shifted by offset."""
    return int(failures(*strict_windows(errors, upper, lower), offset))


def max_abs_shifted(errors: np.ndarray, offset: float) -> float:
    theory, judged = _flat(errors)
    return float(max_abs_adjusted(errors, theory, 0.0, offset, judged))


def strict_margins(
    errors: np.ndarray, upper: np.ndarray, lower: np.ndarray, offset: float, fallback: float
) -> tuple[float, float, float]:
    """Strict: band_margins of the curve shifted by offset."""
    low, high, constrained = strict_windows(errors, upper, lower)
    worst, mean, margin = band_margins(low, high, constrained, upper, lower, offset, fallback)
    return float(worst), float(mean), float(margin)
