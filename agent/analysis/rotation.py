"""Offset and rotation together: the exact verdict when the theory line may rotate.

With rotation k inside [k_lo, k_hi] and offset c free, judged point i passes
when low_i(k) <= c <= high_i(k), where low_i(k) = lo_i - t_i*k and
high_i(k) = hi_i - t_i*k (shared/band.py; lo_i = lower_i - e_i,
hi_i = upper_i - e_i). In the (k, c) plane every point is a slab between two
parallel lines, and the questions have exact answers:

- Can every point pass? For a fixed k the allowed c is
  [max_i low_i(k), min_i high_i(k)]; its lower end is convex and its upper
  end concave in k, so the room gap(k) = min high - max low is concave and
  piecewise linear. Its maximum sits on a vertex of the two envelopes, found
  by sorting the lines by slope (convex-hull trick): O(n log n).
- Largest margin: among the feasible rotations we take the k with the most
  room for the offset (the maximum of gap, the one closest to 0 on a
  plateau); the offset at that k follows the station's own one-unknown rule
  (agent/analysis/linearity.py). With k_lo = k_hi = 0 that is the first
  release's answer exactly.
- Fewest failing points when no (c, k) passes them all: the deepest point of
  the slab arrangement inside the strip. The set of (c, k) that passes a
  given subset S is a convex polygon whose lowest edge lies on a lower
  boundary line of a point of S (or, when no point of S has a lower limit,
  whose highest edge lies on an upper boundary line), so sweeping along
  those lines finds the optimum exactly. A line can only carry the optimum
  if fewer lines than the current best failure count lie above it at both
  ends of the strip (then they lie above it throughout), which prunes all
  but a handful of lines on real tracks.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from agent.analysis import linearity


@njit(cache=True)
def _base_lines(
    errors: np.ndarray,
    theory: np.ndarray,
    upper: np.ndarray,
    lower: np.ndarray,
    judged: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(lo, hi, live, dead): windows at k = 0, which points can pass at all, how many cannot."""
    zero = 0.0
    lo, hi, constrained = linearity.offset_intervals(errors, theory, upper, lower, zero, judged)
    live = np.zeros(errors.size, dtype=np.bool_)
    dead = 0
    for i in range(errors.size):
        if constrained[i]:
            if lo[i] <= hi[i]:
                live[i] = True
            else:
                dead += 1  # swapped limits: outside at every (c, k)
    return lo, hi, live, dead


@njit(cache=True)
def _envelope(
    intercept: np.ndarray, slope: np.ndarray, use: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Upper envelope of the lines y = intercept + slope*x that `use` selects.

    Returns the envelope's lines left to right and where each takes over
    (breaks[0] = -inf). Parallel lines keep the higher one.
    """
    count = 0
    for i in range(use.size):
        if use[i]:
            count += 1
    index = np.empty(count, dtype=np.int64)
    j = 0
    for i in range(use.size):
        if use[i]:
            index[j] = i
            j += 1
    order = index[np.argsort(slope[index], kind="mergesort")]
    hull = np.empty(count, dtype=np.int64)
    breaks = np.empty(count)
    size = 0
    for line in order:
        if size > 0 and slope[hull[size - 1]] == slope[line]:
            if intercept[line] <= intercept[hull[size - 1]]:
                continue
            size -= 1
        while size > 0:
            top = hull[size - 1]
            x = (intercept[top] - intercept[line]) / (slope[line] - slope[top])
            if size > 1 and x <= breaks[size - 1]:
                size -= 1  # the top line never reaches above both neighbours
                continue
            break
        if size == 0:
            breaks[0] = -np.inf
        else:
            top = hull[size - 1]
            breaks[size] = (intercept[top] - intercept[line]) / (slope[line] - slope[top])
        hull[size] = line
        size += 1
    return hull[:size], breaks[:size]


@njit(cache=True)
def _at(hull: np.ndarray, breaks: np.ndarray, position: int, x: float) -> int:
    """Advance the envelope pointer to the line active at x (queries come in order)."""
    while position + 1 < hull.size and breaks[position + 1] <= x:
        position += 1
    return position


@njit(cache=True)
def widest_rotation(
    lo: np.ndarray, hi: np.ndarray, theory: np.ndarray, live: np.ndarray, k_lo: float, k_hi: float
) -> tuple[float, float]:
    """(k, gap): the rotation with the most room for the offset, closest to 0 on a plateau.

    gap < 0 means no (c, k) in the strip passes every live point.
    """
    n = lo.size
    neg_t = -theory
    has_lo = np.zeros(n, dtype=np.bool_)
    has_hi = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        has_lo[i] = live[i] and np.isfinite(lo[i])
        has_hi[i] = live[i] and np.isfinite(hi[i])
    # max_i (lo_i - t_i k) and max_i (-hi_i + t_i k) = -min_i (hi_i - t_i k)
    low_hull, low_breaks = _envelope(lo, neg_t, has_lo)
    high_hull, high_breaks = _envelope(-hi, theory, has_hi)
    zero = min(max(0.0, k_lo), k_hi)
    if low_hull.size == 0 or high_hull.size == 0:
        return zero, np.inf  # one side open everywhere: every rotation has endless room
    candidates = [k_lo, k_hi]
    for x in low_breaks[1:]:
        if k_lo < x < k_hi:
            candidates.append(x)
    for x in high_breaks[1:]:
        if k_lo < x < k_hi:
            candidates.append(x)
    ks = np.sort(np.array(candidates))
    gaps = np.empty(ks.size)
    p = 0
    q = 0
    for j in range(ks.size):
        k = ks[j]
        p = _at(low_hull, low_breaks, p, k)
        q = _at(high_hull, high_breaks, q, k)
        a = low_hull[p]
        b = high_hull[q]
        gaps[j] = (hi[b] - theory[b] * k) - (lo[a] - theory[a] * k)
    best = gaps.max()
    first = -1
    last = -1
    for j in range(ks.size):
        if gaps[j] == best:
            if first < 0:
                first = j
            last = j
    return min(max(0.0, ks[first]), ks[last]), best


@njit(cache=True)
def _above_at_both_ends(
    base: np.ndarray,
    theory: np.ndarray,
    use: np.ndarray,
    line: int,
    k_lo: float,
    k_hi: float,
    sign: float,
    limit: int,
) -> int:
    """How many other lines lie strictly beyond `line` over the whole strip (stops at limit).

    sign = +1 counts lines above (lower boundaries), -1 lines below (upper ones).
    """
    own_lo = sign * (base[line] - theory[line] * k_lo)
    own_hi = sign * (base[line] - theory[line] * k_hi)
    count = 0
    for j in range(base.size):
        if j == line or not use[j]:
            continue
        if (
            sign * (base[j] - theory[j] * k_lo) > own_lo
            and sign * (base[j] - theory[j] * k_hi) > own_hi
        ):
            count += 1
            if count >= limit:
                return count
    return count


@njit(cache=True)
def _deepest_on_line(
    lo: np.ndarray,
    hi: np.ndarray,
    theory: np.ndarray,
    live: np.ndarray,
    line: int,
    intercept: float,
    k_lo: float,
    k_hi: float,
) -> tuple[int, float, float]:
    """Most live points passing somewhere on c = intercept - t_line*k, and that stretch of k."""
    n = lo.size
    starts = np.empty(n)
    ends = np.empty(n)
    m = 0
    t0 = theory[line]
    for j in range(n):
        if not live[j] or j == line:
            continue
        a = k_lo
        b = k_hi
        d = theory[j] - t0
        if np.isfinite(lo[j]):  # lo_j - t_j k <= c(k)  <=>  lo_j - intercept <= d k
            r = lo[j] - intercept
            if d > 0.0:
                a = max(a, r / d)
            elif d < 0.0:
                b = min(b, r / d)
            elif r > 0.0:
                continue
        if np.isfinite(hi[j]):  # c(k) <= hi_j - t_j k  <=>  d k <= hi_j - intercept
            q = hi[j] - intercept
            if d > 0.0:
                b = min(b, q / d)
            elif d < 0.0:
                a = max(a, q / d)
            elif q < 0.0:
                continue
        if a <= b:
            starts[m] = a
            ends[m] = b
            m += 1
    own = 1  # the line's own point sits on its boundary: inside
    if m == 0:
        return own, k_lo, k_hi
    starts = np.sort(starts[:m])
    ends = np.sort(ends[:m])
    best = 0
    best_a = k_lo
    best_b = k_hi
    cover = 0
    i = 0
    j = 0
    while i < m:
        if starts[i] <= ends[j]:  # closed intervals: a start at an end still overlaps it
            cover += 1
            a = starts[i]
            b = ends[j]
            if cover > best or (
                cover == best and abs(min(max(0.0, a), b)) < abs(min(max(0.0, best_a), best_b))
            ):
                best = cover
                best_a = a
                best_b = b
            i += 1
        else:
            cover -= 1
            j += 1
    return best + own, best_a, best_b


@njit(cache=True)
def _clamp_zero(a: float, b: float) -> float:
    return min(max(0.0, a), b)


@njit(cache=True)
def fewest_failures(
    errors: np.ndarray,
    theory: np.ndarray,
    upper: np.ndarray,
    lower: np.ndarray,
    judged: np.ndarray,
    k_lo: float,
    k_hi: float,
    k_start: float,
) -> tuple[float, int]:
    """(k, fails): a rotation in the strip with the exact fewest failing points.

    k_start is a rotation already worth trying (the widest one); the search
    keeps the k closest to 0 among the best it meets.
    """
    lo, hi, live, dead = _base_lines(errors, theory, upper, lower, judged)
    best_k = k_start
    best_fails = linearity.fewest_at(errors, theory, upper, lower, k_start, judged)[1]
    for k in (_clamp_zero(k_lo, k_hi), k_lo, k_hi):
        fails = linearity.fewest_at(errors, theory, upper, lower, k, judged)[1]
        if fails < best_fails or (fails == best_fails and abs(k) < abs(best_k)):
            best_k = k
            best_fails = fails
    n_live = 0
    for i in range(lo.size):
        if live[i]:
            n_live += 1
    has_lo = np.zeros(lo.size, dtype=np.bool_)
    has_hi = np.zeros(lo.size, dtype=np.bool_)
    for i in range(lo.size):
        has_lo[i] = live[i] and np.isfinite(lo[i])
        has_hi[i] = live[i] and not np.isfinite(lo[i]) and np.isfinite(hi[i])
    for kind in range(2):
        base = lo if kind == 0 else hi
        use = has_lo if kind == 0 else has_hi
        sign = 1.0 if kind == 0 else -1.0
        for line in range(lo.size):
            if best_fails <= dead:
                return best_k, best_fails
            if not use[line]:
                continue
            # Lines beyond this one throughout the strip must all fail if it carries the optimum.
            allowed = best_fails - dead
            if _above_at_both_ends(base, theory, use, line, k_lo, k_hi, sign, allowed) >= allowed:
                continue
            depth, a, b = _deepest_on_line(lo, hi, theory, live, line, base[line], k_lo, k_hi)
            fails = dead + n_live - depth
            if fails > best_fails:
                continue
            for k in (_clamp_zero(a, b), (a + b) / 2.0):
                # Judge the candidate by the band rule itself (rounding at a vertex).
                got = linearity.fewest_at(errors, theory, upper, lower, k, judged)[1]
                if got < best_fails or (got == best_fails and abs(k) < abs(best_k)):
                    best_k = k
                    best_fails = got
                if got <= fails:
                    break
    return best_k, best_fails


@njit(cache=True)
def best_rotation(
    errors: np.ndarray,
    theory: np.ndarray,
    upper: np.ndarray,
    lower: np.ndarray,
    judged: np.ndarray,
    k_lo: float,
    k_hi: float,
) -> tuple[float, float, int]:
    """(k, c, fails) under the policy's rotation bounds; k_lo = k_hi gives a fixed rotation."""
    if k_lo == k_hi:
        c, fails = linearity.fewest_at(errors, theory, upper, lower, k_lo, judged)
        return k_lo, c, fails
    lo, hi, live, dead = _base_lines(errors, theory, upper, lower, judged)
    k, gap = widest_rotation(lo, hi, theory, live, k_lo, k_hi)
    if dead == 0 and gap >= 0.0:
        c, fails = linearity.fewest_at(errors, theory, upper, lower, k, judged)
        if fails == 0:
            return k, c, 0
    k, _ = fewest_failures(errors, theory, upper, lower, judged, k_lo, k_hi, k)
    c, fails = linearity.fewest_at(errors, theory, upper, lower, k, judged)
    return k, c, fails
