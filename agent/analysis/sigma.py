"""Sigma gradient: how smoothly the trimmed error curve changes along the travel."""

from __future__ import annotations

import numpy as np
from numba import njit

from agent.analysis.filtering import butter_lowpass, filtfilt

FILTER_ORDER = 2
FILTER_CUTOFF = 0.1  # fraction of Nyquist
END_TRIM = 5  # points dropped at each end after filtering (edge transients)
MIN_POINTS_FOR_TRIM = 13
MIN_DX = 1e-6
SIGMA_THRESHOLD_FLOOR = 1e-4


@njit(cache=True)
def gradient_std(positions: np.ndarray, values: np.ndarray) -> float:
    """Sample std (ddof=1) of finite-difference gradients; 0 when fewer than 2 gradients.

    Steps with |dx| <= 1e-6 and non-finite gradients are skipped rather than
    allowed to blow the statistic up.
    """
    n = positions.size
    gradients = np.empty(max(n - 1, 0))
    count = 0
    for i in range(n - 1):
        dx = positions[i + 1] - positions[i]
        if abs(dx) <= MIN_DX:
            continue
        g = (values[i + 1] - values[i]) / dx
        if np.isfinite(g):
            gradients[count] = g
            count += 1
    if count < 2:
        return 0.0
    mean = 0.0
    for i in range(count):
        mean += gradients[i]
    mean /= count
    ss = 0.0
    for i in range(count):
        d = gradients[i] - mean
        ss += d * d
    return float(np.sqrt(ss / (count - 1)))


@njit(cache=True)
def sigma_gradient_with(
    positions: np.ndarray, errors: np.ndarray, b: np.ndarray, a: np.ndarray
) -> float:
    """Filter the errors (zero phase), trim the edges, then take the gradient spread.

    Needs more than 3 * max(len(a), len(b)) points (the filter's odd
    extension); callers reject shorter tracks before getting here.
    """
    filtered = filtfilt(b, a, errors)
    n = positions.size
    if n >= MIN_POINTS_FOR_TRIM:
        return gradient_std(positions[END_TRIM : n - END_TRIM], filtered[END_TRIM : n - END_TRIM])
    return gradient_std(positions, filtered)


@njit(cache=True)
def sigma_gradient(positions: np.ndarray, errors: np.ndarray) -> float:
    """The sigma gradient with the product's filter, butter(2, 0.1)."""
    b, a = butter_lowpass(FILTER_ORDER, FILTER_CUTOFF)
    return sigma_gradient_with(positions, errors, b, a)


@njit(cache=True)
def sigma_threshold(linearity_spec: float, travel_length: float) -> float:
    """Default threshold: tighter for tighter specs, relaxed for travels over 100 units."""
    scale = max(1.0, travel_length / 100.0)
    return max(linearity_spec / (24.0 * scale), SIGMA_THRESHOLD_FLOOR)
