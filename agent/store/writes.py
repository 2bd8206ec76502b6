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
    return result_pk
