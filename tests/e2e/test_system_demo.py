"""`make run` (lta-central demo): central, two agents and two stations, all real processes."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from html import unescape
from pathlib import Path

import httpx
import pytest

from central.demo import DEMO_ADMIN, DRIFTING, STATIONS, Ports, run_system_demo
from tests.central.auth_helpers import CSRF_INPUT
from tests.e2e.agent_process import free_port

pytestmark = pytest.mark.e2e


def test_the_whole_system_runs_syncs_and_stops_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ports = Ports(central=free_port(), first_agent=free_port())
    while ports.first_agent + 1 == ports.central:  # the second agent takes first_agent + 1
        ports = Ports(central=free_port(), first_agent=free_port())
    seen: dict[str, int] = {}
    printed: list[str] = []
    tried: dict[str, str] = {}

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
                printed.append(capsys.readouterr().out)
                tried.update(try_the_alarm_workflow(ports.central, "".join(printed)))
                return
            time.sleep(0.5)

    code = run_system_demo(
        rate_per_minute=600, folder=tmp_path, wait=until_both_stations_synced, ports=ports
    )
    out = "".join(printed) + capsys.readouterr().out
    assert code == 0
    assert tried.get("acknowledged") in {f"{s} {m}" for s, m in DRIFTING}, tried
    assert tried.get("silent") == "none", tried
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


def try_the_alarm_workflow(port: int, printed: str) -> dict[str, str]:
    """What the README tells a newcomer to do: sign in as the demo admin, find the drift
    alarm on the overview (within the first minute), acknowledge it with a cause."""
    found = re.search(rf"{DEMO_ADMIN} / (\S+)", printed)
    assert found, printed
    base = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=base, timeout=10) as browser:
        form = browser.get("/login")
        token = CSRF_INPUT.search(form.text)
        assert token
        signed = browser.post(
            "/login",
            data={"csrf_token": token.group(1), "name": DEMO_ADMIN, "password": found.group(1)},
        )
        assert signed.status_code == 303
        deadline = time.monotonic() + 60
        drift = None
        while drift is None and time.monotonic() < deadline:
            page = browser.get("/").text
            drift = re.search(
                r'<tr data-alarm-id="(\d+)" data-kind="drift" data-station="([^"]+)"'
                r'.*?href="/models/([^"?]+)\?',
                page,
                re.S,
            )
            if drift is None:
                time.sleep(1)
        assert drift, "no open drift alarm on the overview within a minute"
        silent = 'data-kind="silent"' in page
        alarm_id, station, model = drift.groups()
        csrf = CSRF_INPUT.search(page)
        assert csrf
        done = browser.post(
            f"/alarms/{alarm_id}/acknowledge",
            data={
                "csrf_token": csrf.group(1),
                "cause": "laser",
                "note": "focus cleaned",
                "next": "/",
            },
        )
        assert done.status_code == 303, done.text[:500]
        after = unescape(browser.get("/").text)
        assert "focus cleaned" in after
        units = browser.get(f"/units?station={STATIONS[0]}").text  # newest first
        made = [
            datetime.strptime(m, "%Y-%m-%d %H:%M")
            for m in re.findall(r"(\d{4}-\d\d-\d\d \d\d:\d\d)", units)
        ]
        assert made and max(made) <= datetime.now()
    return {"acknowledged": f"{station} {model}", "silent": "yes" if silent else "none"}
