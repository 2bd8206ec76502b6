"""A full disk under the station store: nothing stored is lost, nothing new is dropped.

The real test mounts a small tmpfs for the data folder (CI runs as root;
elsewhere it is skipped with the reason), fills it to the last byte, and keeps
dropping station files into the inbox (on another disk) while the real
watcher, store and web app run. A second test reaches SQLite's own "database
or disk is full" through `PRAGMA max_page_count`, which needs no root.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from agent.analysis.file import analyse_content
from agent.history import HistoryWindow
from agent.runtime import Runtime
from agent.simulate import simulate_station
from agent.store import reads
from agent.store.database import StoreFullError, connect, is_disk_full
from agent.store.store import Store
from agent.watcher import Watcher
from agent.web import create_app
from agent.web.context import AgentContext
from shared.errors import ErrorCode
from tests.real_truth import IN_REPO

TMPFS_SIZE = "8m"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MB tmpfs, unmounted afterwards whatever happens."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the disk-full test mounts a Linux tmpfs")
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs the tests as root)")
    mountpoint = tmp_path / "small-disk"
    mountpoint.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def fill_disk(folder: Path) -> Path:
    """Write a filler file until not one more byte fits; returns it."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as handle:
        for chunk in (1 << 20, 1 << 16, 1 << 12, 1 << 9, 1):
            with contextlib.suppress(OSError):
                while True:
                    handle.write(b"\0" * chunk)
    assert shutil.disk_usage(folder).free == 0
    return filler


def make_app(store: Store, runtime: Runtime) -> FlaskClient:
    app = create_app(AgentContext(store=store, runtime=runtime, shift_starts=()))
    app.config["TESTING"] = True
    return app.test_client()


def make_watcher(inbox: Path, store: Store, runtime: Runtime, clock: Clock) -> Watcher:
    return Watcher(
        inboxes=[inbox],
        store=store,
        analyse=lambda path, content, sha256: analyse_content(path, content, None, sha256),
        runtime=runtime,
        settle_s=0.3,
        poll_interval_s=1.0,
        clock=clock,
        history_window=HistoryWindow(0),  # every file is this shift's: shown as the latest
    )


def rounds(watcher: Watcher, clock: Clock, n: int = 3) -> int:
    recorded = 0
    for _ in range(n):
        clock.now += 1.0
        recorded += watcher.tick()
    return recorded


def stored(store: Store) -> dict[str, object]:
    """Every stored result in full (curves included), by result id."""
    conn = store.read()
    return {
        item["result_id"]: reads.load_result(conn, item["pk"])
        for item in reads.recent(conn, limit=500)
    }


def test_a_full_disk_loses_nothing_and_every_file_is_recorded_once_space_returns(
    small_disk: Path, tmp_path: Path, runtime: Runtime
) -> None:
    inbox, arriving = tmp_path / "inbox", tmp_path / "station-writes"
    inbox.mkdir()
    store = Store(small_disk / "data" / "agent.sqlite")
    store.space.probe_every_s = 0.0  # look for space at every round
    clock = Clock()
    watcher = make_watcher(inbox, store, runtime, clock)
    for path in sorted(IN_REPO.glob("*.xls")):
        shutil.copy(path, inbox / path.name)
    assert rounds(watcher, clock) == len(list(IN_REPO.glob("*.xls")))
    before = stored(store)
    latest = reads.latest(store.read())
    assert latest is not None

    # No slack left anywhere: the WAL emptied into the database, then the disk filled.
    emptied = store.writer.call(
        lambda conn: tuple(conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone())
    )
    assert emptied == (0, 0, 0)
    filler = fill_disk(small_disk)
    client = make_app(store, runtime)

    units = simulate_station(arriving, count=12, seed=21)
    for batch in (units[:4], units[4:8], units[8:]):  # files keep arriving while it is full
        for unit in batch:
            shutil.move(unit, inbox / unit.name)
        assert rounds(watcher, clock) == 0
        assert store.disk_full
        assert reads.count_results(store.read()) == len(list(IN_REPO.glob("*.xls")))

    assert watcher.waiting == 12  # none of them marked seen
    assert runtime.last_error is not None and "is full" in runtime.last_error
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json["store"] == "disk_full" and "disk full" in health.json["reason"]
    status = client.get("/api/status").json
    assert status["health"]["disk_full"]["folder"] == str(small_disk / "data")
    assert status["latest"]["pk"] == latest["pk"]  # the last verdict it could store
    page = client.get("/").get_data(as_text=True)
    assert "DISK FULL" in page and latest["serial"] in page

    # A restart while the disk is full: it opens (with the reserve's room), shows what it
    # has, says so, and keeps the files waiting rather than spend that room.
    store.close()
    store = Store(small_disk / "data" / "agent.sqlite")
    store.space.probe_every_s = 0.0
    assert store.disk_full
    assert stored(store) == before
    assert store.read().execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    watcher.store = store
    client = make_app(store, runtime)
    assert "DISK FULL" in client.get("/").get_data(as_text=True)
    assert rounds(watcher, clock) == 0

    filler.unlink()  # IT frees space
    recorded = rounds(watcher, clock, 5)
    assert recorded == 12 and not store.disk_full
    conn = store.read()
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    after = stored(store)
    assert {k: after[k] for k in before} == before  # earlier results intact, curves included
    names = [row[0] for row in conn.execute("SELECT file_name FROM files")]
    assert sorted(names) == sorted([p.name for p in inbox.iterdir()])  # each file once
    assert client.get("/healthz").status_code == 200
    assert "DISK FULL" not in client.get("/").get_data(as_text=True)
    store.close()


def test_sqlite_full_rolls_back_and_the_store_goes_on(
    tmp_path: Path, runtime: Runtime, store: Store
) -> None:
    """SQLite's own SQLITE_FULL (a page limit stands in for the disk): no root needed."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    clock = Clock()
    store.space.probe_every_s = 0.0
    watcher = make_watcher(inbox, store, runtime, clock)
    simulate_station(inbox, count=1, seed=3)
    assert rounds(watcher, clock) == 1

    limit = store.read().execute("PRAGMA page_count").fetchone()[0]
    store.writer.call(lambda conn: conn.execute(f"PRAGMA max_page_count = {limit}").fetchall())
    simulate_station(tmp_path / "more", count=3, seed=4)
    for unit in (tmp_path / "more").iterdir():
        shutil.move(unit, inbox / unit.name)
    assert rounds(watcher, clock) == 0
    assert store.disk_full and watcher.waiting == 3
    with pytest.raises(StoreFullError) as caught:  # what every writer sees
        store.writer.call(
            lambda conn: conn.execute(
                "INSERT INTO files (sha256, path, file_name, size_bytes, seen_at, analysed_at, "
                "status) VALUES ('x', zeroblob(100000), 'f', 1, 'x', 'x', 'Pass')"
            )
        )
    assert caught.value.code is ErrorCode.DISK_FULL
    assert reads.count_results(store.read()) == 1

    store.writer.call(lambda conn: conn.execute("PRAGMA max_page_count = 1073741823").fetchall())
    assert rounds(watcher, clock) == 3  # the probe finds room, the files are stored
    assert not store.disk_full and reads.count_results(store.read()) == 4


def test_a_transaction_sqlite_already_rolled_back_reports_the_first_error(
    tmp_path: Path,
) -> None:
    from agent.store.database import transaction

    conn = connect(tmp_path / "agent.sqlite")
    conn.execute("CREATE TABLE t (b BLOB)")
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(sqlite3.OperationalError) as caught, transaction(conn):
        conn.execute("INSERT INTO t VALUES (zeroblob(1000000))")
    assert is_disk_full(caught.value)
    assert not conn.in_transaction
    conn.execute("PRAGMA max_page_count = 1073741823")
    with transaction(conn):  # the connection is ready for the next transaction
        conn.execute("INSERT INTO t VALUES (zeroblob(10))")
    assert conn.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 1
    conn.close()


def test_space_errors_are_told_apart_from_other_errors() -> None:
    import errno

    assert is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))
    assert not is_disk_full(sqlite3.OperationalError("no such table: x"))
