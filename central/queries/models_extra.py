"""Queries the model list and model pages need beyond central/queries/models.py.

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

from collections.abc import Sequence
from dataclasses import dataclass

from psycopg import sql

from central.db import Database
from central.queries.filters import Filters, QueryError, QueryErrorCode

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


_LATEST = sql.SQL(
    """
SELECT m.model, p.name, p.sigma_gradient, p.sigma_threshold, p.linearity_error,
       p.linearity_spec
FROM (SELECT DISTINCT d.model FROM rollup_daily d {rollup_where} AND d.model <> '' {only}) m
CROSS JOIN LATERAL (
    SELECT s.name, ts.sigma_gradient, ts.sigma_threshold, ts.linearity_error, ts.linearity_spec
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
