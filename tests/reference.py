"""Plain numpy/scipy versions of the analysis definitions, for the tests only.

Written straight from DOMAIN.md with no attention to speed, so the compiled
kernels have something independent to agree with.
"""

from __future__ import annotations

import numpy as np
from scipy import signal


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
