"""What the unit pages need beyond `central.queries.units`: key metrics per search row and
the stations and models a search can be narrowed to.

A search row names a unit; the QA engineer decides which one to open from its
figures, so each row also shows its worst track's linearity error, fail
points, sigma and margin (or how far outside the band a failing track went).
That is one query over the page's result ids (at most a page of them, through
the tracks' primary key), never a scan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from psycopg import sql

from central.db import Database
from shared.models import Status

# A file's verdict is its worst track's (shared.models.worst_status): the row shows that track.
_SEVERITY = sql.SQL("CASE t.status {} ELSE 0 END").format(
    sql.SQL(" ").join(
        sql.SQL("WHEN {} THEN {}").format(sql.Literal(s.value), sql.Literal(s.severity))
        for s in Status
    )
)


@dataclass(frozen=True)
class KeyMetrics:
    """One search row's figures: its worst track (by status, then linearity error / spec)."""

    test_date: datetime | None  # the station's own test time; None: made_at is the analysis time
    track_id: str | None  # None for a file without tracks (unreadable, skipped)
    linearity_error: float | None = None
    linearity_spec: float | None = None
    fail_points: int | None = None
    sigma_gradient: float | None = None
    sigma_threshold: float | None = None
    margin_to_spec: float | None = None  # passing tracks: % of the band width
    max_violation: float | None = None  # failing tracks: the furthest point outside the band
    near_miss: bool = False
    is_anomaly: bool = False


def key_metrics(db: Database, result_ids: list[UUID]) -> dict[UUID, KeyMetrics]:
    """Key metrics of each listed result (ids that do not exist are left out)."""
    if not result_ids:
        return {}
    query = sql.SQL(
        "SELECT r.result_id, r.test_date, w.track_id, w.linearity_error, w.linearity_spec, "
        "w.fail_points, w.sigma_gradient, w.sigma_threshold, w.margin_to_spec, w.max_violation, "
        "COALESCE(w.near_miss, false), COALESCE(w.is_anomaly, false) "
        "FROM results r LEFT JOIN LATERAL ("
        "  SELECT t.track_id, t.linearity_error, t.linearity_spec, t.fail_points, "
        "  t.sigma_gradient, t.sigma_threshold, t.margin_to_spec, t.max_violation, "
        "  t.near_miss, t.is_anomaly "
        "  FROM tracks t WHERE t.result_id = r.result_id "
        "  ORDER BY {severity} DESC, t.linearity_error / NULLIF(t.linearity_spec, 0) "
        "  DESC NULLS LAST, t.track_id LIMIT 1"
        ") w ON true WHERE r.result_id = ANY(%s)"
    ).format(severity=_SEVERITY)
    with db.pool.connection() as conn:
        rows = conn.execute(query, (result_ids,)).fetchall()
    return {row[0]: KeyMetrics(*row[1:]) for row in rows}


def station_names(db: Database) -> list[str]:
    """Every station that may have sent results (revoked ones too: their results stay)."""
    with db.pool.connection() as conn:
        return [name for (name,) in conn.execute("SELECT name FROM stations ORDER BY name")]


def model_names(db: Database) -> list[str]:
    """Every model with results, alphabetically.

    A skip scan over the rollups' (model, day) index: one index probe per
    model, however many days and stations each has.
    """
    query = (
        "WITH RECURSIVE m(model) AS ("
        "  SELECT min(model) FROM rollup_daily"
        "  UNION ALL"
        "  SELECT (SELECT min(d.model) FROM rollup_daily d WHERE d.model > m.model)"
        "  FROM m WHERE m.model IS NOT NULL"
        ") SELECT model FROM m WHERE model IS NOT NULL AND model <> ''"
    )
    with db.pool.connection() as conn:
        return [model for (model,) in conn.execute(query)]
