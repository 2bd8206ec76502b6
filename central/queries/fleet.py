"""The fleet overview: every station, its last contact and its yield today and this week.

One query: stations, their latest heartbeat (agent version, outbox depth)
and the day rollups of this week; no result or track row is read, except
one index probe per station for the agent version of a station that has
never sent a heartbeat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from psycopg import sql

from central.db import Database
from central.queries.counts import COUNT_WIDTH, StatusCounts
from central.queries.filters import QueryError, QueryErrorCode
from central.rollup_columns import COUNT_NAMES


@dataclass(frozen=True)
class StationStatus:
    name: str
    revoked: bool
    last_result_at: datetime | None  # the last batch it sent
    last_heartbeat_at: datetime | None
    silent_for_s: float | None  # since its last contact (batch or heartbeat); None: never
    agent_version: str | None  # from the latest heartbeat, else from its latest result
    outbox_pending: int | None  # results waiting on the station, as of its latest heartbeat
    outbox_oldest_age_s: float | None
    dead_letters: int | None
    last_error: str | None
    today: StatusCounts
    week: StatusCounts

    @property
    def last_contact(self) -> datetime | None:
        moments = [m for m in (self.last_result_at, self.last_heartbeat_at) if m is not None]
        return max(moments) if moments else None


@dataclass(frozen=True)
class Fleet:
    today: date
    week_start: date
    stations: list[StationStatus]

    @property
    def today_total(self) -> StatusCounts:
        return sum((s.today for s in self.stations), StatusCounts())

    @property
    def week_total(self) -> StatusCounts:
        return sum((s.week for s in self.stations), StatusCounts())


_FLEET = sql.SQL(
    """
SELECT s.name, s.revoked_at IS NOT NULL, s.last_seen_at, h.received_at,
       EXTRACT(EPOCH FROM ({now} - GREATEST(s.last_seen_at, h.received_at)))::float8,
       COALESCE(h.agent_version, latest.agent_version),
       h.outbox_pending, h.oldest_undelivered_age_s, h.dead_letters, h.last_error, w.*
FROM stations s
LEFT JOIN heartbeats h ON h.station_pk = s.id
LEFT JOIN LATERAL (
    SELECT r.agent_version FROM results r
    WHERE r.station_pk = s.id AND h.agent_version IS NULL
    ORDER BY r.made_at DESC LIMIT 1
) latest ON TRUE
LEFT JOIN LATERAL (
    SELECT {today_inner}, {week_inner}
    FROM rollup_daily d
    WHERE d.station_pk = s.id AND d.day BETWEEN {week_start} AND {today}
) w ON TRUE
ORDER BY s.name
"""
)


def _filtered(condition: sql.Composable) -> sql.Composable:
    """COUNT_SUMS restricted to rollup rows meeting condition, one column per count."""
    return sql.SQL(", ").join(
        sql.SQL("COALESCE(SUM(d.{c}) FILTER (WHERE {cond}), 0)").format(
            c=sql.Identifier(c), cond=condition
        )
        for c in COUNT_NAMES
    )


def fleet(db: Database, today: date, now: datetime) -> Fleet:
    """Every station (revoked ones too, marked), ordered by name.

    today: the plant's production day; the week is the ISO week holding it
    (Monday first). now: an aware instant for "silent for".
    """
    if now.tzinfo is None:
        raise QueryError(QueryErrorCode.INVALID_FILTER, "'now' must carry a time zone.")
    week_start = today - timedelta(days=today.weekday())
    query = _FLEET.format(
        now=sql.Literal(now),
        today_inner=_filtered(sql.SQL("d.day = {}").format(sql.Literal(today))),
        week_inner=_filtered(sql.SQL("TRUE")),
        week_start=sql.Literal(week_start),
        today=sql.Literal(today),
    )
    with db.pool.connection() as conn:
        rows = conn.execute(query).fetchall()
    stations = []
    for row in rows:
        counts = row[10 : 10 + 2 * COUNT_WIDTH]
        stations.append(
            StationStatus(
                name=row[0],
                revoked=bool(row[1]),
                last_result_at=row[2],
                last_heartbeat_at=row[3],
                silent_for_s=row[4],
                agent_version=row[5],
                outbox_pending=row[6],
                outbox_oldest_age_s=row[7],
                dead_letters=row[8],
                last_error=row[9],
                today=StatusCounts.of(counts[:COUNT_WIDTH]),
                week=StatusCounts.of(counts[COUNT_WIDTH:]),
            )
        )
    return Fleet(today=today, week_start=week_start, stations=stations)
