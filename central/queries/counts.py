"""Status counts of units and the yield every view derives from them, defined once.

A unit is one analysed file (a result); its status is its worst track's.
The yield is shared/quality.py's, the station page's too: (Pass + Warning) /
(Pass + Warning + Fail). An Error (unreadable, too few points) is not a pass
and not a verdict either: it is counted and shown beside the yield, never
folded into it silently. Skipped files (scrap, noise, Final Test) are not
trim data at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import sql

from central.rollup_columns import COUNT_NAMES
from shared import quality

COUNT_WIDTH = len(COUNT_NAMES)
# Their SUMs over rollup rows `d`, in that order.
COUNT_SUMS = sql.SQL(", ").join(
    sql.SQL("COALESCE(SUM(d.{}), 0)").format(sql.Identifier(c)) for c in COUNT_NAMES
)


@dataclass(frozen=True)
class StatusCounts:
    results: int = 0
    passes: int = 0
    warnings: int = 0
    fails: int = 0
    errors: int = 0
    skipped: int = 0
    tracks: int = 0
    near_misses: int = 0
    anomalies: int = 0

    @classmethod
    def of(cls, row: Sequence[Any]) -> StatusCounts:
        """From COUNT_SUMS columns (SUM of BIGINT arrives as Decimal)."""
        return cls(*(int(v or 0) for v in row[:COUNT_WIDTH]))

    @property
    def verdicts(self) -> int:
        """Units with a verdict: the yield's denominator."""
        return self.passes + self.warnings + self.fails

    @property
    def yield_pct(self) -> float | None:
        """(Pass + Warning) / (Pass + Warning + Fail) in %, None when no unit has a verdict."""
        return quality.yield_pct(self.passes, self.warnings, self.fails)

    def __add__(self, other: StatusCounts) -> StatusCounts:
        return StatusCounts(
            *(a + b for a, b in zip(_fields(self), _fields(other), strict=True))  # fixed width
        )


def _fields(counts: StatusCounts) -> tuple[int, ...]:
    return (
        counts.results,
        counts.passes,
        counts.warnings,
        counts.fails,
        counts.errors,
        counts.skipped,
        counts.tracks,
        counts.near_misses,
        counts.anomalies,
    )
