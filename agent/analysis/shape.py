"""Whole-curve statistics: spec width, RMS, straight-line fit (untrimmed-looking curves)."""

from __future__ import annotations

import numpy as np
from numba import njit

DEFAULT_LINEARITY_SPEC = 0.01
ANOMALY_R_SQUARED = 0.95
ANOMALY_MIN_RANGE = 0.02
ANOMALY_THRESHOLD_FACTOR = 10.0


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
def is_anomaly(positions: np.ndarray, errors: np.ndarray, threshold: float) -> bool:
    """A straight, wide error line means the laser never trimmed the track."""
    spread = errors.max() - errors.min()
    if spread <= max(ANOMALY_THRESHOLD_FACTOR * threshold, ANOMALY_MIN_RANGE):
        return False
    return line_fit_r_squared(positions, errors) > ANOMALY_R_SQUARED
