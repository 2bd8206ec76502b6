"""The quality figures both programs show, each defined once (docs/decisions/0021).

The station page, the fleet overview, the model pages, /quality, the alarms and
the export all print "yield", "near miss" and "Cpk". Written in five places they
drifted apart (the station said 92.6 % where central said 85.2 % for the same
units), so the rules live here and every program imports them; a SQL query that
counts in the database builds its condition from the constants below.

- **Unit**: one analysed result file; its status is its worst track's.
- **Yield** = (Pass + Warning) / (Pass + Warning + Fail) over units. A Warning
  passes linearity (the customer's requirement) and ships; its sigma is a
  process signal, shown as its own warning count. Error and Skipped files have
  no verdict: counted apart, never in the denominator.
- **First-pass yield** = the share of serials (per model) whose *first*
  result in the window passes: a unit that needed a re-trim is not first-pass,
  whatever its last result says.
- **Margin** (`TrackResult.margin_to_spec`): a passing track's smallest
  distance to a limit, % of the band width. **Near miss**: a pass with a margin
  under shared/band.py's cutoff (the band rule owns the number).
- **Capability inputs**: Cpk/Ppk describe the trim process, so a track the
  laser never trimmed (no trim pass in the file: `untrimmed_only`) or whose
  trim did not happen (its final curve is a straight line: `is_anomaly`) is
  left out and counted apart. A rating (excellent ... incapable) needs at
  least MIN_RATED_SAMPLE values; the index and its interval are shown below it.
"""

from __future__ import annotations

from collections.abc import Iterable

from shared.band import NEAR_MISS_MARGIN_PCT, is_near_miss
from shared.models import Status, TrackResult

__all__ = [
    "MIN_RATED_SAMPLE",
    "NEAR_MISS_MARGIN_PCT",
    "PASSING",
    "VERDICTS",
    "first_pass_yield_pct",
    "in_capability",
    "is_near_miss",
    "passes",
    "percent",
    "rating_allowed",
    "untrimmed_or_aborted",
    "yield_of",
    "yield_pct",
]

#: Statuses that pass: the yield's numerator.
PASSING: tuple[Status, ...] = (Status.PASS, Status.WARNING)
#: Statuses that are a verdict: the yield's denominator (Error and Skipped are not).
VERDICTS: tuple[Status, ...] = (Status.PASS, Status.WARNING, Status.FAIL)

#: Values a Cpk/Ppk needs before it earns a rating word. At 30 values Bissell's 95 %
#: interval of a Cpk of 1.33 is still about +/- 0.36 wide; under it one unit moves the
#: index across two ratings (4.10 "excellent" at n = 13 became 0.86 after one fail).
MIN_RATED_SAMPLE = 30


def percent(part: int, whole: int) -> float | None:
    """part / whole in %, None for an empty whole (never a silent 0 % or 100 %)."""
    return None if whole <= 0 else 100.0 * part / whole


def passes(status: str) -> bool:
    """Whether a unit (or track) with this status counts as passing for the yield."""
    return status in PASSING


def yield_pct(passes: int, warnings: int, fails: int) -> float | None:
    """(Pass + Warning) / (Pass + Warning + Fail) in %, None without a verdict."""
    return percent(passes + warnings, passes + warnings + fails)


def first_pass_yield_pct(first_passed: int, serials: int) -> float | None:
    """Serials whose first result passed, over serials with a verdict, in %."""
    return percent(first_passed, serials)


def untrimmed_or_aborted(untrimmed_only: bool, is_anomaly: bool) -> bool:
    """A track the trim process did not act on: no trim pass, or a straight-line curve."""
    return untrimmed_only or is_anomaly


def in_capability(track: TrackResult) -> bool:
    """Whether a track's figures belong in its model's Cpk/Ppk."""
    return track.linearity_error is not None and not untrimmed_or_aborted(
        track.untrimmed_only, track.is_anomaly
    )


def rating_allowed(n: int) -> bool:
    """Whether an index over n values may be called excellent, capable, ... at all."""
    return n >= MIN_RATED_SAMPLE


def yield_of(statuses: Iterable[str]) -> float | None:
    """The yield of a handful of unit statuses (what tests and small pages count)."""
    counted = [s for s in statuses if s in VERDICTS]
    return percent(sum(1 for s in counted if s in PASSING), len(counted))
