"""What every statistic accepts, and what it returns when it cannot answer.

Input is a one-dimensional sequence of finite numbers in production order.
NaN is refused rather than skipped: a skipped value would shift every later
point's index on a chart (marks would land on the wrong unit) and would hide
a data-layer bug. The data layer filters NULL metrics in SQL and says how
many it left out.

"Not enough data" is not an error: it is an `Unavailable` value with a code
and a sentence for the page, so a chart says "fewer than 10 units" instead of
showing a number computed from two.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from central.spc.errors import SpcErrorCode, SpcInputError

ArrayLike: TypeAlias = Sequence[float] | npt.NDArray[Any]
FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.intp]


class UnavailableReason(StrEnum):
    """Why a statistic has no value (stable codes for templates and tests)."""

    TOO_FEW_POINTS = "too_few_points"
    ZERO_SPREAD = "zero_spread"
    TOO_FEW_GROUPS = "too_few_groups"
    NO_BASELINE = "no_baseline"


@dataclass(frozen=True)
class Unavailable:
    """No value, and why: falsy, so a template can write `{% if result %}`."""

    reason: UnavailableReason
    message: str

    def __bool__(self) -> bool:
        return False


def as_series(values: ArrayLike, name: str = "values") -> FloatArray:
    """A read-only float64 copy of `values`, refusing anything that is not 1-D and finite."""
    array = np.array(values, dtype=np.float64)
    if array.ndim != 1:
        raise SpcInputError(
            SpcErrorCode.NOT_ONE_DIMENSIONAL,
            f"{name} must be a one-dimensional sequence of numbers, got shape {array.shape}",
        )
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise SpcInputError(
            SpcErrorCode.NON_FINITE,
            f"{name} holds {bad.size} non-finite value(s) (first at index {int(bad[0])}); "
            "filter NULL/NaN metrics out before computing statistics",
        )
    array.flags.writeable = False
    return array


def frozen(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Mark an array read-only so a result dataclass cannot be changed after the fact."""
    array.flags.writeable = False
    return array


def too_few(what: str, needed: int, got: int) -> Unavailable:
    """The standard "fewer than N" answer, worded for the page."""
    return Unavailable(
        UnavailableReason.TOO_FEW_POINTS,
        f"{what} needs at least {needed} values; this selection has {got}",
    )


def zero_spread(what: str) -> Unavailable:
    """The standard "every value is the same" answer."""
    return Unavailable(
        UnavailableReason.ZERO_SPREAD,
        f"{what} is undefined: the values do not vary (zero spread)",
    )


NEGLIGIBLE_SPREAD = 1e-12  # relative to the data's magnitude: below this is rounding noise


def negligible(spread: float, *magnitudes: float) -> bool:
    """Whether a spread is zero in all but rounding: <= 1e-12 of the largest magnitude given.

    Ten copies of 0.3 computed slightly differently have a standard deviation
    of 1e-17, not 0; dividing by it would give a Cpk of 10**16. A spread that
    small relative to the values (and the spec) is treated as no spread.
    """
    scale = max((abs(m) for m in magnitudes), default=0.0)
    return spread <= NEGLIGIBLE_SPREAD * scale or spread <= 0.0


def require_positive(value: float, name: str) -> float:
    """A tuning constant (k, h, lambda, ...) must be a positive finite number."""
    if not np.isfinite(value) or value <= 0:
        raise SpcInputError(SpcErrorCode.BAD_PARAMETER, f"{name} must be > 0, got {value!r}")
    return float(value)
