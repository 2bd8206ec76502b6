"""One model over a window: counts over time, SPC series, failing positions, near misses.

Counts, near misses and failing positions are sums of the day rollups
(central/rollups.py): a year of a model is a few thousand rollup rows, not
its tracks. The SPC series is the only per-unit read: the latest `limit`
tracks of the model in the window, through the (model, made_at) index.

For the model list and the comparison page, beyond one model's figures:
- `latest_tracks_per_model`: every model's latest analysed tracks in a
  window, in one statement (a LATERAL range scan per model of track_series,
  migration 006, in (model, made_at) order), so the model list can show each
  model's Cpk and drift state without one query per model and without
  reading the window's every track.
- `open_alarm_counts`: unacknowledged alarms per model (migration 005), for
  the scorecard.
- `spec_values`: the distinct linearity specs of a model's latest tracks in
  a window, so the comparison page knows whether one spec line fits them all.

Tracks come back oldest first, the order every SPC statistic needs
(docs/decisions/0010).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from psycopg import sql

from central.db import Database
from central.queries.counts import COUNT_SUMS, COUNT_WIDTH, StatusCounts
from central.queries.filters import Filters, QueryError, QueryErrorCode
from central.rollup_columns import FAIL_BINS
from central.spc.reference import DriftReference, ReferenceSums, reference_period

DEFAULT_SERIES_LIMIT = 2000
MAX_SERIES_LIMIT = 20_000


@dataclass(frozen=True)
class Spread:
    """n, mean and sample standard deviation (None below 2 values) from rollup sums."""

    n: int
    mean: float | None
    sd: float | None

    @classmethod
    def of(cls, n: Any, total: Any, squares: Any) -> Spread:
        count = int(n or 0)
        if count == 0:
            return cls(0, None, None)
        s, q = float(total or 0), float(squares or 0)
        mean = s / count
        sd = math.sqrt(max(0.0, (q - s * s / count) / (count - 1))) if count > 1 else None
        return cls(count, mean, sd)


@dataclass(frozen=True)
class ModelSummary:
    model: str  # '' for files that named no model
    counts: StatusCounts
    first_day: date
    last_day: date
    stations: int
    fail_points: int
    sigma: Spread  # sigma gradient of analysed tracks
    linearity_ratio: Spread  # linearity error / spec of tracks with a spec


@dataclass(frozen=True)
class DailyCounts:
    day: date
    station: str
    counts: StatusCounts


@dataclass(frozen=True)
class UnitPoint:
    """One analysed track of one unit, as SPC charts plot it."""

    made_at: datetime
    result_id: UUID
    station: str
    serial: str | None
    track_id: str
    status: str
    sigma_gradient: float
    sigma_threshold: float | None
    linearity_error: float | None  # None only if a station sent a sigma without it
    linearity_spec: float | None
    untrimmed: bool = False  # never trimmed or aborted: out of capability (shared/quality.py)


@dataclass(frozen=True)
class SpcSeries:
    """Points oldest first. truncated: the window holds more than `limit` (the latest
    are kept). left_out: tracks in the window without a sigma gradient (Error tracks)."""

    points: list[UnitPoint]
    truncated: bool
    left_out: int


@dataclass(frozen=True)
class FailPositions:
    """Failing points per twentieth of the travel (bin 0 = first 5 %): all stations and each."""

    points: tuple[int, ...]
    tracks: tuple[int, ...]  # tracks with at least one failing point in the bin
    by_station: dict[str, tuple[int, ...]]


@dataclass(frozen=True)
class NearMisses:
    station: str
    near_misses: int  # passing tracks with under 20 % margin
    tracks: int


def _rollup_where(filters: Filters) -> sql.Composed:
    return filters.where("d", day_column="day")


def model_summaries(db: Database, filters: Filters) -> list[ModelSummary]:
    """Every model with units in the filters' window, by name."""
    query = sql.SQL(
        "SELECT d.model, {sums}, MIN(d.day), MAX(d.day), COUNT(DISTINCT d.station_pk), "
        "SUM(d.fail_points), SUM(d.sigma_n), SUM(d.sigma_sum), SUM(d.sigma_sumsq), "
        "SUM(d.lin_n), SUM(d.ratio_sum), SUM(d.ratio_sumsq) "
        "FROM rollup_daily d {where} GROUP BY d.model ORDER BY d.model"
    ).format(sums=COUNT_SUMS, where=_rollup_where(filters))
    with db.pool.connection() as conn:
        rows = conn.execute(query).fetchall()
    w = COUNT_WIDTH
    return [
        ModelSummary(
            model=row[0],
            counts=StatusCounts.of(row[1 : 1 + w]),
            first_day=row[w + 1],
            last_day=row[w + 2],
            stations=int(row[w + 3]),
            fail_points=int(row[w + 4] or 0),
            sigma=Spread.of(*row[w + 5 : w + 8]),
            linearity_ratio=Spread.of(*row[w + 8 : w + 11]),
        )
        for row in rows
    ]


def daily_counts(db: Database, model: str, filters: Filters) -> list[DailyCounts]:
    """Pass / warning / fail (and the rest) per production day and station, oldest first."""
    query = sql.SQL(
        "SELECT d.day, s.name, {sums} FROM rollup_daily d JOIN stations s ON s.id = d.station_pk "
        "{where} GROUP BY d.day, s.name ORDER BY d.day, s.name"
    ).format(sums=COUNT_SUMS, where=_rollup_where(filters.with_models(model)))
    with db.pool.connection() as conn:
        rows = conn.execute(query).fetchall()
    return [DailyCounts(row[0], row[1], StatusCounts.of(row[2:])) for row in rows]


def spc_series(
    db: Database, model: str, filters: Filters, limit: int = DEFAULT_SERIES_LIMIT
) -> SpcSeries:
    """Sigma gradient and linearity error per analysed track in production order.

    The latest `limit` tracks of the window, returned oldest first; a station
    filter gives one station's series (drift is per model and station).
    """
    if not 1 <= limit <= MAX_SERIES_LIMIT:
        raise QueryError(
            QueryErrorCode.INVALID_FILTER, f"A series holds 1 to {MAX_SERIES_LIMIT} points."
        )
    chosen = filters.with_models(model)
    points = sql.SQL(
        "SELECT ts.made_at, ts.result_id, s.name, ts.serial, ts.track_id, ts.status, "
        "ts.sigma_gradient, ts.sigma_threshold, ts.linearity_error, ts.linearity_spec, "
        "ts.untrimmed FROM track_series ts JOIN stations s ON s.id = ts.station_pk "
        "{where} AND ts.sigma_gradient IS NOT NULL AND abs(ts.sigma_gradient) < 1e100 "
        "ORDER BY ts.made_at DESC, ts.result_id DESC, ts.track_id DESC LIMIT {limit}"
    ).format(where=chosen.where("ts"), limit=sql.Literal(limit + 1))
    # The rollups count the same tracks (sigma_n), so this costs no scan of the window.
    missing = sql.SQL(
        "SELECT COALESCE(SUM(d.tracks - d.sigma_n), 0) FROM rollup_daily d {where}"
    ).format(where=_rollup_where(chosen))
    with db.pool.connection() as conn:
        rows = conn.execute(points).fetchall()
        left_out = conn.execute(missing).fetchone()
    kept = [UnitPoint(*row) for row in rows[:limit]]
    kept.reverse()
    return SpcSeries(
        points=kept, truncated=len(rows) > limit, left_out=int(left_out[0]) if left_out else 0
    )


def fail_positions(db: Database, model: str, filters: Filters) -> FailPositions:
    """Where along the travel the model's failing points lie, from the bin rollup."""
    query = sql.SQL(
        "SELECT s.name, d.bin, SUM(d.points), SUM(d.tracks) FROM rollup_fail_bins d "
        "JOIN stations s ON s.id = d.station_pk {where} GROUP BY s.name, d.bin"
    ).format(where=_rollup_where(filters.with_models(model)))
    with db.pool.connection() as conn:
        rows = conn.execute(query).fetchall()
    points, tracks = [0] * FAIL_BINS, [0] * FAIL_BINS
    by_station: dict[str, list[int]] = {}
    for station, bin_number, n, t in rows:  # at most stations x 20 rows
        index = int(bin_number) - 1
        points[index] += int(n)
        tracks[index] += int(t)
        by_station.setdefault(station, [0] * FAIL_BINS)[index] += int(n)
    return FailPositions(
        points=tuple(points),
        tracks=tuple(tracks),
        by_station={name: tuple(bins) for name, bins in sorted(by_station.items())},
    )


def near_misses(db: Database, model: str, filters: Filters) -> list[NearMisses]:
    """Near misses per station (passes with under 20 % margin), by station name."""
    query = sql.SQL(
        "SELECT s.name, SUM(d.near_misses), SUM(d.tracks) FROM rollup_daily d "
        "JOIN stations s ON s.id = d.station_pk {where} GROUP BY s.name ORDER BY s.name"
    ).format(where=_rollup_where(filters.with_models(model)))
    with db.pool.connection() as conn:
        rows = conn.execute(query).fetchall()
    return [NearMisses(name, int(n), int(t)) for name, n, t in rows]


@dataclass(frozen=True)
class WeekSpread:
    week: date  # the Monday
    sigma: Spread
    linearity_ratio: Spread  # linearity error / spec: Ppk = (1 - mean) / (3 sd)


def weekly_spread(db: Database, model: str, filters: Filters) -> list[WeekSpread]:
    """Mean and spread of sigma and linearity / spec per ISO week, from the day rollups.

    Enough for a Ppk trend over a year without reading a track; Cpk needs the
    units in order (spc_series) because its spread is within subgroups.
    """
    query = sql.SQL(
        "SELECT date_trunc('week', d.day)::date AS week, SUM(d.sigma_n), SUM(d.sigma_sum), "
        "SUM(d.sigma_sumsq), SUM(d.lin_n), SUM(d.ratio_sum), SUM(d.ratio_sumsq) "
        "FROM rollup_daily d {where} GROUP BY week ORDER BY week"
    ).format(where=_rollup_where(filters.with_models(model)))
    with db.pool.connection() as conn:
        rows = conn.execute(query).fetchall()
    return [WeekSpread(row[0], Spread.of(*row[1:4]), Spread.of(*row[4:7])) for row in rows]


MAX_PER_MODEL = 5000
MAX_SPECS = 5  # "several specs" is all the page needs to know beyond this


@dataclass(frozen=True)
class TrackFigures:
    """The figures of one analysed track that a scorecard reads (no ids, no times)."""

    station: str
    sigma_gradient: float
    sigma_threshold: float | None
    linearity_error: float | None
    linearity_spec: float | None
    untrimmed: bool = False


_LATEST = sql.SQL(
    """
SELECT m.model, p.name, p.sigma_gradient, p.sigma_threshold, p.linearity_error,
       p.linearity_spec, p.untrimmed
FROM (SELECT DISTINCT d.model FROM rollup_daily d {rollup_where} AND d.model <> '' {only}) m
CROSS JOIN LATERAL (
    SELECT s.name, ts.sigma_gradient, ts.sigma_threshold, ts.linearity_error, ts.linearity_spec,
           ts.untrimmed
    FROM track_series ts
    JOIN stations s ON s.id = ts.station_pk
    {where} AND ts.model = m.model
      AND ts.sigma_gradient IS NOT NULL AND abs(ts.sigma_gradient) < 1e100
    ORDER BY ts.made_at DESC, ts.result_id DESC, ts.track_id DESC
    LIMIT {limit}
) p
"""
)


def latest_tracks_per_model(
    db: Database, filters: Filters, per_model: int, only: Sequence[str] | None = None
) -> dict[str, list[TrackFigures]]:
    """The latest `per_model` analysed tracks of every model in the window, oldest first.

    The same tracks, in the same order, as the last `per_model` points of
    `models.spc_series` for that model and these filters. Models are the ones
    the rollups know in the window (and the filters' models and stations,
    when set); files that named no model are left out. Read in binary, only
    the figures: the model list reads a few thousand rows per request. only: just these
    models (the ones a page lists), however many the window holds.
    """
    if not 1 <= per_model <= MAX_PER_MODEL:
        raise QueryError(
            QueryErrorCode.INVALID_FILTER, f"Ask for 1 to {MAX_PER_MODEL} tracks per model."
        )
    query = _LATEST.format(
        rollup_where=filters.where("d", day_column="day"),
        where=filters.where("ts"),
        limit=sql.Literal(per_model),
        only=sql.SQL("")
        if only is None
        else sql.SQL("AND d.model = ANY({})").format(sql.Literal(list(only))),
    )
    found: dict[str, list[TrackFigures]] = {}
    with db.pool.connection() as conn:
        for row in conn.cursor(binary=True).execute(query):
            found.setdefault(row[0], []).append(TrackFigures(*row[1:]))
    for tracks in found.values():
        tracks.reverse()  # fetched newest first
    return found


def open_alarm_counts(db: Database, stations: tuple[str, ...] = ()) -> dict[str, int]:
    """Unacknowledged alarms about each model (station-wide alarms have no model: left out)."""
    scope: sql.Composable = sql.SQL("")
    if stations:
        scope = sql.SQL(
            " AND a.station_pk IN (SELECT id FROM stations WHERE name = ANY({}))"
        ).format(sql.Literal(list(stations)))
    query = sql.SQL(
        "SELECT a.model, COUNT(*) FROM alarms a "
        "WHERE a.acknowledged_at IS NULL AND a.model <> ''{scope} GROUP BY a.model"
    ).format(scope=scope)
    with db.pool.connection() as conn:
        return {row[0]: int(row[1]) for row in conn.execute(query)}


def spec_values(db: Database, model: str, filters: Filters, latest: int) -> tuple[float, ...]:
    """The distinct linearity specs of the model's latest `latest` analysed tracks (up to 5).

    The same tracks as `models.spc_series(..., limit=latest)`, read from
    track_series in (model, made_at) order, so the answer costs a few
    milliseconds however large the window, and agrees with what the model
    page's charts use.
    """
    if not 1 <= latest <= MAX_PER_MODEL * 4:
        raise QueryError(QueryErrorCode.INVALID_FILTER, f"Ask for 1 to {MAX_PER_MODEL * 4} tracks.")
    query = sql.SQL(
        "SELECT DISTINCT spec FROM ("
        "SELECT ts.linearity_spec AS spec FROM track_series ts "
        "{where} AND ts.sigma_gradient IS NOT NULL AND abs(ts.sigma_gradient) < 1e100 "
        "ORDER BY ts.made_at DESC, ts.result_id DESC, ts.track_id DESC LIMIT {latest}"
        ") latest WHERE spec IS NOT NULL ORDER BY 1 LIMIT {limit}"
    ).format(
        where=filters.with_models(model).where("ts"),
        latest=sql.Literal(latest),
        limit=sql.Literal(MAX_SPECS),
    )
    with db.pool.connection() as conn:
        return tuple(float(row[0]) for row in conn.execute(query))


def drift_references(
    db: Database, models: Sequence[str], first_judged: date, days: int
) -> dict[str, DriftReference]:
    """Each model's sigma sums per station over the reference period before `first_judged`
    (the drift alarm's baseline period, central/spc/reference.py), from the day rollups:
    one grouped read for the whole model list."""
    start, end = reference_period(first_judged, days)
    query = (
        "SELECT d.model, s.name, SUM(d.sigma_n), SUM(d.sigma_sum), SUM(d.sigma_sumsq) "
        "FROM rollup_daily d JOIN stations s ON s.id = d.station_pk "
        "WHERE d.model = ANY(%(models)s) AND d.day BETWEEN %(start)s AND %(end)s "
        "GROUP BY d.model, s.name"
    )
    found: dict[str, dict[str, ReferenceSums]] = {model: {} for model in models}
    with db.pool.connection() as conn:
        rows = conn.execute(query, {"models": list(models), "start": start, "end": end})
        for model, station, n, total, total_sq in rows.fetchall():
            found[model][station] = ReferenceSums(
                int(n or 0), float(total or 0), float(total_sq or 0)
            )
    return {model: DriftReference(first_judged, sums) for model, sums in found.items()}
