"""Per-station counts, for IT scripts and the end-to-end tests."""

from __future__ import annotations

from typing import Any

from central.db import Database


def station_stats(db: Database) -> list[dict[str, Any]]:
    with db.pool.connection() as conn:
        rows = conn.execute(
            "SELECT s.name, s.revoked_at IS NOT NULL, "
            "(SELECT COUNT(*) FROM results r WHERE r.station_pk = s.id), "
            "(SELECT COUNT(DISTINCT r.result_id) FROM results r WHERE r.station_pk = s.id), "
            "(SELECT COUNT(*) FROM tracks t JOIN results r ON r.result_id = t.result_id "
            " WHERE r.station_pk = s.id), "
            "s.last_seen_at, h.outbox_pending, h.received_at "
            "FROM stations s LEFT JOIN heartbeats h ON h.station_pk = s.id ORDER BY s.name"
        ).fetchall()
    return [
        {
            "station": name,
            "revoked": revoked,
            "results": int(results),
            "distinct_result_ids": int(distinct),
            "tracks": int(tracks),
            "last_seen_at": seen.isoformat() if seen else None,
            "outbox_pending": pending,
            "last_heartbeat_at": beat.isoformat() if beat else None,
        }
        for name, revoked, results, distinct, tracks, seen, pending, beat in rows
    ]
