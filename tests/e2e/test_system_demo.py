"""`make run` (lta-central demo): central, two agents and two stations, all real processes."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from central.demo import DEMO_ADMIN, STATIONS, Ports, run_system_demo
from tests.e2e.agent_process import free_port

pytestmark = pytest.mark.e2e


def test_the_whole_system_runs_syncs_and_stops_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ports = Ports(central=free_port(), first_agent=free_port())
    while ports.first_agent + 1 == ports.central:  # the second agent takes first_agent + 1
        ports = Ports(central=free_port(), first_agent=free_port())
    seen: dict[str, int] = {}

    def until_both_stations_synced() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            for index, station in enumerate(STATIONS):
                status = httpx.get(
                    f"http://127.0.0.1:{ports.first_agent + index}/api/status", timeout=5
                ).json()
                total = sum(status["counts"].values())
                if total and status["outbox"]["pending"] == 0:
                    seen[station] = total
            if len(seen) == len(STATIONS):
                return
            time.sleep(0.5)

    code = run_system_demo(
        rate_per_minute=600, folder=tmp_path, wait=until_both_stations_synced, ports=ports
    )
    out = capsys.readouterr().out
    assert code == 0
    assert sorted(seen) == sorted(STATIONS), out
    assert f"{DEMO_ADMIN} / " in out and out.count("(shown once)") == 1
    assert f"http://127.0.0.1:{ports.central}/" in out
    for index in range(len(STATIONS)):
        assert f"http://127.0.0.1:{ports.first_agent + index}/" in out
    assert "Stopped." in out
    pid_file = tmp_path / "central" / "pgdata" / "postmaster.pid"
    deadline = time.monotonic() + 30
    while pid_file.exists() and time.monotonic() < deadline:  # central stops its PostgreSQL
        time.sleep(0.2)
    assert not pid_file.exists()
    handles = tmp_path / "central" / "pgdata" / ".handle_pids.json"
    assert not handles.exists() or json.loads(handles.read_text()) == []
