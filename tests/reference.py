"""Plain numpy/scipy versions of the analysis definitions, for the tests only.

Written straight from DOMAIN.md with no attention to speed, so the compiled
kernels have something independent to agree with.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
from scipy import optimize, signal


def sigma_reference(positions: np.ndarray, errors: np.ndarray) -> float:
    b, a = signal.butter(2, 0.1)
    filtered = signal.filtfilt(b, a, errors)
    x, f = positions, filtered
    if positions.size >= 13:
        x, f = x[5:-5], f[5:-5]
    dx = np.diff(x)
    df = np.diff(f)
    keep = np.abs(dx) > 1e-6
    with np.errstate(divide="ignore", invalid="ignore"):
        gradients = df[keep] / dx[keep]
    gradients = gradients[np.isfinite(gradients)]
    if gradients.size < 2:
        return 0.0
    return float(np.std(gradients, ddof=1))


def failures_reference(errors: np.ndarray, upper: np.ndarray, lower: np.ndarray, c: float) -> int:
    """Interval form of 'outside the band': c outside [lower - e, upper - e]."""
    fails = 0
    for e, u, lo in zip(errors, upper, lower, strict=True):
        below = np.isfinite(lo) and c < lo - e
        above = np.isfinite(u) and c > u - e
        fails += int(below or above)
    return fails


def candidate_offsets(errors: np.ndarray, upper: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """Every offset where the fail count can change, plus the apex and points between."""
    ends = np.concatenate(
        [(lower - errors)[np.isfinite(lower)], (upper - errors)[np.isfinite(upper)]]
    )
    apex = -(errors.max() + errors.min()) / 2.0
    points = np.unique(np.concatenate([ends, [apex, 0.0]]))
    mids = (points[:-1] + points[1:]) / 2.0 if points.size > 1 else np.empty(0)
    return np.concatenate([points, mids, points - 1.0, points + 1.0])


def _rotation_lines(
    errors: np.ndarray, theory: np.ndarray, upper: np.ndarray, lower: np.ndarray
) -> list[tuple[Fraction | None, Fraction | None, Fraction]]:
    """Per point (lo, hi, t) as exact fractions; None for an absent limit."""
    lines = []
    for e, t, u, lo in zip(errors, theory, upper, lower, strict=True):
        low = None if np.isnan(lo) else Fraction(float(lo)) - Fraction(float(e))
        high = None if np.isnan(u) else Fraction(float(u)) - Fraction(float(e))
        lines.append((low, high, Fraction(float(t))))
    return lines


def _fewest_at_reference(
    lines: list[tuple[Fraction | None, Fraction | None, Fraction]], k: Fraction
) -> int:
    """Exact fewest failing points over every offset at rotation k (brute force)."""
    windows = [
        (None if lo is None else lo - t * k, None if hi is None else hi - t * k)
        for lo, hi, t in lines
    ]
    ends = sorted({v for w in windows for v in w if v is not None})
    candidates = list(ends) + [(a + b) / 2 for a, b in itertools.pairwise(ends)]
    candidates += [ends[0] - 1, ends[-1] + 1] if ends else [Fraction(0)]

    def fails(c: Fraction) -> int:
        return sum((lo is not None and c < lo) or (hi is not None and c > hi) for lo, hi in windows)

    return min(fails(c) for c in candidates)


def rotation_reference(
    errors: np.ndarray,
    theory: np.ndarray,
    upper: np.ndarray,
    lower: np.ndarray,
    judged: np.ndarray,
    k_lo: float,
    k_hi: float,
) -> int:
    """Exact fewest failing points over every (c, k) with k in [k_lo, k_hi] (rational brute force).

    The best set of (c, k) is a polygon whose vertices are crossings of two
    boundary lines or lie on the strip's edges, so the minimum over those k
    and the midpoints between them is the minimum over the strip.
    """
    keep = [i for i in range(errors.size) if judged[i]]
    lines = [
        line
        for line in _rotation_lines(errors[keep], theory[keep], upper[keep], lower[keep])
        if line[0] is not None or line[1] is not None
    ]
    lo_k, hi_k = Fraction(float(k_lo)), Fraction(float(k_hi))
    ks = {lo_k, hi_k}
    bounds = [(b, t) for lo, hi, t in lines for b in (lo, hi) if b is not None]
    for (b1, t1), (b2, t2) in itertools.combinations(bounds, 2):
        if t1 != t2:
            k = (b1 - b2) / (t1 - t2)  # b1 - t1 k = b2 - t2 k
            if lo_k < k < hi_k:
                ks.add(k)
    ordered = sorted(ks)
    ordered += [(a + b) / 2 for a, b in itertools.pairwise(ordered)]
    if not lines:
        return 0
    return min(_fewest_at_reference(lines, k) for k in ordered)


def widest_gap_reference(
    errors: np.ndarray,
    theory: np.ndarray,
    upper: np.ndarray,
    lower: np.ndarray,
    k_lo: float,
    k_hi: float,
) -> float:
    """max over k of (min upper end - max lower end) of the offset windows, by linear programming.

    Variables (c, k, g): maximise g subject to lo_i - t_i k + g <= c and
    c <= hi_i - t_i k for every constrained point (the room g sits on the
    lower side). Limits on both sides needed somewhere, else unbounded.
    """
    rows, rhs = [], []
    for e, t, u, lo in zip(errors, theory, upper, lower, strict=True):
        if not np.isnan(lo):  # lo - e - t k + g - c <= 0
            rows.append([-1.0, -t, 1.0])
            rhs.append(-(lo - e))
        if not np.isnan(u):  # c + t k <= u - e
            rows.append([1.0, t, 0.0])
            rhs.append(u - e)
    result = optimize.linprog(
        c=[0.0, 0.0, -1.0],
        A_ub=np.array(rows),
        b_ub=np.array(rhs),
        bounds=[(None, None), (k_lo, k_hi), (None, None)],
        method="highs",
    )
    assert result.status == 0, result.message
    return float(-result.fun)
