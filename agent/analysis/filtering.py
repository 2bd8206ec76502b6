"""Butterworth low-pass design and zero-phase filtering, compiled with Numba.

The sigma gradient must match `scipy.signal.filtfilt(b, a, x)` with
`butter(2, 0.1)`, but scipy is not shipped to stations, so the same steps are
written out here: analogue prototype, pre-warped bilinear transform, direct
form II transposed filtering, steady-state initial conditions and odd
extension at both ends.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _poly_from_roots(roots: np.ndarray) -> np.ndarray:
    """Coefficients (highest power first) of prod(x - r) for complex roots."""
    coeffs = np.zeros(roots.size + 1, dtype=np.complex128)
    coeffs[0] = 1.0
    for k in range(roots.size):
        for j in range(k + 1, 0, -1):
            coeffs[j] = coeffs[j] - roots[k] * coeffs[j - 1]
    return coeffs


@njit(cache=True)
def butter_lowpass(order: int, cutoff: float) -> tuple[np.ndarray, np.ndarray]:
    """Digital Butterworth low-pass (b, a); cutoff is a fraction of Nyquist (0 < cutoff < 1)."""
    sample_rate = 2.0
    warped = 2.0 * sample_rate * np.tan(np.pi * cutoff / sample_rate)
    poles = np.empty(order, dtype=np.complex128)
    for k in range(order):
        m = -order + 1 + 2 * k
        poles[k] = -np.exp(1j * np.pi * m / (2.0 * order)) * warped
    gain = warped**order
    fs2 = 2.0 * sample_rate
    digital_poles = (fs2 + poles) / (fs2 - poles)
    denominator = 1.0 + 0.0j
    for k in range(order):
        denominator *= fs2 - poles[k]
    gain = (gain / denominator).real
    zeros = -np.ones(order, dtype=np.complex128)
    b = (_poly_from_roots(zeros) * gain).real.copy()
    a = _poly_from_roots(digital_poles).real.copy()
    return b, a


@njit(cache=True)
def lfilter_steady_state(b: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Initial state for a step response in steady state (as `scipy.signal.lfilter_zi`)."""
    n = max(a.size, b.size)
    aa = np.zeros(n)
    bb = np.zeros(n)
    aa[: a.size] = a / a[0]
    bb[: b.size] = b / a[0]
    zi = np.zeros(n - 1)
    if n == 1:
        return zi
    b_sum = 0.0
    for k in range(1, n):
        b_sum += bb[k] - aa[k] * bb[0]
    zi[0] = b_sum / aa.sum()
    a_sum = 1.0
    c_sum = 0.0
    for k in range(1, n - 1):
        a_sum += aa[k]
        c_sum += bb[k] - aa[k] * bb[0]
        zi[k] = a_sum * zi[0] - c_sum
    return zi


@njit(cache=True)
def lfilter(b: np.ndarray, a: np.ndarray, x: np.ndarray, zi: np.ndarray) -> np.ndarray:
    """Direct form II transposed IIR filter of x starting from state zi."""
    n = max(a.size, b.size)
    aa = np.zeros(n)
    bb = np.zeros(n)
    aa[: a.size] = a / a[0]
    bb[: b.size] = b / a[0]
    y = np.empty(x.size)
    if n == 3:  # the order-2 filter the sigma gradient uses: keep the state in registers
        b0, b1, b2 = bb[0], bb[1], bb[2]
        a1, a2 = aa[1], aa[2]
        z0, z1 = zi[0], zi[1]
        for i in range(x.size):
            xi = x[i]
            yi = b0 * xi + z0
            z0 = b1 * xi - a1 * yi + z1
            z1 = b2 * xi - a2 * yi
            y[i] = yi
        return y
    state = zi.copy()
    for i in range(x.size):
        xi = x[i]
        yi = bb[0] * xi + (state[0] if n > 1 else 0.0)
        for k in range(n - 2):
            state[k] = bb[k + 1] * xi - aa[k + 1] * yi + state[k + 1]
        if n > 1:
            state[n - 2] = bb[n - 1] * xi - aa[n - 1] * yi
        y[i] = yi
    return y


@njit(cache=True)
def filtfilt(b: np.ndarray, a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Zero-phase filtering with odd extension of 3 * max(len(a), len(b)) samples.

    The caller guarantees x.size > 3 * max(len(a), len(b)).
    """
    edge = 3 * max(a.size, b.size)
    n = x.size
    ext = np.empty(n + 2 * edge)
    for i in range(edge):
        ext[i] = 2.0 * x[0] - x[edge - i]
        ext[n + edge + i] = 2.0 * x[n - 1] - x[n - 2 - i]
    ext[edge : edge + n] = x
    zi = lfilter_steady_state(b, a)
    forward = lfilter(b, a, ext, zi * ext[0])
    backward = lfilter(b, a, forward[::-1].copy(), zi * forward[-1])
    return backward[::-1][edge : edge + n].copy()
