"""Units: search by serial, model, station and date with keyset paging; one unit in full.

Search results are paged by a cursor holding the last row's sort key, so page
50 costs what page 1 does (no OFFSET). Without a serial, units come newest
first through the made_at indexes. With one, a serial matches by
case-insensitive prefix (`sn12` finds `SN12345`) and units come by serial,
each serial's newest first: one walk of the (lower(serial), made_at) index
(migration 007), fast whether the prefix matches five units or half of them
and whenever those were made (newest-first over a rare prefix would read
back through years of results).

A unit's page shows every track with its curves (decoded from the blobs
exactly as the station sent them) and the re-trims of the same serial: every
result of the same model and serial, from any station, oldest first.

The search form lists the stations and models a search can be narrowed to
(`station_names`, `model_names`). A search row names a unit; the QA engineer
decides which one to open from its figures, so each row also shows its worst
track's linearity error, fail points, sigma and margin (or how far outside the
band a failing track went). That is one query over the page's result ids (at
most a page of them, through the tracks' primary key), never a scan.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from psycopg import sql

from central import revisions
from central.db import Database
from central.queries.filters import Filters, QueryError, QueryErrorCode
from central.revisions import RevisionRow
from shared.curves import attach_passes, unpack_curve
from shared.models import FileResult, Status, TrackResult

DEFAULT_PAGE = 50
MAX_PAGE = 500


@dataclass(frozen=True)
class UnitRow:
    result_id: UUID
    made_at: datetime
    station: str
    model: str | None
    serial: str | None
    status: str
    tracks: int
    file_name: str


@dataclass(frozen=True)
class UnitPage:
    rows: list[UnitRow]
    next_cursor: str | None  # pass back as `cursor` for the next (older) page


@dataclass(frozen=True)
class Unit:
    row: UnitRow
    received_at: datetime
    agent_version: str | None
    result: FileResult  # with every track's curve and every pass's curve attached
    retrims: list[UnitRow]  # same model and serial, oldest first, this unit included
    revision: int = 0  # 0 = first analysis (central/revisions.py)
    revision_reason: str | None = None
    revisions: list[RevisionRow] = field(default_factory=list)  # earlier ones, newest first


_ROW = (
    "r.result_id, r.made_at, s.name, r.model, r.serial, r.status, "
    "(SELECT COUNT(*) FROM tracks t WHERE t.result_id = r.result_id), r.file_name"
)


_SERIAL = sql.SQL('lower(r.serial) COLLATE "C"')  # the expression of results_serial_order


def _cursor(row: UnitRow, serial_key: str | None) -> str:
    """Opaque to the caller: the sort key of the last row shown (serial as SQL lowered it)."""
    key = [row.made_at.isoformat(), str(row.result_id)]
    if serial_key is not None:
        key.insert(0, serial_key)
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


MAX_CURSOR = 1024  # characters; the cursors this module gives out are about 150


def _bad_cursor() -> QueryError:
    return QueryError(
        QueryErrorCode.INVALID_CURSOR,
        "The page cursor is not one this search gave out; start again from the first page.",
    )


def _parse_cursor(cursor: str, by_serial: bool) -> tuple[str | None, datetime, UUID]:
    """The sort key a cursor carries; anything else (any shape, any text) is INVALID_CURSOR."""
    if len(cursor) > MAX_CURSOR:
        raise _bad_cursor()
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
    except (ValueError, binascii.Error, RecursionError):  # UnicodeError is a ValueError
        raise _bad_cursor() from None
    size = 3 if by_serial else 2
    if not (
        isinstance(key, list)
        and len(key) == size
        and all(isinstance(k, str) and "\x00" not in k for k in key)
    ):
        raise _bad_cursor()
    try:
        return (key[0] if by_serial else None), datetime.fromisoformat(key[-2]), UUID(key[-1])
    except ValueError:
        raise _bad_cursor() from None


def _like_prefix(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def search_units(
    db: Database,
    filters: Filters,
    serial: str | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE,
) -> UnitPage:
    """Units matching every given criterion, `limit` per page (order: module docstring)."""
    if not 1 <= limit <= MAX_PAGE:
        raise QueryError(QueryErrorCode.INVALID_FILTER, f"A page holds 1 to {MAX_PAGE} units.")
    prefix = (serial or "").strip()
    if len(prefix) > 128:
        raise QueryError(QueryErrorCode.INVALID_FILTER, "A serial is at most 128 characters.")
    if "\x00" in prefix:
        raise QueryError(QueryErrorCode.INVALID_FILTER, "A serial cannot contain a NUL character.")
    by_serial = bool(prefix)
    terms: list[sql.Composable] = [filters.where("r")]
    if by_serial:
        terms.append(sql.SQL("{} LIKE {}").format(_SERIAL, sql.Literal(_like_prefix(prefix))))
    if cursor:
        last_serial, made_at, rid = _parse_cursor(cursor, by_serial)
        newer = sql.SQL("(r.made_at, r.result_id) < ({}, {})").format(
            sql.Literal(made_at), sql.Literal(rid)
        )
        if last_serial is None:
            terms.append(newer)
        else:
            at = sql.Literal(last_serial)
            terms.append(
                sql.SQL("{s} >= {at} AND ({s} > {at} OR ({s} = {at} AND {newer}))").format(
                    s=_SERIAL, at=at, newer=newer
                )
            )
    order: sql.Composable = sql.SQL("r.made_at DESC, r.result_id DESC")
    if by_serial:
        order = sql.SQL("{}, {}").format(_SERIAL, order)
    query = sql.SQL(
        "SELECT {row}, {key} FROM results r JOIN stations s ON s.id = r.station_pk {where} "
        "ORDER BY {order} LIMIT {limit}"
    ).format(
        row=sql.SQL(_ROW),
        key=_SERIAL if by_serial else sql.SQL("NULL"),
        where=sql.SQL(" AND ").join(terms),
        order=order,
        limit=sql.Literal(limit + 1),
    )
    with db.pool.connection() as conn:
        found = conn.execute(query).fetchall()
    rows = [UnitRow(*row[:-1]) for row in found[:limit]]
    if len(found) <= limit:
        return UnitPage(rows=rows, next_cursor=None)
    return UnitPage(rows=rows, next_cursor=_cursor(rows[-1], found[limit - 1][-1]))


def _with_curves(track: TrackResult, curve: bytes | None, passes: bytes | None) -> TrackResult:
    if curve is None:
        return track
    return attach_passes(track.model_copy(update={"curve": unpack_curve(bytes(curve))}), passes)


def unit(db: Database, result_id: UUID) -> Unit | None:
    """One unit in full, or None when no result has this id."""
    with db.pool.connection() as conn:
        found = conn.execute(
            sql.SQL(
                "SELECT {row}, r.received_at, r.agent_version, r.document, r.revision, "
                "r.revision_reason FROM results r "
                "JOIN stations s ON s.id = r.station_pk WHERE r.result_id = %s"
            ).format(row=sql.SQL(_ROW)),
            (result_id,),
        ).fetchone()
        if found is None:
            return None
        blobs = {
            track_id: (curve, passes)
            for track_id, curve, passes in conn.execute(
                "SELECT track_id, curve, pass_curves FROM tracks WHERE result_id = %s",
                (result_id,),
            )
        }
        row = UnitRow(*found[:8])
        earlier = revisions.earlier(conn, result_id) if found[11] else []
        retrims: list[UnitRow] = []
        if row.serial is not None:
            retrims = [
                UnitRow(*r)
                for r in conn.execute(
                    sql.SQL(
                        "SELECT {row} FROM results r JOIN stations s ON s.id = r.station_pk "
                        "WHERE r.serial = %s AND r.model IS NOT DISTINCT FROM %s "
                        "ORDER BY r.made_at, r.result_id"
                    ).format(row=sql.SQL(_ROW)),
                    (row.serial, row.model),
                )
            ]
    document = FileResult.model_validate(found[10])
    tracks = [_with_curves(t, *blobs.get(t.track_id, (None, None))) for t in document.tracks]
    return Unit(
        row=row,
        received_at=found[8],
        agent_version=found[9],
        result=document.model_copy(update={"tracks": tracks}),
        retrims=retrims,
        revision=found[11],
        revision_reason=found[12],
        revisions=earlier,
    )


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
