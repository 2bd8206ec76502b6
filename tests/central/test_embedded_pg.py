"""The embedded PostgreSQL is stopped by whichever central used it last, even after a kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from central.embedded_pg import HANDLE_LIST, forget_dead_users
from tests.e2e.central_process import CentralProcess


def _postmaster_pid(pg_dir: Path) -> int | None:
    pid_file = pg_dir / "postmaster.pid"
    if not pid_file.exists():
        return None
    return int(pid_file.read_text().splitlines()[0])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_gone(pid: int, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.2)
    return False


class EmbeddedCentral(CentralProcess):
    """`lta-central serve` with no database URL: it starts its embedded PostgreSQL."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__("", data_dir)
        self.env.pop("LTA_CENTRAL_DATABASE_URL", None)


@pytest.mark.e2e
def test_a_killed_central_no_longer_keeps_the_embedded_server_alive(tmp_path: Path) -> None:
    data = tmp_path / "central"
    pg_dir = data / "pgdata"
    first = EmbeddedCentral(data).start()
    assert first.process is not None
    server = _postmaster_pid(pg_dir)
    assert server is not None and _alive(server)
    os.kill(first.process.pid, signal.SIGKILL)
    first.process.wait(timeout=10)
    assert _alive(server)  # nobody stopped it: the next central reuses it

    try:
        with EmbeddedCentral(data) as second:
            second.start()
            assert _postmaster_pid(pg_dir) == server  # reused, not a second cluster
            second.stop()
        assert _wait_gone(server), "the last central to use the server must stop it"
    finally:
        if _alive(server):  # never leave a server behind, even when the test fails
            os.kill(server, signal.SIGTERM)


def test_forget_dead_users_keeps_the_living(tmp_path: Path) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    try:
        (tmp_path / HANDLE_LIST).write_text(json.dumps([dead.pid, sleeper.pid, os.getpid()]))
        assert forget_dead_users(tmp_path) == [dead.pid]
        assert json.loads((tmp_path / HANDLE_LIST).read_text()) == [sleeper.pid, os.getpid()]
        assert forget_dead_users(tmp_path) == []
        (tmp_path / HANDLE_LIST).write_text("not json")
        assert forget_dead_users(tmp_path) == []
        assert forget_dead_users(tmp_path / "missing") == []
    finally:
        sleeper.kill()
        sleeper.wait()
