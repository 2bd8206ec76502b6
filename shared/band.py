"""The band rule: is a point inside its spec band after the station's adjustment?

One rule, one place (DOMAIN.md "Analysis of one track" and "Verdict
policies"). The station may shift the error curve by an offset c and rotate
the theory line by k, which changes point i's error to e_i + t_i*k + c
(t_i = theory volts). Point i is inside when

    lower_i - e_i - t_i*k  <=  c  <=  upper_i - e_i - t_i*k

with a blank (NaN) limit leaving that side open, a point without limits
never failing, and an excluded point (the station's ignored rows, QA's
excluded points) left out of the judgement.

Inside/outside is decided on exactly these floating-point quantities,
computed in exactly this order, by every program: the verdict's compiled
kernel (agent/analysis/linearity.py compiles `offset_window`), the station
plot, central's failing-position bins and the seed. Written as
`e + t*k + c <= upper` instead, a point sitting exactly on its limit would
round differently in one of them and the plot would contradict the verdict.
With k = 0 the window is [lower - e, upper - e], the rule of the first
release, bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# A pass with under 20 % margin (smallest distance to a limit, % of the band width).
NEAR_MISS_MARGIN_PCT = 20.0


def offset_window(
    error: float, theory: float, upper: float, lower: float, k: float
) -> tuple[float, float]:
    """The offsets c that keep one point inside at rotation k; (-inf, inf) without limits.

    Plain scalar code so Numba compiles the very same expression for the
    verdict (agent/analysis/linearity.py) that numpy evaluates below.
    """
    tilt = theory * k
    low = -math.inf if math.isnan(lower) else (lower - error) - tilt
    high = math.inf if math.isnan(upper) else (upper - error) - tilt
    return low, high


def is_near_miss(margin_pct: float | None) -> bool:
    """A passing track whose smallest margin is under the cutoff (None: not a pass)."""
    if margin_pct is None or not math.isfinite(margin_pct):
        return False
    return margin_pct < NEAR_MISS_MARGIN_PCT


def excluded_mask(n: int, excluded: Sequence[int] | None) -> BoolArray:
    """Which of n points are left out of the judgement (indices outside 0..n-1 ignored)."""
    mask = np.zeros(n, dtype=np.bool_)
    if excluded:
        index = np.asarray([i for i in excluded if 0 <= i < n], dtype=np.intp)
        mask[index] = True
    return mask


def outside_mask(
    errors: FloatArray,
    upper: FloatArray,
    lower: FloatArray,
    c: float,
    theory: FloatArray | None = None,
    k: float = 0.0,
    excluded: BoolArray | None = None,
) -> BoolArray:
    """Points outside their band after (c, k), the excluded ones never; arrays of one length.

    The element-wise twin of `offset_window`: the same operations in the same
    order, so it agrees with the compiled verdict on every point (a test
    holds the two to bit-equality).
    """
    tilt = theory * k if theory is not None and k != 0.0 else 0.0
    with np.errstate(invalid="ignore"):
        low = (lower - errors) - tilt
        high = (upper - errors) - tilt
        outside: BoolArray = (c < low) | (c > high)  # NaN compares False: a blank limit never fails
    outside &= np.isfinite(errors)
    if excluded is not None:
        outside &= ~excluded
    return outside


def adjusted_errors(
    errors: FloatArray, c: float, theory: FloatArray | None = None, k: float = 0.0
) -> FloatArray:
    """The error curve as the station judges it: e + t*k + c (what the plots draw)."""
    rotated = errors + theory * k if theory is not None and k != 0.0 else errors
    shifted: FloatArray = rotated + c
    return shifted


def as_array(values: Sequence[float | None], n: int | None = None) -> FloatArray:
    """A float array from a stored list, None as NaN, padded with NaN to n."""
    array = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    if n is not None and array.size < n:
        array = np.concatenate([array, np.full(n - array.size, np.nan)])
    return array
