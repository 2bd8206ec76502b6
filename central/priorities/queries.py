"""The priorities page's reads: grouped sums of the day rollups, never a track row.

Each read is one set-based statement over `rollup_daily` or `rollup_fail_bins`
with the page's filters (central/queries/filters.py) and a LIMIT, so a year of a
million tracks is a few hundred thousand rollup rows summed by an index range.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from psycopg import sql

from central.db import Database
from central.queries.counts import COUNT_SUMS, COUNT_WIDTH, StatusCounts
from central.queries.filters import Filters
from central.queries.models import Spread
from central.rollup_columns import COUNT_NAMES, FAIL_BINS

MAX_RANKED = 300  # rows per ranking: beyond them a model or station is reached by its filter
END_BINS = 2  # bins at each end of the travel that count as "the end" (2 of 20: 10 %)
WEEKS_BEFORE = 4  # the weeks "this week" is compared with


class By:
    """What a ranking groups by: the rollups' model column or the station's name."""

    MODEL = "model"
    STATION = "station"


@dataclass(frozen=True)
class Impact:
    """One model's or station's failures over the window, and what they cost.

    cost: failing units x the model's cost per failing unit, summed over the
    models that have one; unpriced_fails: failing units of models without one
    (a station's cost is then a lower bound).
    """

    name: str
    counts: StatusCounts
    fleet_fails: int  # failing units of every row of the selection, for the share
    cost: Decimal | None
    unpriced_fails: int

    @property
    def fail_share_pct(self) -> float | None:
        return None if self.fleet_fails == 0 else 100.0 * self.counts.fails / self.fleet_fails


_RANK_ORDER = {
    # Failing units first (the rate times the volume); more units, then the name, break ties.
    "fails": "fails DESC, results DESC, name",
    # Priced failures first; unpriced rows after them, by their failing units.
    "cost": "cost DESC NULLS LAST, fails DESC, results DESC, name",
}
RANKINGS = tuple(_RANK_ORDER)

_RANKING = """
SELECT {name} AS name, {sums},
       SUM(d.fails * c.unit_cost) AS cost,
       COALESCE(SUM(d.fails) FILTER (WHERE c.unit_cost IS NULL), 0) AS unpriced,
       SUM(SUM(d.fails)) OVER () AS fleet_fails,
       SUM(d.fails) AS fails, SUM(d.results) AS results
FROM rollup_daily d
{join}
LEFT JOIN model_costs c ON c.model = d.model
{where}
GROUP BY {name}
ORDER BY {order}
LIMIT {limit}
"""


def ranking(db: Database, filters: Filters, by: str, rank: str = "fails") -> list[Impact]:
    """Models or stations of the selection in the order `rank` gives (RANKINGS)."""
    if by == By.MODEL:
        name: sql.Composable = sql.SQL("d.model")
        join: sql.Composable = sql.SQL("")
    else:
        name = sql.SQL("s.name")
        join = sql.SQL("JOIN stations s ON s.id = d.station_pk")
    query = sql.SQL(_RANKING).format(
        name=name,
        sums=COUNT_SUMS,
        join=join,
        where=filters.where("d", day_column="day"),
        order=sql.SQL(_RANK_ORDER[rank]),
        limit=sql.Literal(MAX_RANKED),
    )
    with db.pool.connection() as conn:
        rows = conn.execute(query).fetchall()
    w = COUNT_WIDTH
    return [
        Impact(
            name=str(row[0]),
            counts=StatusCounts.of(row[1 : 1 + w]),
            cost=None if row[w + 1] is None else Decimal(row[w + 1]),
            unpriced_fails=int(row[w + 2]),
            fleet_fails=int(row[w + 3] or 0),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class Positions:
    """Failing points and failing tracks per twentieth of the travel (index 0 = first 5 %)."""

    points: tuple[int, ...]
    tracks: tuple[int, ...]


def fail_positions(db: Database, filters: Filters) -> Positions:
    """Where along the travel the selection's failing points lie, every model together."""
    query = sql.SQL(
        "SELECT d.bin, SUM(d.points), SUM(d.tracks) FROM rollup_fail_bins d {where} "
        "GROUP BY d.bin ORDER BY d.bin LIMIT {bins}"
    ).format(where=filters.where("d", day_column="day"), bins=sql.Literal(FAIL_BINS))
    points, tracks = [0] * FAIL_BINS, [0] * FAIL_BINS
    with db.pool.connection() as conn:
        for bin_number, n, t in conn.execute(query):
            points[int(bin_number) - 1] = int(n)
            tracks[int(bin_number) - 1] = int(t)
    return Positions(tuple(points), tuple(tracks))


@dataclass(frozen=True)
class EndShare:
    """A model's failing points in the first and last END_BINS bins of the travel."""

    model: str
    start_points: int
    end_points: int
    points: int  # along the whole travel


def end_shares(db: Database, filters: Filters, min_points: int) -> list[EndShare]:
    """Models with at least `min_points` failing points, most failing points first."""
    query = sql.SQL(
        "SELECT d.model, COALESCE(SUM(d.points) FILTER (WHERE d.bin <= {ends}), 0), "
        "COALESCE(SUM(d.points) FILTER (WHERE d.bin > {last}), 0), SUM(d.points) "
        "FROM rollup_fail_bins d {where} AND d.model <> '' GROUP BY d.model "
        "HAVING SUM(d.points) >= {min} ORDER BY SUM(d.points) DESC, d.model LIMIT {limit}"
    ).format(
        ends=sql.Literal(END_BINS),
        last=sql.Literal(FAIL_BINS - END_BINS),
        where=filters.where("d", day_column="day"),
        min=sql.Literal(min_points),
        limit=sql.Literal(MAX_RANKED),
    )
    with db.pool.connection() as conn:
        rows = conn.execute(query).fetchall()
    return [EndShare(str(m), int(a), int(b), int(n)) for m, a, b, n in rows]


@dataclass(frozen=True)
class Weeks:
    """The five weeks the comparison reads: this week ends on `end`, the four before it."""

    end: date

    @property
    def this_start(self) -> date:
        return self.end - timedelta(days=6)

    @property
    def before_start(self) -> date:
        return self.this_start - timedelta(days=7 * WEEKS_BEFORE)

    @property
    def before_end(self) -> date:
        return self.this_start - timedelta(days=1)


@dataclass(frozen=True)
class WeekRow:
    """One model's or station's counts and sigma this week and over the four weeks before."""

    name: str
    this: StatusCounts
    before: StatusCounts
    sigma_this: Spread
    sigma_before: Spread


def _period_sums(period: sql.Composable) -> sql.Composable:
    columns = [*COUNT_NAMES, "sigma_n", "sigma_sum", "sigma_sumsq"]
    return sql.SQL(", ").join(
        sql.SQL("COALESCE(SUM(d.{c}) FILTER (WHERE {p}), 0)").format(c=sql.Identifier(c), p=period)
        for c in columns
    )


def week_rows(db: Database, filters: Filters, weeks: Weeks, by: str) -> tuple[list[WeekRow], int]:
    """Per model or station: this week and the four before (the filters' dates replaced by
    the five weeks; stations, models and spec classes kept), and how many of the four
    weeks hold any unit of the selection (the mean's divisor)."""
    chosen = filters.with_dates(weeks.before_start, weeks.end)
    this = sql.SQL("d.day >= {}").format(sql.Literal(weeks.this_start))
    before = sql.SQL("d.day < {}").format(sql.Literal(weeks.this_start))
    if by == By.MODEL:
        name: sql.Composable = sql.SQL("d.model")
        join: sql.Composable = sql.SQL("")
    else:
        name, join = sql.SQL("s.name"), sql.SQL("JOIN stations s ON s.id = d.station_pk")
    query = sql.SQL(
        "SELECT {name}, {this}, {before} FROM rollup_daily d {join} {where} "
        "GROUP BY {name} ORDER BY SUM(d.results) DESC, {name} LIMIT {limit}"
    ).format(
        name=name,
        this=_period_sums(this),
        before=_period_sums(before),
        join=join,
        where=chosen.where("d", day_column="day"),
        limit=sql.Literal(MAX_RANKED),
    )
    active = sql.SQL(
        "SELECT COUNT(DISTINCT ({end}::date - d.day) / 7) FROM rollup_daily d {where} "
        "AND d.day < {this_start}"
    ).format(
        end=sql.Literal(weeks.end),
        where=chosen.where("d", day_column="day"),
        this_start=sql.Literal(weeks.this_start),
    )
    with db.pool.connection() as conn:
        rows = conn.execute(query).fetchall()
        counted = conn.execute(active).fetchone()
    return [_week_row(row) for row in rows], int(counted[0]) if counted else 0


def _week_row(row: Sequence[Any]) -> WeekRow:
    w = COUNT_WIDTH
    this, before = row[1 : w + 4], row[w + 4 : 2 * w + 7]
    return WeekRow(
        name=str(row[0]),
        this=StatusCounts.of(this[:w]),
        before=StatusCounts.of(before[:w]),
        sigma_this=Spread.of(*this[w:]),
        sigma_before=Spread.of(*before[w:]),
    )


def units_since_opened(db: Database, alarm_ids: Sequence[int]) -> dict[int, int]:
    """Per alarm: units of its station and model from the day it opened (rollups)."""
    if not alarm_ids:
        return {}
    query = (
        "SELECT a.id, COALESCE(SUM(d.results), 0) FROM alarms a "
        "LEFT JOIN rollup_daily d ON d.station_pk = a.station_pk AND d.model = a.model "
        "AND d.day >= (a.opened_at AT TIME ZONE 'UTC')::date "
        "WHERE a.id = ANY(%s) GROUP BY a.id LIMIT %s"
    )
    with db.pool.connection() as conn:
        rows = conn.execute(query, (list(alarm_ids), len(alarm_ids))).fetchall()
    return {int(i): int(n) for i, n in rows}
