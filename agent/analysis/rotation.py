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

# Branch and bound over k: the deepest stack it may need, and the width (relative to
# |k|) under which a piece is solved by sweeps however many lines survive.
MAX_PIECES = 64
SWEEP_SHARE = 1.0 / 16.0
HAIR = 1e-12  # relative widening of the relaxed windows (a bound must never overstate)
NARROWEST = 1e-9


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
def _by_slope(index: np.ndarray, slope: np.ndarray) -> np.ndarray:
    """The lines in slope order; theory volts run monotonically along a track, so mostly free."""
    rising = True
    falling = True
    for j in range(1, index.size):
        step = slope[index[j]] - slope[index[j - 1]]
        rising = rising and step >= 0.0
        falling = falling and step <= 0.0
    if rising:
        return index
    if falling:
        return index[::-1].copy()
    return index[np.argsort(slope[index], kind="mergesort")]


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
    order = _by_slope(index, slope)
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
def _max_cover(starts: np.ndarray, ends: np.ndarray) -> int:
    """Most closed intervals [starts_i, ends_i] sharing one point."""
    return _sorted_max_cover(np.sort(starts), np.sort(ends))


@njit(cache=True)
def _sorted_max_cover(starts: np.ndarray, ends: np.ndarray) -> int:
    """`_max_cover` of interval ends already sorted each on their own."""
    m = starts.size
    if m == 0:
        return 0
    best = 0
    cover = 0
    i = 0
    j = 0
    while i < m:
        if starts[i] <= ends[j]:
            cover += 1
            best = max(best, cover)
            i += 1
        else:
            cover -= 1
            j += 1
    return best


@njit(cache=True)
def _live_failures(
    lo: np.ndarray, hi: np.ndarray, theory: np.ndarray, live: np.ndarray, k: float
) -> int:
    """Fewest live points failing at rotation k (the count alone, by the band rule's windows)."""
    n = lo.size
    starts = np.empty(n)
    ends = np.empty(n)
    m = 0
    for i in range(n):
        if live[i]:
            starts[m] = lo[i] - theory[i] * k
            ends[m] = hi[i] - theory[i] * k
            m += 1
    return m - _max_cover(starts[:m], ends[:m])


@njit(cache=True)
def _relaxed_bound(
    lo: np.ndarray,
    hi: np.ndarray,
    theory: np.ndarray,
    live: np.ndarray,
    a: float,
    b: float,
    needed: int,
    keep: np.ndarray,
) -> int:
    """An upper bound on how many live points pass together at any (c, k), k in [a, b].

    A point that passes somewhere in the piece does so with c' = c + s*k
    between its window's lowest start and highest end over [a, b]; if no c'
    lies in that many relaxed windows, no (c, k) passes that many points.
    Any pivot s gives a valid bound; the middle of the theory volts halves
    how far the windows sweep, and the windows are widened by a hair so
    rounding can never make the bound claim more than is true.

    `keep` receives the live points whose relaxed window meets at least
    `needed` relaxed windows (its own included): only they can be among
    `needed` points passing together anywhere in the piece, so the piece and
    its halves may forget the others when they look for such a set.
    """
    n = lo.size
    t_min = np.inf
    t_max = -np.inf
    for i in range(n):
        if live[i]:
            t_min = min(t_min, theory[i])
            t_max = max(t_max, theory[i])
    pivot = 0.5 * (t_min + t_max) if t_min <= t_max else 0.0
    starts = np.empty(n)
    ends = np.empty(n)
    index = np.empty(n, dtype=np.int64)
    m = 0
    for i in range(n):
        keep[i] = False
        if not live[i]:
            continue
        lever = theory[i] - pivot
        start = min(lo[i] - lever * a, lo[i] - lever * b)
        end = max(hi[i] - lever * a, hi[i] - lever * b)
        starts[m] = start - HAIR * (1.0 + abs(start))
        ends[m] = end + HAIR * (1.0 + abs(end))
        index[m] = i
        m += 1
    if needed > m - m // 8:
        # Few points may fail: hardly any can be left out, not worth the count.
        for r in range(m):
            keep[index[r]] = True
        return _max_cover(starts[:m], ends[:m])
    by_start = np.sort(starts[:m])
    by_end = np.sort(ends[:m])
    for r in range(m):
        # Windows meeting this one: those starting by its end, less those ending before its start.
        meeting = np.searchsorted(by_start, ends[r], side="right")
        meeting -= np.searchsorted(by_end, starts[r], side="left")
        keep[index[r]] = meeting >= needed
    return _sorted_max_cover(by_start, by_end)


@njit(cache=True)
def _solve_piece(
    lo: np.ndarray,
    hi: np.ndarray,
    theory: np.ndarray,
    live: np.ndarray,
    a: float,
    b: float,
    allowed: int,
    most_lines: int,
) -> tuple[bool, int, float, float]:
    """Exact fewest live failures on k in [a, b] when few boundary lines can carry it.

    Returns (solved, fails, stretch start, stretch end). A line at rank r can
    only carry an optimum with fewer than `allowed` failures if fewer than
    `allowed` points surely fail along it: lower boundaries above it by more
    than the most any line moves across the piece, upper ones below it by
    more. Counting those needs one sort; when more than `most_lines` lines
    survive, the piece is left for splitting (solved = False).
    """
    n = lo.size
    mid = 0.5 * (a + b)
    t_min = np.inf
    t_max = -np.inf
    for i in range(n):
        if live[i]:
            t_min = min(t_min, theory[i])
            t_max = max(t_max, theory[i])
    # Two boundary lines drift apart by at most |t_i - t_j| * (b - a) / 2 either side of mid.
    drift = (t_max - t_min) * 0.5 * (b - a) if t_min <= t_max else 0.0
    lows = np.empty(n)
    highs = np.empty(n)
    n_lo = 0
    n_hi = 0
    n_live = 0
    for i in range(n):
        if not live[i]:
            continue
        n_live += 1
        if np.isfinite(lo[i]):
            lows[n_lo] = lo[i] - theory[i] * mid
            n_lo += 1
        if np.isfinite(hi[i]):
            highs[n_hi] = hi[i] - theory[i] * mid
            n_hi += 1
    lows = np.sort(lows[:n_lo])
    highs = np.sort(highs[:n_hi])
    lines = np.empty(n, dtype=np.int64)
    count = 0
    for i in range(n):
        if not live[i]:
            continue
        if np.isfinite(lo[i]):
            base = lo[i]
        elif np.isfinite(hi[i]):
            base = hi[i]  # no lower limit: the optimum may sit on the upper boundary
        else:
            continue
        v = base - theory[i] * mid
        slack = drift + HAIR * (1.0 + abs(v))  # a hair: rounding must never prune the optimum
        surely = n_lo - np.searchsorted(lows, v + slack, side="right")
        surely += np.searchsorted(highs, v - slack, side="left")
        if surely >= allowed:
            continue
        lines[count] = i
        count += 1
        if count > most_lines:
            return False, 0, a, b
    best = allowed
    best_a = a
    best_b = b
    for j in range(count):
        i = lines[j]
        base = lo[i] if np.isfinite(lo[i]) else hi[i]
        depth, sa, sb = _deepest_on_line(lo, hi, theory, live, i, base, a, b)
        fails = n_live - depth
        if fails < best or (
            fails == best and abs(_clamp_zero(sa, sb)) < abs(_clamp_zero(best_a, best_b))
        ):
            best = fails
            best_a = sa
            best_b = sb
    return True, best, best_a, best_b


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

    Branch and bound over k: a piece is dropped when its relaxed bound shows
    it cannot beat the best so far, solved exactly by line sweeps when few
    boundary lines can carry its optimum, else split in two. Every piece is
    either bounded or solved, so the answer is exact; k_start (the widest
    rotation) and k = 0 are tried first, and k = 0 is kept when it is already
    among the best. A piece and its halves forget the points that cannot be
    among enough passing together to beat the best (on untrimmed passes,
    where most points fail, that soon leaves a fraction of them to sort).
    """
    lo, hi, live, dead = _base_lines(errors, theory, upper, lower, judged)
    best_k = _clamp_zero(k_lo, k_hi)
    best = dead + _live_failures(lo, hi, theory, live, best_k)
    for k in (k_start, k_lo, k_hi):  # the widest rotation, then the window's ends
        if k != best_k:
            fails = dead + _live_failures(lo, hi, theory, live, k)
            if fails < best:
                best_k = k
                best = fails
    n_live = int(live.sum())
    lows = np.empty(MAX_PIECES)
    highs = np.empty(MAX_PIECES)
    sweepable = np.empty(MAX_PIECES)  # the width under which a piece tries the sweeps
    masks = np.empty((MAX_PIECES, live.size), dtype=np.bool_)  # the points a piece still weighs
    lows[0] = k_lo
    highs[0] = k_hi
    sweepable[0] = (k_hi - k_lo) * SWEEP_SHARE
    masks[0] = live
    keep = np.empty(live.size, dtype=np.bool_)
    top = 1
    while top > 0 and best > dead:
        top -= 1
        a = lows[top]
        b = highs[top]
        width = sweepable[top]
        # Beating `best` means passing at least this many live points together.
        needed = n_live - (best - dead) + 1
        most = _relaxed_bound(lo, hi, theory, masks[top], a, b, needed, keep)
        weighed = int(keep.sum())
        if most < needed or weighed < needed:
            continue
        # The points left out fail wherever the piece could beat `best`.
        outside = dead + n_live - weighed
        mid = 0.5 * (a + b)
        fails = outside + _live_failures(lo, hi, theory, keep, mid)
        if fails < best:
            best_k = mid
            best = fails
        narrow = b - a <= NARROWEST * max(1.0, abs(a), abs(b)) or top + 2 > MAX_PIECES
        # Sweeps pay only once a piece is small against the window: first split.
        solved = False
        piece = 0
        sa = sb = 0.0
        if narrow or b - a <= width:
            most = n_lines_limit(weighed) if not narrow else weighed
            solved, piece, sa, sb = _solve_piece(lo, hi, theory, keep, a, b, best - outside, most)
            # Too many lines here: the halves will have too many too, try again a level lower.
            width = 0.25 * (b - a)
        if solved:
            if outside + piece < best:
                for k in (_clamp_zero(sa, sb), 0.5 * (sa + sb)):
                    # Judged by the band rule itself (rounding at a vertex), on every point.
                    got = dead + _live_failures(lo, hi, theory, live, k)
                    if got < best:
                        best_k = k
                        best = got
            continue
        # The half nearer k = 0 is searched first: ties keep the smaller rotation.
        if abs(_clamp_zero(a, mid)) <= abs(_clamp_zero(mid, b)):
            lows[top], highs[top] = mid, b
            lows[top + 1], highs[top + 1] = a, mid
        else:
            lows[top], highs[top] = a, mid
            lows[top + 1], highs[top + 1] = mid, b
        sweepable[top] = sweepable[top + 1] = width
        masks[top] = keep
        masks[top + 1] = keep
        top += 2
    return best_k, best


@njit(cache=True)
def n_lines_limit(n: int) -> int:
    """Lines worth sweeping in one piece before splitting it is cheaper."""
    return 8 + n // 128


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


@njit(cache=True)
def verdict_arrays(
    errors: np.ndarray,
    theory: np.ndarray,
    upper: np.ndarray,
    lower: np.ndarray,
    judged: np.ndarray,
    k_lo: float,
    k_hi: float,
) -> tuple[float, float, int, np.ndarray, np.ndarray, np.ndarray, float]:
    """best_rotation and what the verdict derives from it, in one call per sheet.

    (k, c, fails, low, high, constrained, linearity error): a track has up to
    ten sheets and every call from Python costs a dispatch, so the verdict
    crosses over once.
    """
    k, c, fails = best_rotation(errors, theory, upper, lower, judged, k_lo, k_hi)
    low, high, constrained = linearity.offset_intervals(errors, theory, upper, lower, k, judged)
    error = linearity.max_abs_adjusted(errors, theory, k, c, judged)
    return k, c, fails, low, high, constrained, error
