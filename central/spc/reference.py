"""The one drift baseline: a model's history on a station before the window it is judged in.

The drift alarm (central/alarms/rules.py) and the model pages (central/spc/model.py:
the model list's scorecard and a model's drift section) must measure drift against
the same baseline, or the overview raises a drift the model page calls stable. Both
use the reference period here: the `baseline_days` days (`[alarms] baseline_days`)
before the first day judged, from the day rollups' sigma sums, and only when that
period holds at least MIN_REFERENCE_TRACKS tracks. Without such history there is no
baseline and the pages say so, instead of taking one from the units being judged
(which would hide a drift that began before the window). docs/decisions/0013.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from central.spc.drift import Baseline
from central.spc.series import Unavailable, UnavailableReason, negligible

MIN_REFERENCE_TRACKS = 30  # sigma values in the reference period, at least


def reference_period(first_judged: date, days: int) -> tuple[date, date]:
    """The `days` production days before `first_judged` (both ends included)."""
    return first_judged - timedelta(days=days), first_judged - timedelta(days=1)


@dataclass(frozen=True)
class ReferenceSums:
    """Count, sum and sum of squares of the sigma gradient over the reference period
    (sums of rollup_daily's sigma_n, sigma_sum, sigma_sumsq)."""

    n: int
    total: float
    total_sq: float


def reference_baseline(sums: ReferenceSums | None, before: date) -> Baseline | Unavailable:
    """Mean and sample sd of the reference period's sigma gradients, or why there is none."""
    n = sums.n if sums is not None else 0
    if sums is None or n < MIN_REFERENCE_TRACKS:
        return Unavailable(
            UnavailableReason.NO_BASELINE,
            f"No baseline yet: needs {MIN_REFERENCE_TRACKS} units before {before.isoformat()} "
            f"({n} in the reference period)",
        )
    mean = sums.total / n
    variance = max(0.0, (sums.total_sq - sums.total * sums.total / n) / (n - 1))
    sd = math.sqrt(variance)
    if not math.isfinite(mean) or not math.isfinite(sd) or negligible(sd, abs(mean)):
        return Unavailable(
            UnavailableReason.ZERO_SPREAD,
            f"The {n} units before {before.isoformat()} have no spread to judge a drift against",
        )
    return Baseline(mean=mean, sd=sd, points=0)


@dataclass(frozen=True)
class DriftReference:
    """One model's reference sums per station (by name), for a window starting `before`."""

    before: date
    sums: Mapping[str, ReferenceSums] = field(default_factory=dict)

    def baseline(self, station: str) -> Baseline | Unavailable:
        return reference_baseline(self.sums.get(station), self.before)
