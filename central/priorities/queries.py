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
from central.queries.counts import COUNT_WIDTH, StatusCounts
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

# One scan of the window's rollup rows: summed per station and model first (a few
# thousand pairs over a year), then grouped per model and per station from those sums,
# each side ordered and limited on its own.
_RANKINGS = """
WITH pairs AS (
    SELECT d.station_pk, d.model, {pair_sums}
    FROM rollup_daily d {where}
    GROUP BY d.station_pk, d.model
), priced AS (
    SELECT p.*, c.unit_cost FROM pairs p LEFT JOIN model_costs c ON c.model = p.model
)
(SELECT 'model' AS side, p.model AS name, {sums}, {money}
 FROM priced p GROUP BY p.model ORDER BY {order} LIMIT {limit})
UNION ALL
(SELECT 'station' AS side, s.name AS name, {sums}, {money}
 FROM priced p JOIN stations s ON s.id = p.station_pk GROUP BY s.name
 ORDER BY {order} LIMIT {limit})
"""
_MONEY = (
    "SUM(p.fails * p.unit_cost) AS cost, "
    "COALESCE(SUM(p.fails) FILTER (WHERE p.unit_cost IS NULL), 0) AS unpriced, "
    "SUM(SUM(p.fails)) OVER () AS fleet_fails, SUM(p.fails) AS fails_n, "
    "SUM(p.results) AS results_n"
)
_RANK_ORDER = {
    # Failing units first (the rate times the volume); more units, then the name, break ties.
    "fails": "fails_n DESC, results_n DESC, name",
    # Priced failures first; unpriced rows after them, by their failing units.
    "cost": "cost DESC NULLS LAST, fails_n DESC, results_n DESC, name",
}
RANKINGS = tuple(_RANK_ORDER)


def rankings(
    db: Database, filters: Filters, rank: str = "fails"
) -> tuple[list[Impact], list[Impact]]:
    """(models, stations) of the selection, each in the order `rank` gives (RANKINGS)."""
    query = sql.SQL(_RANKINGS).format(
        pair_sums=sql.SQL(", ").join(
            sql.SQL("SUM(d.{c}) AS {c}").format(c=sql.Identifier(c)) for c in COUNT_NAMES
        ),
        where=filters.where("d", day_column="day"),
        sums=sql.SQL(", ").join(
            sql.SQL("COALESCE(SUM(p.{}), 0)").format(sql.Identifier(c)) for c in COUNT_NAMES
        ),
        money=sql.SQL(_MONEY),
        order=sql.SQL(_RANK_ORDER[rank]),
        limit=sql.Literal(MAX_RANKED),
    )
    with db.pool.connection() as conn:
        rows = conn.execute(query).fetchall()
    w = COUNT_WIDTH
    found: dict[str, list[Impact]] = {By.MODEL: [], By.STATION: []}
    for row in rows:
        found[row[0]].append(
            Impact(
                name=str(row[1]),
                counts=StatusCounts.of(row[2 : 2 + w]),
                cost=None if row[w + 2] is None else Decimal(row[w + 2]),
                unpriced_fails=int(row[w + 3]),
                fleet_fails=int(row[w + 4] or 0),
            )
        )
    return found[By.MODEL], found[By.STATION]


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


_WEEK_COLUMNS = (*COUNT_NAMES, "sigma_n", "sigma_sum", "sigma_sumsq")
# As the rankings: the five weeks' rollup rows summed per station and model in one scan,
# split into this week and the four before, then grouped per model and per station.
_WEEKS = """
WITH pairs AS (
    SELECT d.station_pk, d.model, {pair_sums}
    FROM rollup_daily d {where}
    GROUP BY d.station_pk, d.model
)
(SELECT 'model' AS side, p.model AS name, {sums}
 FROM pairs p GROUP BY p.model ORDER BY SUM(p.t_results + p.b_results) DESC, p.model LIMIT {limit})
UNION ALL
(SELECT 'station' AS side, s.name AS name, {sums}
 FROM pairs p JOIN stations s ON s.id = p.station_pk GROUP BY s.name
 ORDER BY SUM(p.t_results + p.b_results) DESC, s.name LIMIT {limit})
"""


def _week_sums(this_start: date) -> tuple[sql.Composable, sql.Composable]:
    """The pairs' period sums (t_ this week, b_ before) and their sums per group."""
    pair_sums, sums = [], []
    for prefix, period in (("t_", ">="), ("b_", "<")):
        for c in _WEEK_COLUMNS:
            pair_sums.append(
                sql.SQL(
                    "COALESCE(SUM(d.{c}) FILTER (WHERE d.day {op} {start}), 0) AS {alias}"
                ).format(
                    c=sql.Identifier(c),
                    op=sql.SQL(period),
                    start=sql.Literal(this_start),
                    alias=sql.Identifier(prefix + c),
                )
            )
            sums.append(sql.SQL("SUM(p.{})").format(sql.Identifier(prefix + c)))
    return sql.SQL(", ").join(pair_sums), sql.SQL(", ").join(sums)


def week_rows(
    db: Database, filters: Filters, weeks: Weeks
) -> tuple[list[WeekRow], list[WeekRow], int]:
    """Per model and per station: this week and the four before (the filters' dates
    replaced by the five weeks; stations, models and spec classes kept), and how many of
    the four weeks hold any unit of the selection (the mean's divisor)."""
    chosen = filters.with_dates(weeks.before_start, weeks.end)
    pair_sums, sums = _week_sums(weeks.this_start)
    query = sql.SQL(_WEEKS).format(
        pair_sums=pair_sums,
        where=chosen.where("d", day_column="day"),
        sums=sums,
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
    found: dict[str, list[WeekRow]] = {By.MODEL: [], By.STATION: []}
    for row in rows:
        found[row[0]].append(_week_row(row[1:]))
    return found[By.MODEL], found[By.STATION], int(counted[0]) if counted else 0


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
