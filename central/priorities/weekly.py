"""This week against the four before it: what changed, largest change first.

"This week" is the seven production days ending on the page's last day; the
comparison is with the mean week of the four weeks before. Volume and failing
units are per-week means (the four weeks' sum divided by the weeks that hold
any unit of the selection, so a history of two weeks is not diluted by two
empty ones); yield and mean sigma are pooled over the four weeks, so a week of
ten units cannot swing the reference as much as a week of a thousand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from central.priorities.queries import WeekRow

#: Rows are ordered by the size of their yield change once both periods hold this many
#: units with a verdict; fewer, and a change of one unit would rank first.
MIN_VERDICTS = 10


@dataclass(frozen=True)
class WeekChange:
    """One row of the comparison: this week, the mean week before, and the differences."""

    name: str
    units: int
    units_before: float  # mean units per week over the four weeks
    fails: int
    fails_before: float  # mean failing units per week
    yield_pct: float | None
    yield_before: float | None
    sigma: float | None  # mean sigma gradient this week
    sigma_before: float | None

    @property
    def yield_change(self) -> float | None:
        """Percentage points (negative: worse this week)."""
        if self.yield_pct is None or self.yield_before is None:
            return None
        return self.yield_pct - self.yield_before

    @property
    def fails_change(self) -> float:
        return self.fails - self.fails_before

    @property
    def units_change(self) -> float:
        return self.units - self.units_before

    @property
    def sigma_change_pct(self) -> float | None:
        """Relative change of the mean sigma gradient, in % of the weeks before."""
        if self.sigma is None or self.sigma_before is None or self.sigma_before == 0:
            return None
        return 100.0 * (self.sigma - self.sigma_before) / abs(self.sigma_before)


def change_of(row: WeekRow, weeks_before: int) -> WeekChange:
    """The comparison of one row; weeks_before: the weeks the means divide by (>= 1)."""
    weeks = max(1, weeks_before)
    judged = row.this.verdicts >= MIN_VERDICTS and row.before.verdicts >= MIN_VERDICTS
    return WeekChange(
        name=row.name,
        units=row.this.results,
        units_before=row.before.results / weeks,
        fails=row.this.fails,
        fails_before=row.before.fails / weeks,
        yield_pct=row.this.yield_pct if judged else None,
        yield_before=row.before.yield_pct if judged else None,
        sigma=row.sigma_this.mean,
        sigma_before=row.sigma_before.mean,
    )


def _size(change: WeekChange) -> tuple[float, float, float, str]:
    """Sort key: the largest yield change, then failing units, then volume, then the name."""
    moved = change.yield_change
    return (
        -abs(moved) if moved is not None else 0.0,
        -abs(change.fails_change),
        -abs(change.units_change),
        change.name,
    )


def changes(rows: Sequence[WeekRow], weeks_before: int) -> list[WeekChange]:
    """Every row's comparison, largest change first."""
    return sorted((change_of(row, weeks_before) for row in rows), key=_size)
