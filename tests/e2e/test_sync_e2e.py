"""Agent and central as real processes: every result reaches PostgreSQL exactly once."""

from __future__ import annotations

import random
import shutil
import time
from pathlib import Path

import httpx
import pytest

from agent.simulate import simulate_station
from tests.e2e.agent_process import AgentProcess
from tests.e2e.central_process import CentralProcess
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e
STATION = "e2e-station"
SYNC_ENV = {"LTA_AGENT_CENTRAL__SYNC_INTERVAL_S": "0.5"}


def central_count(central: CentralProcess) -> tuple[int, int]:
    row = central.stats().get(STATION, {"results": 0, "distinct_result_ids": 0})
    return row["results"], row["distinct_result_ids"]


def drop(files: list[Path], inbox: Path) -> None:
    for path in files:
        shutil.copy(path, inbox / path.name)


def agent_ids(agent: AgentProcess) -> set[str]:
    ids: set[str] = set()
    before = ""
    while True:
        page = agent.get(f"/api/results?limit=500{before}")
        ids |= {r["result_id"] for r in page["results"]}
        if page["next_before"] is None:
            return ids
        before = f"&before={page['next_before']}"


def test_outage_and_recovery_deliver_every_result_exactly_once(
    database_url: str, tmp_path: Path
) -> None:
    files = simulate_station(tmp_path / "staging", count=800, seed=51)
    first, second = files[:500], files[500:]
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    central = CentralProcess(database_url, tmp_path / "central")
    token = central.add_station(STATION)
    env = {"LTA_AGENT_CENTRAL_URL": central.url, "LTA_AGENT_CENTRAL_TOKEN": token, **SYNC_ENV}
    with central.start(), AgentProcess(tmp_path / "data", inbox, **env).start() as agent:
        drop(first, inbox)
        assert wait_for(lambda: central_count(central) == (500, 500), 120), central_count(central)
        assert len(agent_ids(agent)) == 500
        status = agent.get("/api/status")
        assert status["outbox"]["pending"] == 0 and status["central"]["reachable"] is True

        central.stop()
        drop(second, inbox)
        status = wait_for(
            lambda: (s := agent.get("/api/status"))["outbox"]["pending"] == 300 and s, 120
        )
        assert status, agent.get("/api/status")
        status = wait_for(
            lambda: (s := agent.get("/api/status"))["central"]["reachable"] is False and s, 30
        )
        assert status and status["outbox"]["oldest_age_s"] > 0
        page = httpx.get(agent.url + "/", timeout=5).text
        assert "300 pending" in page and "unreachable" in page

        central.start()
        assert wait_for(lambda: central_count(central) == (800, 800), 420), central_count(central)
        assert wait_for(lambda: agent.get("/api/status")["outbox"]["pending"] == 0, 30)
        assert len(agent_ids(agent)) == 800
        assert central.stats()[STATION]["tracks"] > 800


def test_kill_minus_nine_during_sync_loses_and_duplicates_nothing(
    database_url: str, tmp_path: Path
) -> None:
    files = simulate_station(tmp_path / "staging", count=200, seed=52)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    central = CentralProcess(database_url, tmp_path / "central")
    token = central.add_station(STATION)
    env = {"LTA_AGENT_CENTRAL_URL": central.url, "LTA_AGENT_CENTRAL_TOKEN": token, **SYNC_ENV}
    rng = random.Random(7)
    agent = AgentProcess(tmp_path / "data", inbox, **env)
    with central.start(), agent:
        agent.start()
        for chunk in range(5):
            drop(files[chunk * 40 : (chunk + 1) * 40], inbox)
            time.sleep(rng.uniform(0.8, 2.0))
            agent.kill9()
            agent.start()
        assert wait_for(lambda: central_count(central) == (200, 200), 240), central_count(central)
        assert wait_for(lambda: agent.get("/api/status")["outbox"]["pending"] == 0, 60)
        assert len(agent_ids(agent)) == 200


def test_wrong_and_revoked_tokens_are_refused_and_shown(database_url: str, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    central = CentralProcess(database_url, tmp_path / "central")
    token = central.add_station(STATION)
    wrong = {
        "LTA_AGENT_CENTRAL_URL": central.url,
        "LTA_AGENT_CENTRAL_TOKEN": "wrong-token",
        **SYNC_ENV,
    }
    with central.start():
        with AgentProcess(tmp_path / "data", inbox, **wrong).start() as agent:
            drop(simulate_station(tmp_path / "staging", count=2, seed=53), inbox)
            status = wait_for(
                lambda: (s := agent.get("/api/status"))["central"]["auth_failed"] and s, 30
            )
            assert status and "401" in (status["central"]["last_error"] or "")
            assert "TOKEN REFUSED" in httpx.get(agent.url + "/", timeout=5).text
            agent.terminate()
        central_env = central.env
        from tests.e2e.central_process import central_cli

        central_cli(central_env, "station", "revoke", STATION)
        revoked = {
            "LTA_AGENT_CENTRAL_URL": central.url,
            "LTA_AGENT_CENTRAL_TOKEN": token,
            **SYNC_ENV,
        }
        with AgentProcess(tmp_path / "data2", inbox, **revoked).start() as agent:
            status = wait_for(
                lambda: (s := agent.get("/api/status"))["central"]["auth_failed"] and s, 30
            )
            assert status and "403" in (status["central"]["last_error"] or "")
            assert wait_for(lambda: agent.get("/api/status")["outbox"]["pending"] == 2, 30)
        assert central_count(central) == (0, 0)
