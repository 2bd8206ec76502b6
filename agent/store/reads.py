"""Queries the page, the API and the watcher make; each is one or two indexed statements.

History results (agent.history) are in the API's lists and reachable by key,
but the shift's views (counts, latest unit, the page's recent list) leave them
out: those read the results_shift and results_live indexes with history = 0.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from agent.store.codec import curve_from_row, iso, parse_iso
from shared.curves import attach_passes
from shared.models import FileResult, Status, TrackResult

SUMMARY_COLUMNS = (
    "r.id AS pk, r.result_id, f.sha256, r.file_name, r.status, r.model, r.serial, r.system, "
    "r.test_date, r.analysed_at, r.error_code, r.error_message, r.near_miss, r.is_anomaly, "
    "r.history, r.revision, r.revision_reason"
)
TRACK_SUMMARY_COLUMNS = (
    "result_pk, track_id, status, points, sigma_gradient, sigma_threshold, linearity_error, "
    "linearity_spec, fail_points, margin_to_spec, max_violation"
)
# Built from constants only; every value goes through a placeholder.
SUMMARY_SQL = f"SELECT {SUMMARY_COLUMNS} FROM results r JOIN files f ON f.id = r.file_id"  # noqa: S608
# How each track's verdict was reached, read from the stored document (null before
# spec-aware verdicts): rotation k, rows left out, the strict verdict beside it.
ADJUSTMENT_SQL = """
    SELECT r.id AS result_pk, json_extract(t.value, '$.track_id') AS track_id,
           json_extract(t.value, '$.adjustment.k') AS k,
           json_array_length(t.value, '$.adjustment.excluded_points') AS left_out,
           json_extract(t.value, '$.strict.linearity_pass') AS strict_pass,
           json_extract(t.value, '$.strict.fail_points') AS strict_fail_points,
           json_extract(t.value, '$.linearity_pass') AS linearity_pass
    FROM results r, json_each(r.document, '$.tracks') t
    WHERE r.id IN ({marks})
"""
COUNTED = (Status.PASS, Status.WARNING, Status.FAIL, Status.ERROR)


def _rows(
    conn: sqlite3.Connection, sql: str, params: list[Any] | tuple[Any, ...]
) -> list[dict[str, Any]]:
    """Rows as plain dicts (sqlite-utils), ready for JSON and templates."""
    return list(Database(conn).query(sql, params))


def _summary(row: dict[str, Any], tracks: list[dict[str, Any]]) -> dict[str, Any]:
    item = dict(row)
    code, message = item.pop("error_code"), item.pop("error_message")
    item["error"] = {"code": code, "message": message} if code else None
    item["near_miss"] = bool(item["near_miss"])
    item["is_anomaly"] = bool(item["is_anomaly"])
    item["history"] = bool(item["history"])
    item["tracks"] = tracks
    return item


def recent(
    conn: sqlite3.Connection,
    limit: int = 50,
    before: int | None = None,
    include_history: bool = True,
) -> list[dict[str, Any]]:
    """Newest first; `before` is the pk of the last item already shown (keyset paging).

    `include_history=False` is the shift's view (the page): history results left out.
    """
    sql = SUMMARY_SQL
    where: list[str] = []
    params: list[Any] = []
    if not include_history:
        where.append("r.history = 0")
    if before is not None:
        where.append("r.id < ?")
        params.append(before)
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY r.id DESC LIMIT ?"
    params.append(limit)
    rows = _rows(conn, sql, params)
    if not rows:
        return []
    pks = [row["pk"] for row in rows]
    tracks: dict[int, list[dict[str, Any]]] = {pk: [] for pk in pks}
    marks = ",".join("?" * len(pks))
    for track in _rows(
        conn,
        f"SELECT {TRACK_SUMMARY_COLUMNS} FROM tracks WHERE result_pk IN ({marks}) "  # noqa: S608 - only placeholders
        "ORDER BY result_pk, track_id",
        pks,
    ):
        tracks[track.pop("result_pk")].append(track)
    _add_adjustments(conn, pks, marks, tracks)
    return [_summary(row, tracks[row["pk"]]) for row in rows]


def _add_adjustments(
    conn: sqlite3.Connection,
    pks: list[int],
    marks: str,
    tracks: dict[int, list[dict[str, Any]]],
) -> None:
    """Each track's `rotated`, `left_out` and strict verdict (`strict_pass`, None when the
    result predates them, `strict_differs` when its linearity verdict is not the strict one)."""
    found = {
        (row["result_pk"], row["track_id"]): row
        for row in _rows(conn, ADJUSTMENT_SQL.format(marks=marks), pks)
    }
    for pk, items in tracks.items():
        for track in items:
            row = found.get((pk, track["track_id"]), {})
            strict_pass, judged_pass = row.get("strict_pass"), row.get("linearity_pass")
            track["rotated"] = bool(row.get("k"))
            track["left_out"] = row.get("left_out") or 0
            track["strict_pass"] = None if strict_pass is None else bool(strict_pass)
            track["strict_fail_points"] = row.get("strict_fail_points")
            track["strict_differs"] = (
                strict_pass is not None
                and judged_pass is not None
                and bool(strict_pass) != bool(judged_pass)
            )


def latest(conn: sqlite3.Connection) -> dict[str, Any] | None:
    """The unit on the machine: the newest result that is not history."""
    items = recent(conn, limit=1, include_history=False)
    return items[0] if items else None


MAX_PK = 2**63 - 1  # SQLite's INTEGER


def find_pk(conn: sqlite3.Connection, key: str) -> int | None:
    """A result by its pk (ASCII digits) or its result_id (UUID); None for any other key.

    `str.isdigit` alone also accepts "²" and other digits `int` refuses, and a pk past
    SQLite's range overflows its binding: both are simply not found.
    """
    if key.isascii() and key.isdigit():
        if len(key) > 19 or int(key) > MAX_PK:
            return None
        row = conn.execute("SELECT id FROM results WHERE id = ?", (int(key),)).fetchone()
    else:
        row = conn.execute("SELECT id FROM results WHERE result_id = ?", (key,)).fetchone()
    return None if row is None else int(row[0])


def load_result(conn: sqlite3.Connection, pk: int) -> FileResult | None:
    """The full result as analysed, curves included."""
    row = conn.execute("SELECT document FROM results WHERE id = ?", (pk,)).fetchone()
    if row is None:
        return None
    result = FileResult.model_validate_json(row["document"])
    stored = {
        t["track_id"]: dict(t)
        for t in conn.execute(
            "SELECT track_id, positions, errors, upper, lower, untrimmed_positions, "
            "untrimmed_errors, theory, pass_curves FROM tracks WHERE result_pk = ?",
            (pk,),
        )
    }
    tracks: list[TrackResult] = []
    for track in result.tracks:
        row = stored.get(track.track_id)
        if row is None:
            tracks.append(track)
            continue
        with_curve = track.model_copy(update={"curve": curve_from_row(row)})
        tracks.append(attach_passes(with_curve, row["pass_curves"]))
    return result.model_copy(update={"tracks": tracks})


def result_meta(conn: sqlite3.Connection, pk: int) -> dict[str, Any] | None:
    rows = _rows(conn, SUMMARY_SQL + " WHERE r.id = ?", (pk,))
    return _summary(rows[0], []) if rows else None


def counts_since(conn: sqlite3.Connection, since: datetime) -> dict[str, int]:
    """The shift's counts by verdict; reads only the results_shift index (history = 0)."""
    counts = {status.value: 0 for status in COUNTED}
    for row in conn.execute(
        "SELECT status, COUNT(*) AS n FROM results WHERE history = 0 AND analysed_at >= ? "
        "GROUP BY status",
        (iso(since),),
    ):
        if row["status"] in counts:
            counts[row["status"]] = int(row["n"])
    return counts


def outbox_stats(conn: sqlite3.Connection, now: datetime) -> dict[str, Any]:
    pending = conn.execute("SELECT COUNT(*) FROM outbox WHERE state = 'pending'").fetchone()[0]
    first = conn.execute(  # rows are queued in time order: the lowest id is the oldest
        "SELECT created_at FROM outbox WHERE state = 'pending' ORDER BY id LIMIT 1"
    ).fetchone()
    dead = conn.execute("SELECT COUNT(*) FROM outbox WHERE state = 'dead'").fetchone()[0]
    oldest = None if first is None else parse_iso(first[0])
    age = None if oldest is None else max(0.0, (now - oldest).total_seconds())
    return {
        "pending": int(pending),
        "oldest_age_s": age,
        "oldest_at": None if oldest is None else oldest.isoformat(),
        "dead": int(dead),
    }


def is_known(conn: sqlite3.Connection, sha256: str) -> bool:
    return conn.execute("SELECT 1 FROM files WHERE sha256 = ?", (sha256,)).fetchone() is not None


def known_by_stat(conn: sqlite3.Connection, path: str, size: int, mtime_ns: int) -> bool:
    """A file recorded from this path with this size and mtime: no need to read it again."""
    row = conn.execute(
        "SELECT 1 FROM files WHERE path = ? AND size_bytes = ? AND mtime_ns = ? LIMIT 1",
        (path, size, mtime_ns),
    ).fetchone()
    return row is not None


def count_history(conn: sqlite3.Connection) -> int:
    """Results stored as history (older than the history window): not on the shift's page."""
    return int(conn.execute("SELECT COUNT(*) FROM results WHERE history = 1").fetchone()[0])


def count_results(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM results").fetchone()[0])


def revision_candidates(
    conn: sqlite3.Connection,
    after_pk: int,
    limit: int,
    since: str | None = None,
    model: str | None = None,
) -> list[dict[str, Any]]:
    """Stored results to re-analyse, by pk after `after_pk` (keyset: a page costs the same
    in a store of any size). `since` (YYYY-MM-DD) keeps units made that day or later: the
    station's test date, else the day they were first analysed; `model` one model.
    """
    sql = (
        "SELECT r.id AS pk, r.result_id, r.revision, r.document, f.sha256, f.path, f.size_bytes "
        "FROM results r JOIN files f ON f.id = r.file_id WHERE r.id > ?"
    )
    params: list[Any] = [after_pk]
    if model is not None:
        sql += " AND r.model = ?"
        params.append(model)
    if since is not None:
        sql += " AND COALESCE(r.test_date, r.analysed_at) >= ?"
        params.append(since)
    sql += " ORDER BY r.id LIMIT ?"
    params.append(limit)
    return _rows(conn, sql, params)


def revisions(conn: sqlite3.Connection, pk: int) -> list[dict[str, Any]]:
    """The earlier revisions of a result, newest first (without their documents)."""
    return _rows(
        conn,
        "SELECT revision, analysed_at, analysis_version, spec_version, status, reason "
        "FROM result_revisions WHERE result_pk = ? ORDER BY revision DESC",
        (pk,),
    )
