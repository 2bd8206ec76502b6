"""The fleet overview: every station, its last contact and its yield over a day and a span.

One query: stations, their latest heartbeat (agent version, outbox depth)
and the day rollups of the span; no result or track row is read, except
one index probe per station for the agent version of a station that has
never sent a heartbeat.

The counts follow the page's filters (central/queries/filters.py): with a
model, an element type or a product class they count those units only, so a
headline and a station row always add up to the units the filters select.
Without dates the day is today and the span the ISO week holding it (Monday
first); with dates the span is the chosen range and the day its last day.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from psycopg import sql

from central.db import Database
from central.queries.counts import COUNT_WIDTH, StatusCounts
from central.queries.filters import Filters, QueryError, QueryErrorCode
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
    day: StatusCounts  # Fleet.day's units (of the filters' models)
    span: StatusCounts  # Fleet.span_start to Fleet.span_end

    @property
    def last_contact(self) -> datetime | None:
        moments = [m for m in (self.last_result_at, self.last_heartbeat_at) if m is not None]
        return max(moments) if moments else None


@dataclass(frozen=True)
class Fleet:
    day: date  # today, or the last day of a chosen range
    span_start: date | None  # the week's Monday, or the range's first day (None: open)
    span_end: date
    chosen: bool  # the dates came from the filters
    stations: list[StationStatus]

    def total(self, names: tuple[str, ...] = ()) -> tuple[StatusCounts, StatusCounts]:
        """The day's and the span's counts over these stations (all when none named)."""
        kept = [s for s in self.stations if not names or s.name in names]
        return (
            sum((s.day for s in kept), StatusCounts()),
            sum((s.span for s in kept), StatusCounts()),
        )


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
    SELECT {day_inner}, {span_inner}
    FROM rollup_daily d
    {where} AND d.station_pk = s.id
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


def windows(today: date, filters: Filters) -> tuple[date, date | None, date, bool]:
    """(day, span start, span end, chosen) for the filters' dates, as the module says."""
    if filters.start is None and filters.end is None:
        return today, today - timedelta(days=today.weekday()), today, False
    end = filters.end or max(today, filters.start or today)
    return end, filters.start, end, True


def fleet(db: Database, today: date, now: datetime, filters: Filters | None = None) -> Fleet:
    """Every station (revoked ones too, marked), ordered by name, counted under `filters`.

    today: the plant's production day. now: an aware instant for "silent for".
    The filters' stations do not narrow the list (the page shows the ones it
    was asked for); their models, element type and product class narrow the
    counts, their dates choose the day and the span (module docstring).
    """
    if now.tzinfo is None:
        raise QueryError(QueryErrorCode.INVALID_FILTER, "'now' must carry a time zone.")
    filters = filters or Filters()
    day, span_start, span_end, chosen = windows(today, filters)
    counted = replace(filters, stations=()).with_dates(span_start, span_end)
    query = _FLEET.format(
        now=sql.Literal(now),
        day_inner=_filtered(sql.SQL("d.day = {}").format(sql.Literal(day))),
        span_inner=_filtered(sql.SQL("TRUE")),
        where=counted.where("d", day_column="day"),
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
                day=StatusCounts.of(counts[:COUNT_WIDTH]),
                span=StatusCounts.of(counts[COUNT_WIDTH:]),
            )
        )
    return Fleet(day, span_start, span_end, chosen, stations)
