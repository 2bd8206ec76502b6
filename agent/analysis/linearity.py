"""Linearity: the exact optimal offset, fail points and margins to the spec band.

A point i with limits allows offsets c in [lower_i - e_i, upper_i - e_i]
(an absent limit leaves that side open; a point with no limits never fails).
The best offset lies where the most of those intervals overlap; among all such
offsets the one with the smallest max |e_i + c| wins. That max is the V-shaped
function max(e_max + c, -(e_min + c)), so within every stretch of maximal
overlap the best choice is the V's apex clamped into the stretch. A sweep over
the sorted interval ends finds every stretch exactly: no numerical minimiser,
no grid.

Inside/outside is always decided on the same floating-point quantities the
sweep uses (c against lower_i - e_i and upper_i - e_i), so a point that sits
exactly on its limit after the shift is inside, as it is on paper.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def offset_intervals(
    errors: np.ndarray, upper: np.ndarray, lower: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Allowed offset interval per point (NaN limit = open side) and whether it is constrained."""
    n = errors.size
    low = np.empty(n)
    high = np.empty(n)
    constrained = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        has_lower = np.isfinite(lower[i])
        has_upper = np.isfinite(upper[i])
        low[i] = lower[i] - errors[i] if has_lower else -np.inf
        high[i] = upper[i] - errors[i] if has_upper else np.inf
        constrained[i] = has_lower or has_upper
    return low, high, constrained


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
def optimal_offset(errors: np.ndarray, upper: np.ndarray, lower: np.ndarray) -> float:
    """The offset with the fewest failing points and, among those, the smallest max |error|."""
    e_min = float(errors.min())
    e_max = float(errors.max())
    apex = -(e_max + e_min) / 2.0
    low, high, constrained = offset_intervals(errors, upper, lower)
    m = 0
    for i in range(errors.size):
        if constrained[i] and low[i] <= high[i]:
            m += 1
    if m == 0:
        return apex
    # Common case (every passing unit): one offset satisfies every point, so the
    # intervals share the stretch [max start, min end]; no sort needed.
    latest_start = -np.inf
    earliest_end = np.inf
    for i in range(errors.size):
        if constrained[i] and low[i] <= high[i]:
            latest_start = max(latest_start, low[i])
            earliest_end = min(earliest_end, high[i])
    if latest_start <= earliest_end:
        return min(max(apex, latest_start), earliest_end)
    starts = np.empty(m)
    ends = np.empty(m)
    k = 0
    for i in range(errors.size):
        if constrained[i] and low[i] <= high[i]:
            starts[k] = low[i]
            ends[k] = high[i]
            k += 1
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
def count_failures(errors: np.ndarray, upper: np.ndarray, lower: np.ndarray, offset: float) -> int:
    """Points outside their band once the whole curve is shifted by offset."""
    low, high, constrained = offset_intervals(errors, upper, lower)
    fails = 0
    for i in range(errors.size):
        if constrained[i] and not (low[i] <= offset <= high[i]):
            fails += 1
    return fails


@njit(cache=True)
def failure_mask(
    errors: np.ndarray, upper: np.ndarray, lower: np.ndarray, offset: float
) -> np.ndarray:
    """Which points are outside their band at this offset (the same test count_failures uses)."""
    low, high, constrained = offset_intervals(errors, upper, lower)
    outside = np.zeros(errors.size, dtype=np.bool_)
    for i in range(errors.size):
        outside[i] = constrained[i] and not (low[i] <= offset <= high[i])
    return outside


@njit(cache=True)
def max_abs_shifted(errors: np.ndarray, offset: float) -> float:
    worst = 0.0
    for i in range(errors.size):
        worst = max(worst, abs(errors[i] + offset))
    return worst


@njit(cache=True)
def band_margins(
    errors: np.ndarray,
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
    low, high, constrained = offset_intervals(errors, upper, lower)
    worst = 0.0
    total = 0.0
    fails = 0
    margin = np.inf
    for i in range(errors.size):
        if not constrained[i]:
            continue
        below = low[i] - offset  # how far e + c sits under the lower limit
        above = offset - high[i]  # how far e + c sits over the upper limit
        outside = max(below, above)
        if outside > 0.0:
            worst = max(worst, outside)
            total += outside
            fails += 1
            continue
        if np.isfinite(lower[i]) and np.isfinite(upper[i]):
            width = upper[i] - lower[i]
        else:
            width = fallback_width
        distance = -outside
        pct = 100.0 * distance / width if width > 0.0 else 0.0
        margin = min(margin, pct)
    mean = total / fails if fails > 0 else 0.0
    if not np.isfinite(margin):
        margin = np.nan
    return worst, mean, margin
