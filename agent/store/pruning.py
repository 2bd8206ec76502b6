"""Pruning the station store: the SQL of retention, one small transaction per call.

What is pruned: results older than the retention window (by `analysed_at`) whose
outbox row is `delivered` (central has them). A pending or dead result is never
touched, whatever its age, and neither are the newest KEEP_NEWEST results (a
station idle for months still shows its last units). Curves go first (the blobs
are ~95 % of a result's ~21 KB), then the rows: outbox, tracks, result.

The `files` row of a pruned result stays as a tombstone (SHA-256, path, size,
mtime: a few hundred bytes): the watcher recognises a file by it, so a file
still in the station's folder is never analysed again as new. Tombstones whose
file is gone from its watched folder are dropped later (agent.retention), so
the store stays bounded even for a station that never clears its folder.

Each function is one writer call: the operator page never waits (readers see
the WAL snapshot) and a file's verdict waits for at most one batch.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from agent.store.codec import CURVE_COLUMNS
from agent.store.database import transaction
from agent.store.migrations import AUTO_VACUUM_INCREMENTAL

KEEP_NEWEST = 50  # the page's recent list: never pruned, however old
_BLOBS = (*CURVE_COLUMNS, "pass_curves")
_CLEAR_BLOBS = ", ".join(f"{c} = NULL" for c in _BLOBS)
_ANY_BLOB = " OR ".join(f"{c} IS NOT NULL" for c in _BLOBS)


@dataclass(frozen=True)
class Position:
    """Where a pruning pass has got to: (analysed_at, pk) of the last result it handled."""

    analysed_at: str = ""
    pk: int = 0


@dataclass(frozen=True)
class Batch:
    count: int  # results handled in this batch
    position: Position  # where the next batch starts
    done: bool  # nothing more to prune in this pass


def _newest_kept(conn: sqlite3.Connection) -> int:
    """The pk from which results are kept regardless of age: the newest KEEP_NEWEST, and
    the newest KEEP_NEWEST of the shift's view (the page leaves history out)."""
    kept = []
    for where in ("", "WHERE history = 0"):
        row = conn.execute(
            f"SELECT id FROM results {where} ORDER BY id DESC LIMIT 1 OFFSET ?",  # noqa: S608
            (KEEP_NEWEST - 1,),
        ).fetchone()
        kept.append(0 if row is None else int(row[0]))
    return min(kept)


def _expired(
    conn: sqlite3.Connection, cutoff: str, after: Position, limit: int
) -> list[tuple[int, str]]:
    """Delivered results analysed before `cutoff`, oldest first, after `after` (keyset).

    Walks the results_age index, so a batch costs the same in a store of any size;
    the outbox row is found through its unique result_pk index. (`+o.state` keeps
    SQLite from scanning every delivered row by outbox_state and sorting them.)
    """
    rows = conn.execute(
        "SELECT r.id, r.analysed_at FROM results r JOIN outbox o ON o.result_pk = r.id "
        "WHERE r.analysed_at < ? AND r.analysed_at >= ? "
        "AND (r.analysed_at > ? OR r.id > ?) AND r.id < ? AND +o.state = 'delivered' "
        "ORDER BY r.analysed_at, r.id LIMIT ?",
        (cutoff, after.analysed_at, after.analysed_at, after.pk, _newest_kept(conn), limit),
    ).fetchall()
    return [(int(row[0]), str(row[1])) for row in rows]


def _batch(rows: list[tuple[int, str]], after: Position, limit: int) -> Batch:
    position = Position(rows[-1][1], rows[-1][0]) if rows else after
    return Batch(count=len(rows), position=position, done=len(rows) < limit)


def prune_curves(conn: sqlite3.Connection, cutoff: str, after: Position, limit: int) -> Batch:
    """Drop the curve blobs of up to `limit` expired delivered results (one transaction)."""
    with transaction(conn):
        rows = _expired(conn, cutoff, after, limit)
        if rows:
            marks = ",".join("?" * len(rows))
            conn.execute(
                f"UPDATE tracks SET {_CLEAR_BLOBS} "  # noqa: S608 - constant columns, placeholders
                f"WHERE result_pk IN ({marks}) AND ({_ANY_BLOB})",
                [pk for pk, _ in rows],
            )
    return _batch(rows, after, limit)


def prune_rows(conn: sqlite3.Connection, cutoff: str, after: Position, limit: int) -> Batch:
    """Delete up to `limit` expired delivered results; their files rows stay as tombstones."""
    with transaction(conn):
        rows = _expired(conn, cutoff, after, limit)
        if rows:
            pks = [pk for pk, _ in rows]
            marks = ",".join("?" * len(pks))
            for table, column in (("outbox", "result_pk"), ("tracks", "result_pk")):
                conn.execute(
                    f"DELETE FROM {table} WHERE {column} IN ({marks})",  # noqa: S608 - constants
                    pks,
                )
            conn.execute(f"DELETE FROM results WHERE id IN ({marks})", pks)  # noqa: S608
    return _batch(rows, after, limit)


def tombstones(
    conn: sqlite3.Connection, cutoff: str, after_id: int, limit: int
) -> list[tuple[int, str]]:
    """(id, path) of files rows older than `cutoff` with no result, after `after_id`.

    These are pruned results' tombstones and skipped files (which never had a
    result). Read-only: the caller checks the paths outside the writer.
    """
    rows = conn.execute(
        "SELECT f.id, f.path FROM files f WHERE f.id > ? AND f.analysed_at < ? "
        "AND NOT EXISTS (SELECT 1 FROM results r WHERE r.file_id = f.id) ORDER BY f.id LIMIT ?",
        (after_id, cutoff, limit),
    ).fetchall()
    return [(int(row[0]), str(row[1])) for row in rows]


def drop_tombstones(conn: sqlite3.Connection, ids: list[int]) -> int:
    """Delete these tombstones (files gone from their folder); a row with a result stays."""
    if not ids:
        return 0
    marks = ",".join("?" * len(ids))
    with transaction(conn):
        cursor = conn.execute(
            f"DELETE FROM files WHERE id IN ({marks}) "  # noqa: S608 - only placeholders
            "AND NOT EXISTS (SELECT 1 FROM results r WHERE r.file_id = files.id)",
            ids,
        )
    return cursor.rowcount


def vacuum_step(conn: sqlite3.Connection, pages: int) -> int:
    """Give up to `pages` free pages back to the disk; returns the free pages left.

    Only with auto_vacuum=INCREMENTAL (otherwise free pages stay in the file and
    are reused by later writes). The pragma frees one page per step and returns
    no rows, so `execute` would step it once: `executescript` runs it to the end,
    in one transaction of its own.
    """
    if conn.execute("PRAGMA auto_vacuum").fetchone()[0] == AUTO_VACUUM_INCREMENTAL:
        conn.executescript(f"PRAGMA incremental_vacuum({int(pages)})")
    return int(conn.execute("PRAGMA freelist_count").fetchone()[0])


def store_pages(conn: sqlite3.Connection) -> dict[str, int]:
    """Size figures for reports: page size, pages in the file, free pages among them."""
    return {
        "page_size": int(conn.execute("PRAGMA page_size").fetchone()[0]),
        "page_count": int(conn.execute("PRAGMA page_count").fetchone()[0]),
        "freelist_count": int(conn.execute("PRAGMA freelist_count").fetchone()[0]),
    }
