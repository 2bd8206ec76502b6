"""Near misses: tracks that pass linearity with under 20 % margin to their band.

DOMAIN.md: "a near miss is a pass with under 20% margin". The margin is the
agent's `margin_to_spec` (the smallest distance to a limit as % of the band
width, present only for tracks that pass linearity), so the same 20 % rule as
the agent's `near_miss` flag: Warning tracks (linearity passed, sigma failed)
count too. These units pass today and are the ones Final Test may fail
tomorrow, so the dashboard counts them per model and station.
A missing margin (NaN) is not a near miss and not a pass: it is counted as
`unknown`, never silently as either.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from central.spc.errors import SpcErrorCode, SpcInputError
from central.spc.series import ArrayLike
from shared.band import NEAR_MISS_MARGIN_PCT, is_near_miss

__all__ = ["NEAR_MISS_MARGIN_PCT", "NearMissCount", "count_near_misses", "is_near_miss"]


@dataclass(frozen=True)
class NearMissCount:
    """Near misses among linearity passes."""

    passes: int  # tracks with a known margin (they passed linearity)
    near_misses: int
    unknown: int  # linearity passes whose margin is missing

    @property
    def rate(self) -> float | None:
        """Near misses per pass with a known margin; None when there is none."""
        return self.near_misses / self.passes if self.passes else None


def count_near_misses(
    linearity_pass: ArrayLike, margins_pct: ArrayLike, threshold_pct: float = NEAR_MISS_MARGIN_PCT
) -> NearMissCount:
    """Count near misses over tracks given as parallel arrays (margin NaN where unknown)."""
    passed = np.asarray(linearity_pass, dtype=np.bool_)
    margins: npt.NDArray[np.float64] = np.asarray(margins_pct, dtype=np.float64)
    if passed.shape != margins.shape or passed.ndim != 1:
        raise SpcInputError(
            SpcErrorCode.NOT_ONE_DIMENSIONAL,
            f"pass flags {passed.shape} and margins {margins.shape} must be 1-D of one length",
        )
    known = passed & np.isfinite(margins)
    return NearMissCount(
        passes=int(np.count_nonzero(known)),
        near_misses=int(np.count_nonzero(known & (margins < threshold_pct))),
        unknown=int(np.count_nonzero(passed & ~np.isfinite(margins))),
    )
