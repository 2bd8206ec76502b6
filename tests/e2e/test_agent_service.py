"""The real agent process: verdicts through the API, kill -9 safety, start-up failures."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import httpx
import pytest

from agent.analysis.file import analyse_file
from agent.simulate import simulate_station
from tests.e2e.agent_process import AgentProcess, free_port
from tests.waiting import wait_for

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
    with AgentProcess(data, inbox).start() as agent:
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
    agent = AgentProcess(data, inbox)
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


def test_missing_inbox_stops_start_with_one_clear_message(tmp_path: Path) -> None:
    agent = AgentProcess(tmp_path / "data", tmp_path / "no-such-inbox")
    agent.start(wait=False)
    assert agent.process is not None
    assert agent.process.wait(timeout=30) == 1
    out = agent.output()
    assert "does not exist" in out and "LTA_AGENT_INBOX" in out and "Traceback" not in out


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
