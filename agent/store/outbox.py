"""The outbox: results waiting for central, read in batches and settled by the writer.

Row states: pending (to send), delivered (central has it: accepted or already
stored), dead (central refused it; kept, shown, resendable with
`lta-agent outbox retry`).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from agent.store.codec import CURVE_COLUMNS, iso, parse_iso
from agent.store.database import transaction
from shared.curves import pack_arrays
from shared.models import FileResult
from shared.protocol import StationResult

CURVE_SELECT = ", ".join(CURVE_COLUMNS)


@dataclass(frozen=True)
class OutboxItem:
    outbox_id: int
    result_id: str
    station: StationResult


def pending(conn: sqlite3.Connection, limit: int) -> list[OutboxItem]:
    """The oldest pending results, ready to send (curves as blobs, straight from storage)."""
    rows = conn.execute(
        "SELECT o.id AS outbox_id, r.id AS pk, r.result_id, r.document, r.revision, "
        "r.revision_reason, r.analysed_at FROM outbox o "
        "JOIN results r ON r.id = o.result_pk WHERE o.state = 'pending' ORDER BY o.id LIMIT ?",
        (limit,),
    ).fetchall()
    items = []
    for row in rows:
        tracks = conn.execute(
            f"SELECT track_id, {CURVE_SELECT}, pass_curves FROM tracks "  # noqa: S608 - constant columns
            "WHERE result_pk = ? AND positions IS NOT NULL",
            (row["pk"],),
        ).fetchall()
        station = StationResult(
            result_id=row["result_id"],
            result=FileResult.model_validate_json(row["document"]),
            curves={t["track_id"]: pack_arrays(tuple(t[c] for c in CURVE_COLUMNS)) for t in tracks},
            pass_curves={t["track_id"]: t["pass_curves"] for t in tracks if t["pass_curves"]},
            **_revision(row),
        )
        items.append(OutboxItem(int(row["outbox_id"]), row["result_id"], station))
    return items


def _revision(row: sqlite3.Row) -> dict[str, object]:
    """A re-analysed result says which revision it is (a first analysis sends nothing new)."""
    if not row["revision"]:
        return {}
    return {
        "revision": row["revision"],
        "revision_reason": row["revision_reason"],
        "first_analysed_at": parse_iso(row["analysed_at"]),
    }


def settle(
    conn: sqlite3.Connection,
    delivered: list[int],
    dead: list[tuple[int, str]],
    now: datetime,
) -> None:
    """Record central's answer for a batch in one transaction."""
    with transaction(conn):
        conn.executemany(
            "UPDATE outbox SET state = 'delivered', delivered_at = ?, attempts = attempts + 1, "
            "last_error = NULL WHERE id = ? AND state = 'pending'",
            [(iso(now), outbox_id) for outbox_id in delivered],
        )
        conn.executemany(
            "UPDATE outbox SET state = 'dead', attempts = attempts + 1, last_error = ? "
            "WHERE id = ? AND state = 'pending'",
            [(reason, outbox_id) for outbox_id, reason in dead],
        )


def note_failure(conn: sqlite3.Connection, outbox_ids: list[int], reason: str) -> None:
    """A batch that could not be delivered stays pending; remember why."""
    with transaction(conn):
        conn.executemany(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?",
            [(reason, outbox_id) for outbox_id in outbox_ids],
        )


def retry_dead(conn: sqlite3.Connection) -> int:
    """Put every dead-letter row back in the queue; returns how many."""
    with transaction(conn):
        cursor = conn.execute("UPDATE outbox SET state = 'pending' WHERE state = 'dead'")
    return cursor.rowcount


def dead_letters(conn: sqlite3.Connection, limit: int = 100) -> list[dict[str, object]]:
    return list(
        Database(conn).query(
            "SELECT o.id, r.result_id, r.file_name, o.attempts, o.last_error FROM outbox o "
            "JOIN results r ON r.id = o.result_pk WHERE o.state = 'dead' ORDER BY o.id LIMIT ?",
            (limit,),
        )
    )
