"""A plain numpy/scipy implementation of one track's analysis, for speed comparison only.

Vectorised the way a QA engineer would script it: scipy for the filter,
numpy searchsorted for the offset coverage.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

B, A = signal.butter(2, 0.1)


def sigma(positions: np.ndarray, errors: np.ndarray) -> float:
    filtered = signal.filtfilt(B, A, errors)
    x, f = positions[5:-5], filtered[5:-5]
    dx, df = np.diff(x), np.diff(f)
    keep = np.abs(dx) > 1e-6
    g = df[keep] / dx[keep]
    g = g[np.isfinite(g)]
    return float(np.std(g, ddof=1)) if g.size > 1 else 0.0


def offset(errors: np.ndarray, upper: np.ndarray, lower: np.ndarray) -> tuple[float, int]:
    lo = np.where(np.isfinite(lower), lower - errors, -np.inf)
    hi = np.where(np.isfinite(upper), upper - errors, np.inf)
    constrained = np.isfinite(lower) | np.isfinite(upper)
    lo, hi = lo[constrained], hi[constrained]
    starts, ends = np.sort(lo), np.sort(hi)
    apex = -(errors.max() + errors.min()) / 2
    cands = np.concatenate([starts, ends, [apex]])
    cands = cands[np.isfinite(cands)]
    cover = np.searchsorted(starts, cands, "right") - np.searchsorted(ends, cands, "left")
    best = cands[cover == cover.max()]
    g = np.maximum(errors.max() + best, -(errors.min() + best))
    c = float(best[np.argmin(g)])
    fails = int(np.sum((c < lo) | (c > hi)))
    return c, fails


def analyse(
    positions: np.ndarray, errors: np.ndarray, upper: np.ndarray, lower: np.ndarray
) -> None:
    sigma(positions, errors)
    c, _ = offset(errors, upper, lower)
    shifted = errors + c
    np.max(np.abs(shifted))
    np.sqrt(np.mean(errors**2))
    np.corrcoef(positions, errors)
