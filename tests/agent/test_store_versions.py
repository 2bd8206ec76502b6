"""Store versions: migrations run forward on upgrade; a newer store is refused untouched."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.analysis.file import analyse_file
from agent.store import reads, writes
from agent.store.database import StoreTooNewError, connect
from agent.store.migrations import (
    AUTO_VACUUM_INCREMENTAL,
    MIGRATIONS,
    ensure_incremental_vacuum,
    migrate,
)
from agent.store.store import Store
from shared.errors import ErrorCode
from shared.models import FileResult
from tests.conftest import STATION
from tests.e2e.agent_process import free_port
from tests.real_truth import IN_REPO


def real_results() -> list[FileResult]:
    return [analyse_file(path) for path in sorted(IN_REPO.glob("*.xls"))]


# How to take a store one version back, newest first: what each later migration added.
_UNDO = {
    8: ("DROP TABLE spec_cache",),
    7: (
        "DROP INDEX results_model",
        "DROP TABLE result_revisions",
        "ALTER TABLE results DROP COLUMN revision_reason",
        "ALTER TABLE results DROP COLUMN revision",
    ),
    6: ("ALTER TABLE tracks DROP COLUMN theory",),
    5: ("DROP INDEX results_age",),
}


def legacy_store(path: Path, version: int, results: list[FileResult]) -> None:
    """A database as an agent of store version `version` left it (no auto_vacuum then).

    The rows are written by today's writer into today's schema, then the
    schema is taken back step by step to `version`, so they are what the
    older agent stored, less only what it did not know.
    """
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    for number, script in enumerate(MIGRATIONS, start=1):
        conn.execute("BEGIN")
        for statement in filter(None, (s.strip() for s in script.split(";"))):
            conn.execute(statement)
        conn.execute("INSERT INTO schema_version VALUES (?, '2025-01-01')", (number,))
        conn.execute("COMMIT")
    conn.row_factory = sqlite3.Row
    for result in results:
        writes.record_file(conn, result, STATION, datetime.now(UTC), None)
    for number in range(len(MIGRATIONS), version, -1):
        for statement in _UNDO[number]:
            conn.execute(statement)
        conn.execute("DELETE FROM schema_version WHERE version = ?", (number,))
    conn.close()


def without_theory(result: FileResult) -> FileResult:
    tracks = [
        t.model_copy(update={"curve": t.curve.model_copy(update={"theory": None})})
        if t.curve is not None
        else t
        for t in result.tracks
    ]
    return result.model_copy(update={"tracks": tracks})


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_new_store_has_the_newest_version_and_incremental_vacuum(store: Store) -> None:
    conn = store.read()
    assert store.schema_version == len(MIGRATIONS) == 8
    assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == AUTO_VACUUM_INCREMENTAL
    assert store.incremental_vacuum
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "results_age" in indexes


def test_an_older_store_is_migrated_forward_and_keeps_every_result(tmp_path: Path) -> None:
    results = real_results()
    path = tmp_path / "agent.sqlite"
    legacy_store(path, 4, results)
    before = sqlite3.connect(path).execute("PRAGMA auto_vacuum").fetchone()[0]
    assert before == 0

    store = Store(path)
    try:
        conn = store.read()
        assert store.schema_version == 8
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_version")]
        assert versions == [1, 2, 3, 4, 5, 6, 7, 8]
        assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == AUTO_VACUUM_INCREMENTAL
        assert reads.count_results(conn) == len(results)
        for item in reads.recent(conn, limit=50):
            loaded = reads.load_result(conn, item["pk"])
            assert loaded is not None
            # every metric and curve as it was stored; the theory volts came with version 6
            assert loaded in [without_theory(r) for r in results]
        plan = " ".join(
            str(row[3])
            for row in conn.execute(
                "EXPLAIN QUERY PLAN SELECT id FROM results WHERE analysed_at < 'x' "
                "ORDER BY analysed_at, id LIMIT 10"
            )
        )
        assert "results_age" in plan
    finally:
        store.close()


def test_a_large_older_store_keeps_its_vacuum_mode_and_still_opens(tmp_path: Path) -> None:
    path = tmp_path / "agent.sqlite"
    legacy_store(path, 4, real_results()[:2])
    conn = connect(path)
    migrate(conn)
    assert ensure_incremental_vacuum(conn, max_bytes=0) is False  # "too large" to VACUUM now
    assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 0
    assert ensure_incremental_vacuum(conn) is True  # small enough with the real limit
    conn.close()


def newer_store(path: Path) -> None:
    legacy_store(path, len(MIGRATIONS), real_results()[:1])
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("INSERT INTO schema_version VALUES (?, '2030-01-01')", (len(MIGRATIONS) + 2,))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def test_a_newer_store_is_refused_with_a_clear_message_and_left_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "data" / "agent.sqlite"
    path.parent.mkdir()
    newer_store(path)
    before = digest(path)
    with pytest.raises(StoreTooNewError) as caught:
        Store(path)
    assert caught.value.code is ErrorCode.STORE_TOO_NEW
    message = caught.value.message
    assert f"store version {len(MIGRATIONS) + 2}" in message
    assert f"up to {len(MIGRATIONS)}" in message
    assert "was not changed" in message and str(path) in message
    assert digest(path) == before
    versions = sqlite3.connect(path).execute("SELECT MAX(version) FROM schema_version")
    assert versions.fetchone()[0] == len(MIGRATIONS) + 2


def test_the_agent_refuses_to_run_on_a_newer_store_and_exits_1(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    newer_store(data / "agent.sqlite")
    before = digest(data / "agent.sqlite")
    env = {
        **os.environ,
        "LTA_AGENT_DATA_DIR": str(data),
        "LTA_AGENT_BIND": f"127.0.0.1:{free_port()}",
        "LTA_AGENT_CONFIG": "",
    }
    done = subprocess.run(
        [sys.executable, "-m", "agent.cli", "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "written by a newer agent" in done.stderr
    assert "Traceback" not in done.stderr
    assert digest(data / "agent.sqlite") == before
