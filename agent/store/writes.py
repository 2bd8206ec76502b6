"""The only code that writes results: one transaction per file."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from agent.store.codec import curve_columns, document, iso
from agent.store.database import transaction
from shared.curves import pack_passes
from shared.ids import result_id
from shared.models import FileResult, Status


@dataclass(frozen=True)
class Recorded:
    """What recording a file did: a new result, only a file row, or nothing (seen before)."""

    result_pk: int | None
    new: bool


def record_file(
    conn: sqlite3.Connection,
    result: FileResult,
    station_id: str,
    seen_at: datetime,
    mtime_ns: int | None,
    history: bool = False,
) -> Recorded:
    """Store the file, its result, tracks with curves and an outbox row, atomically.

    A file already recorded (same SHA-256) is left exactly as it is. Skipped
    files get a file row (so they are not read again) but no result. A
    `history` result (too old for the shift, see agent.history) is stored and
    queued for central like any other; only the shift's views leave it out.
    """
    if result.sha256 is None or result.size_bytes is None:
        raise ValueError("only files that were read (sha256 and size known) can be recorded")
    with transaction(conn):
        cursor = conn.execute(
            "INSERT INTO files (sha256, path, file_name, size_bytes, mtime_ns, seen_at, "
            "analysed_at, status, error_code, error_message) VALUES (?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT(sha256) DO NOTHING",
            (
                result.sha256,
                result.path,
                result.file_name,
                result.size_bytes,
                mtime_ns,
                iso(seen_at),
                iso(result.analysed_at),
                result.status.value,
                result.error.code if result.error else None,
                result.error.message if result.error else None,
            ),
        )
        if cursor.rowcount == 0:
            return Recorded(result_pk=None, new=False)
        file_id = cursor.lastrowid
        if result.status is Status.SKIPPED:
            return Recorded(result_pk=None, new=True)
        result_pk = _insert_result(conn, result, station_id, file_id, history)
        conn.execute(
            "INSERT INTO outbox (result_pk, created_at) VALUES (?, ?)",
            (result_pk, iso(result.analysed_at)),
        )
    return Recorded(result_pk=result_pk, new=True)


def _insert_result(
    conn: sqlite3.Connection,
    result: FileResult,
    station_id: str,
    file_id: int | None,
    history: bool,
) -> int:
    assert result.sha256 is not None  # noqa: S101 - checked by record_file
    cursor = conn.execute(
        "INSERT INTO results (result_id, file_id, station_id, file_name, status, system, model, "
        "serial, test_date, analysed_at, error_code, error_message, near_miss, is_anomaly, "
        "history, document) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            result_id(station_id, result.sha256),
            file_id,
            station_id,
            result.file_name,
            result.status.value,
            result.system,
            result.model,
            result.serial,
            result.test_date.isoformat() if result.test_date else None,
            iso(result.analysed_at),
            result.error.code if result.error else None,
            result.error.message if result.error else None,
            int(any(t.near_miss for t in result.tracks)),
            int(any(t.is_anomaly for t in result.tracks)),
            int(history),
            document(result),
        ),
    )
    result_pk = int(cursor.lastrowid or 0)
    _insert_tracks(conn, result_pk, result)
    return result_pk


def _insert_tracks(conn: sqlite3.Connection, result_pk: int, result: FileResult) -> None:
    conn.executemany(
        "INSERT INTO tracks (result_pk, track_id, status, points, sigma_gradient, "
        "sigma_threshold, linearity_error, linearity_spec, optimal_offset, fail_points, "
        "margin_to_spec, max_violation, "
        "positions, errors, upper, lower, untrimmed_positions, untrimmed_errors, theory, "
        "pass_curves) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            (
                result_pk,
                t.track_id,
                t.status.value,
                t.points,
                t.sigma_gradient,
                t.sigma_threshold,
                t.linearity_error,
                t.linearity_spec,
                t.optimal_offset,
                t.fail_points,
                t.margin_to_spec,
                t.max_violation,
                *curve_columns(t.curve).values(),
                pack_passes(t),
            )
            for t in result.tracks
        ],
    )


@dataclass(frozen=True)
class Revision:
    """A re-analysed result replacing the stored one (agent.reanalysis).

    `previous` is the stored revision it was computed against: the write
    happens only if the result is still at that revision (nobody revised it
    meanwhile), so a revision is never lost or written twice.
    """

    result_pk: int
    previous: int
    result: FileResult
    reason: str


def record_revisions(conn: sqlite3.Connection, revisions: list[Revision]) -> list[int]:
    """Store new revisions in one transaction; returns the pks actually revised.

    For each: the stored document moves to result_revisions, the result row
    takes the new verdict and figures (its first-analysis time, history flag,
    file and result id stay), the tracks are rewritten, and the outbox row is
    queued again under a new id (a sync that is sending the old revision right
    now settles an id that no longer exists, so the new one is still sent).
    """
    revised: list[int] = []
    with transaction(conn):
        for item in revisions:
            old = conn.execute(
                "SELECT revision, revision_reason, status, document FROM results "
                "WHERE id = ? AND revision = ?",
                (item.result_pk, item.previous),
            ).fetchone()
            if old is None:
                continue
            stored = FileResult.model_validate_json(old["document"])
            conn.execute(
                "INSERT INTO result_revisions (result_pk, revision, analysed_at, "
                "analysis_version, spec_version, status, reason, document) "
                "VALUES (?,?,?,?,?,?,?,?)",
                (
                    item.result_pk,
                    old["revision"],
                    iso(stored.analysed_at),
                    stored.analysis_version,
                    stored.spec_version,
                    old["status"],
                    old["revision_reason"],
                    old["document"],
                ),
            )
            r = item.result
            conn.execute(
                "UPDATE results SET revision = ?, revision_reason = ?, status = ?, system = ?, "
                "model = ?, serial = ?, test_date = ?, error_code = ?, error_message = ?, "
                "near_miss = ?, is_anomaly = ?, document = ? WHERE id = ?",
                (
                    item.previous + 1,
                    item.reason,
                    r.status.value,
                    r.system,
                    r.model,
                    r.serial,
                    r.test_date.isoformat() if r.test_date else None,
                    r.error.code if r.error else None,
                    r.error.message if r.error else None,
                    int(any(t.near_miss for t in r.tracks)),
                    int(any(t.is_anomaly for t in r.tracks)),
                    document(r),
                    item.result_pk,
                ),
            )
            conn.execute("DELETE FROM tracks WHERE result_pk = ?", (item.result_pk,))
            _insert_tracks(conn, item.result_pk, r)
            _queue_again(conn, item.result_pk, iso(r.analysed_at))
            revised.append(item.result_pk)
    return revised


def _queue_again(conn: sqlite3.Connection, result_pk: int, created_at: str) -> None:
    """The result's outbox row, pending again under a new id, last in the queue.

    A new id (never the old one, nor any id in use), because the sync job settles
    rows by id: its answer for the revision it was sending must not settle this one.
    """
    cursor = conn.execute(
        "UPDATE outbox SET id = (SELECT MAX(id) + 1 FROM outbox), state = 'pending', "
        "created_at = ?, attempts = 0, last_error = NULL, delivered_at = NULL "
        "WHERE result_pk = ?",
        (created_at, result_pk),
    )
    if cursor.rowcount == 0:
        conn.execute(
            "INSERT INTO outbox (result_pk, created_at) VALUES (?, ?)", (result_pk, created_at)
        )
