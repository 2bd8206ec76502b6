"""History results in the real SQLite store: kept, synced and listed, but out of the shift.

Real station files (../shared/real-samples, tested 2022-2025) are analysed and
recorded as history; one more result is recorded as live. No verdict of a
real file is asserted (the readers are still being improved), only what the
history flag does to counts, the latest unit, lists and the outbox.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from agent.analysis.file import analyse_file
from agent.store import outbox, reads
from agent.store.database import connect, transaction
from agent.store.migrations import MIGRATIONS, current_version, migrate
from agent.store.store import Store
from shared.models import FileResult
from tests.conftest import STATION

REAL_SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "real-samples"
SHIFT_START = datetime(2000, 1, 1, tzinfo=UTC)  # every result was analysed after it

needs_samples = pytest.mark.skipif(
    not any(REAL_SAMPLES.glob("*.xls")), reason=f"real station files not at {REAL_SAMPLES}"
)


def real_results(count: int) -> list[FileResult]:
    paths = sorted(REAL_SAMPLES.glob("*.xls"))[:count]
    assert len(paths) == count
    return [analyse_file(path) for path in paths]


def record(store: Store, results: list[FileResult], history: bool) -> None:
    for result in results:
        store.record(result, STATION, datetime.now(UTC), None, history=history)


@needs_samples
def test_history_is_stored_and_queued_but_not_counted_nor_latest(
    store: Store, client: FlaskClient
) -> None:
    *old, new = real_results(11)
    record(store, old, history=True)
    conn = store.read()

    assert reads.latest(conn) is None  # only history so far: the machine has no unit yet
    assert sum(reads.counts_since(conn, SHIFT_START).values()) == 0
    assert reads.recent(conn, include_history=False) == []

    record(store, [new], history=False)
    counts = reads.counts_since(conn, SHIFT_START)
    assert counts[new.status.value] == 1 and sum(counts.values()) == 1
    latest = reads.latest(conn)
    assert latest is not None and latest["file_name"] == new.file_name
    assert latest["history"] is False
    assert [r["file_name"] for r in reads.recent(conn, include_history=False)] == [new.file_name]

    listed = reads.recent(conn, limit=50)  # the API's list: everything, flagged
    assert len(listed) == 11
    assert [r["history"] for r in listed] == [False] + [True] * 10
    queued = outbox.pending(conn, 100)  # history is synced like any result, oldest first
    assert [item.station.result.file_name for item in queued] == [r.file_name for r in [*old, new]]

    status = client.get("/api/status").get_json()
    assert status["latest"]["file_name"] == new.file_name
    assert sum(status["counts"].values()) == 1
    api = client.get("/api/results?limit=50").get_json()["results"]
    assert {r["file_name"] for r in api} == {r.file_name for r in [*old, new]}
    history_pk = next(r["pk"] for r in api if r["history"])
    assert client.get(f"/api/results/{history_pk}").status_code == 200
    assert client.get(f"/units/{history_pk}").status_code == 200
    page = client.get("/").get_data(as_text=True)
    assert page.count('class="recent-row') == 1


def test_shift_counters_read_only_their_index_and_latest_needs_no_sort(store: Store) -> None:
    conn = store.read()
    counts_plan = " ".join(
        row[3]
        for row in conn.execute(
            "EXPLAIN QUERY PLAN SELECT status, COUNT(*) AS n FROM results "
            "WHERE history = 0 AND analysed_at >= ? GROUP BY status",
            ("2024",),
        )
    )
    assert "COVERING INDEX results_shift" in counts_plan
    latest_plan = " ".join(
        row[3]
        for row in conn.execute(
            f"EXPLAIN QUERY PLAN {reads.SUMMARY_SQL} WHERE r.history = 0 ORDER BY r.id DESC LIMIT 1"
        )
    )
    assert "results_live" in latest_plan and "TEMP B-TREE" not in latest_plan


def _row_count(conn: sqlite3.Connection, sql: str) -> int:
    return int(conn.execute(sql).fetchone()[0])


@needs_samples
def test_upgrade_keeps_old_rows_live_and_fills_the_margins(tmp_path: Path) -> None:
    """A store written before the history column: its rows stay counted; margins come
    from the stored documents so the recent list can show them."""
    # The first real file in the folder whose tracks pass (only passes have a margin).
    result = next(
        r
        for r in (analyse_file(p) for p in sorted(REAL_SAMPLES.glob("*.xls")))
        if any(t.margin_to_spec is not None for t in r.tracks)
    )
    path = tmp_path / "agent.sqlite"
    conn = connect(path)
    current_version(conn)
    with transaction(conn):  # the schema as version 2 left it
        for script in MIGRATIONS[:2]:
            for statement in filter(None, (s.strip() for s in script.split(";"))):
                conn.execute(statement)
        conn.execute("INSERT INTO schema_version VALUES (2, '2024-01-01')")
        conn.execute(
            "INSERT INTO files (id, sha256, path, file_name, size_bytes, seen_at, analysed_at, "
            "status) VALUES (1, 'ab', 'p', 'f.xls', 1, 'x', '2024-01-01T00:00:00.000000Z', ?)",
            (result.status.value,),
        )
        conn.execute(
            "INSERT INTO results (id, result_id, file_id, station_id, file_name, status, "
            "analysed_at, document) VALUES (1, 'r1', 1, 's', 'f.xls', ?, "
            "'2024-01-01T00:00:00.000000Z', ?)",
            (result.status.value, result.model_dump_json()),
        )
        for track in result.tracks:
            conn.execute(
                "INSERT INTO tracks (result_pk, track_id, status, points) VALUES (1, ?, ?, ?)",
                (track.track_id, track.status.value, track.points),
            )

    assert migrate(conn) >= 3
    assert _row_count(conn, "SELECT COUNT(*) FROM results WHERE history = 0") == 1
    stored = {
        row["track_id"]: (row["margin_to_spec"], row["max_violation"])
        for row in conn.execute("SELECT track_id, margin_to_spec, max_violation FROM tracks")
    }
    assert stored == {t.track_id: (t.margin_to_spec, t.max_violation) for t in result.tracks}
    assert any(margin is not None for margin, _ in stored.values())
    assert sum(reads.counts_since(conn, SHIFT_START).values()) == 1
    conn.close()
