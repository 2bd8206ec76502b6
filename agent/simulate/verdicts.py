"""Numpy copies of the DOMAIN.md verdict rules, used to shape and check simulated curves.

The simulator aims each unit at an intended outcome and checks the curve it drew
with these helpers rather than with `agent.analysis`, so that a bug in the analysis
cannot hide behind data that was shaped by the same bug.
"""

from __future__ import annotations

import numpy as np

ANOMALY_R2 = 0.95
ANOMALY_RANGE = 0.02


def _butter2() -> tuple[tuple[float, float, float], tuple[float, float]]:
    """2nd-order Butterworth low-pass at 0.1 of Nyquist (bilinear transform, closed form)."""
    k = float(np.tan(np.pi * 0.1 / 2.0))
    norm = 1.0 / (1.0 + np.sqrt(2.0) * k + k * k)
    b0 = k * k * norm
    a1 = 2.0 * (k * k - 1.0) * norm
    a2 = (1.0 - np.sqrt(2.0) * k + k * k) * norm
    return (b0, 2.0 * b0, b0), (a1, a2)


_B, _A = _butter2()


def _lfilter(x: np.ndarray) -> np.ndarray:
    """Direct form II transposed, started in the steady state of the first sample."""
    b0, b1, b2 = _B
    a1, a2 = _A
    first = float(x[0])
    z0 = (b1 - a1 + b2 - a2) * first
    z1 = (b2 - a2) * first
    out = []
    for v in x.tolist():
        y = b0 * v + z0
        z0 = b1 * v - a1 * y + z1
        z1 = b2 * v - a2 * y
        out.append(y)
    return np.asarray(out)


def filtfilt(x: np.ndarray) -> np.ndarray:
    """Zero-phase low-pass with odd extension of 9 samples, as scipy's `filtfilt` does."""
    pad = min(9, x.size - 1)
    ext = np.concatenate((2.0 * x[0] - x[pad:0:-1], x, 2.0 * x[-1] - x[-2 : -pad - 2 : -1]))
    y = _lfilter(_lfilter(ext)[::-1])[::-1]
    return y[pad : y.size - pad]


def sigma_gradient(positions: np.ndarray, errors: np.ndarray) -> float:
    """Sample standard deviation of the filtered error's gradient (DOMAIN.md step 1)."""
    filtered = filtfilt(errors)
    x = positions
    if errors.size >= 13:
        x, filtered = x[5:-5], filtered[5:-5]
    dx = np.diff(x)
    df = np.diff(filtered)
    keep = np.abs(dx) > 1e-6
    grad = df[keep] / dx[keep]
    grad = grad[np.isfinite(grad)]
    return float(np.std(grad, ddof=1)) if grad.size >= 2 else 0.0


def sigma_threshold(positions: np.ndarray, upper: np.ndarray, lower: np.ndarray) -> float:
    """Default sigma threshold from the linearity spec and travel length (DOMAIN.md step 2)."""
    if np.isfinite(upper).any() and np.isfinite(lower).any():
        spec = (np.nanmean(upper) - np.nanmean(lower)) / 2.0
    else:
        spec = 0.01
    travel = float(positions.max() - positions.min())
    return max(float(spec) / (24.0 * max(1.0, travel / 100.0)), 1e-4)


def line_fit_r2(positions: np.ndarray, errors: np.ndarray) -> float:
    """R^2 of a straight-line fit of error against position (the anomaly test)."""
    slope, intercept = np.polyfit(positions, errors, 1)
    residual = errors - (slope * positions + intercept)
    total = float(np.sum((errors - errors.mean()) ** 2))
    return 1.0 - float(np.sum(residual**2)) / total if total > 0 else 0.0


def looks_untrimmed(positions: np.ndarray, errors: np.ndarray, threshold: float) -> bool:
    """True when the anomaly rule would (or nearly would) call this curve untrimmed."""
    spread = float(errors.max() - errors.min())
    if spread <= max(10.0 * threshold, ANOMALY_RANGE):
        return False
    return line_fit_r2(positions, errors) > ANOMALY_R2 - 0.05


def band_ratio(errors: np.ndarray, upper: np.ndarray, lower: np.ndarray) -> tuple[float, float]:
    """Highest and lowest position inside the band (-1 = lower limit, +1 = upper)."""
    has = np.isfinite(upper) & np.isfinite(lower)
    mid = (upper[has] + lower[has]) / 2.0
    half = (upper[has] - lower[has]) / 2.0
    ratio = (errors[has] - mid) / half
    return float(ratio.max()), float(ratio.min())
