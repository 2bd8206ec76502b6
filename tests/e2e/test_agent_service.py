"""The real agent process: verdicts through the API, kill -9 safety, start-up failures."""

from __future__ import annotations

import itertools
import os
import random
import shutil
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent.analysis.file import analyse_file
from agent.simulate import simulate_station
from tests.e2e.agent_process import AgentProcess, free_port
from tests.factories import system_a_file
from tests.waiting import wait_for

REAL_SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "real-samples"


def live_agent(data: Path, inbox: Path) -> AgentProcess:
    """Simulated units carry their own (past) test dates; tests about live units turn
    history off (history has its own test below)."""
    return AgentProcess(data, inbox, LTA_AGENT_INBOX__HISTORY_WINDOW_HOURS="0")


pytestmark = pytest.mark.e2e


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    return tmp_path / "data", inbox


def test_each_dropped_file_shows_its_verdict_within_two_seconds(
    dirs: tuple[Path, Path], tmp_path: Path
) -> None:
    data, inbox = dirs
    staging = tmp_path / "staging"
    files = simulate_station(staging, count=8, seed=21)
    with live_agent(data, inbox).start() as agent:
        assert agent.get("/api/status")["latest"] is None
        for source in files:
            expected = analyse_file(source)
            landed = time.monotonic()
            source.replace(inbox / source.name)

            def shown(name: str = source.name):  # type: ignore[no-untyped-def]
                latest = agent.get("/api/status")["latest"]
                return latest if latest and latest["file_name"] == name else None

            latest = wait_for(shown, timeout=2.0)
            assert latest, f"{source.name} not shown within 2 s"
            assert time.monotonic() - landed <= 2.0 + 0.2  # the last poll's own time
            assert latest["status"] == expected.status.value
            assert latest["sha256"] == expected.sha256
        listed = agent.get("/api/results?limit=50")["results"]
        assert [r["file_name"] for r in listed] == [f.name for f in reversed(files)]
        detail = agent.get(f"/api/results/{listed[0]['result_id']}")
        assert detail["tracks"][0]["curve"]["positions"]
        assert agent.terminate() == 0


def test_bad_file_is_listed_as_error_and_agent_goes_on(
    dirs: tuple[Path, Path], tmp_path: Path
) -> None:
    data, inbox = dirs
    with AgentProcess(data, inbox).start() as agent:
        bad = inbox / "8340-1_SN1_TA_Test Data_11-22-2024.xlsx"
        bad.write_text("this is not a workbook")
        old = time.time() - 60
        import os

        os.utime(bad, (old, old))
        simulate_station(inbox, count=2, seed=22)
        results = wait_for(
            lambda: (r := agent.get("/api/results")["results"]) and len(r) == 3 and r, 10.0
        )
        assert results, agent.output()
        errors = [r for r in results if r["status"] == "Error"]
        assert len(errors) == 1 and errors[0]["error"]["code"] == "unreadable_file"
        assert agent.get("/api/status")["counts"]["Error"] == 1


def test_kill_minus_nine_loses_nothing_and_records_nothing_twice(
    dirs: tuple[Path, Path], tmp_path: Path
) -> None:
    data, inbox = dirs
    total = 200
    staging = simulate_station(tmp_path / "staging", count=total, seed=23)
    agent = live_agent(data, inbox)
    arrivals_done = threading.Event()

    def station() -> None:
        for source in staging:
            source.replace(inbox / source.name)
            time.sleep(0.02)
        arrivals_done.set()

    rng = random.Random(5)
    feeder = threading.Thread(target=station)
    kills = 0
    with agent:
        agent.start()
        feeder.start()
        while not arrivals_done.is_set() or kills < 4:
            time.sleep(rng.uniform(0.3, 1.5))
            agent.kill9()
            kills += 1
            agent.start()
        feeder.join()
        status = wait_for(
            lambda: (s := agent.get("/api/status")) and sum(s["counts"].values()) >= total and s,
            timeout=90.0,
            interval=0.5,
        )
        results = agent.get("/api/results?limit=500")["results"]
        assert agent.terminate() == 0
    assert kills >= 4
    assert status and sum(status["counts"].values()) == total
    assert len(results) == total
    assert len({r["sha256"] for r in results}) == total
    assert {r["file_name"] for r in results} == {p.name for p in staging}
    assert status["outbox"]["pending"] == total  # one outbox row per result, none twice


def test_missing_inbox_serves_the_page_and_says_why(tmp_path: Path) -> None:
    """Not an exit: a service restarted every minute never shows its page (issue 14)."""
    with AgentProcess(tmp_path / "data", tmp_path / "no-such-inbox") as agent:
        agent.start(wait=False)
        health = wait_for(lambda: _health(agent), 60)
        assert health is not None and health["status"] == "unhealthy"
        assert "no-such-inbox" in health["reason"] and "LTA_AGENT_INBOX" in health["reason"]
        assert agent.terminate() == 0
    assert "Traceback" not in agent.output()


def _health(agent: AgentProcess) -> dict[str, Any] | None:
    try:
        body: dict[str, Any] = httpx.get(f"{agent.url}/healthz", timeout=1).json()
    except httpx.HTTPError:
        return None
    return body


def test_port_in_use_stops_start(dirs: tuple[Path, Path]) -> None:
    data, inbox = dirs
    port = free_port()
    with AgentProcess(data, inbox, port=port).start():
        second = AgentProcess(data.parent / "data2", inbox, port=port)
        second.start(wait=False)
        assert second.process is not None and second.process.wait(timeout=30) == 1
        assert "already in use" in second.output() and "Traceback" not in second.output()


def test_unwritable_data_folder_stops_start(tmp_path: Path, dirs: tuple[Path, Path]) -> None:
    _, inbox = dirs
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    agent = AgentProcess(blocker / "data", inbox)
    agent.start(wait=False)
    assert agent.process is not None and agent.process.wait(timeout=30) == 1
    assert "not writable" in agent.output() and "Traceback" not in agent.output()


def test_health_and_metrics(dirs: tuple[Path, Path]) -> None:
    data, inbox = dirs
    with AgentProcess(data, inbox).start() as agent:
        simulate_station(inbox, count=3, seed=24)
        wait_for(lambda: len(agent.get("/api/results")["results"]) == 3, 10.0)
        metrics = httpx.get(f"{agent.url}/metrics", timeout=5).text
        assert "lta_files_analysed_total" in metrics
        assert "lta_analysis_seconds_bucket" in metrics
        assert "lta_outbox_pending 3.0" in metrics
        assert httpx.get(f"{agent.url}/healthz", timeout=5).json()["status"] == "ok"


def _status_or_none(agent: AgentProcess) -> dict[str, Any] | None:
    try:
        status: dict[str, Any] = agent.get("/api/status")
    except httpx.HTTPError:
        return None  # not listening yet
    return status


@pytest.mark.skipif(not any(REAL_SAMPLES.glob("*.xls")), reason="needs ../shared/real-samples")
def test_first_start_on_a_folder_of_old_results_counts_only_the_new_unit(
    dirs: tuple[Path, Path], tmp_path: Path
) -> None:
    """IT points the agent at a folder of real station files from 2022-2025 (their mtimes
    as the station left them), then the station saves one unit during the shift."""
    data, inbox = dirs
    old = sorted(REAL_SAMPLES.glob("*.xls"))
    for source in old:
        copy = inbox / source.name
        shutil.copyfile(source, copy)
        tested = analyse_file(source).test_date
        stamp = (tested or datetime(2023, 1, 1)).timestamp()
        os.utime(copy, (stamp, stamp))
    agent = AgentProcess(data, inbox)
    with agent:
        agent.start(wait=False)
        progress: list[dict[str, int]] = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            status = _status_or_none(agent)
            if status and status["history_import"]:
                progress.append(status["history_import"])
            if (
                status
                and status["health"]["scan_age_s"] is not None
                and not (status["history_import"] or status["health"]["files_waiting"])
            ):
                break
            time.sleep(0.02)
        status = agent.get("/api/status")
        assert status["latest"] is None, agent.output()
        assert sum(status["counts"].values()) == 0
        print(f"{len(progress)} progress polls, first {progress[:1]}, last {progress[-1:]}")
        assert progress and progress[0]["found"] == len(old)
        assert [p["done"] for p in progress] == sorted(p["done"] for p in progress)
        assert status["outbox"]["pending"] == len(old)  # history is queued for central

        staging = tmp_path / "staging"
        fresh = system_a_file(
            staging / "8340-1_SN901.xls",
            date_serial=(datetime.now() - datetime(1899, 12, 30)).total_seconds() / 86400,
        )
        fresh.replace(inbox / fresh.name)
        latest = wait_for(
            lambda: (s := agent.get("/api/status"))["latest"] and s["latest"]["file_name"], 10.0
        )
        assert latest == fresh.name
        status = agent.get("/api/status")
        assert sum(status["counts"].values()) == 1
        assert status["counts"][status["latest"]["status"]] == 1
        assert status["history_import"] is None
        listed = agent.get("/api/results?limit=500")["results"]
        assert len(listed) == len(old) + 1
        assert [r["file_name"] for r in listed if not r["history"]] == [fresh.name]
        dates = [r["test_date"] for r in listed if r["history"]]  # newest pk first
        assert all(a >= b for a, b in itertools.pairwise(dates))  # oldest stored first
        page = httpx.get(f"{agent.url}/", timeout=5).text
        assert page.count('class="recent-row') == 1
        assert agent.terminate() == 0
