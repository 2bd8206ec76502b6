"""While the analysis worker loads (or first compiles) its kernels, the page already answers.

The page, /api/status and /healthz say "starting up" until the worker is
ready; files saved meanwhile are analysed as soon as it is.
"""

from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path

import httpx
from flask.testing import FlaskClient

from agent.config import load_config
from agent.runtime import Runtime
from agent.service import AgentService
from tests.e2e.agent_process import free_port
from tests.waiting import wait_for

REAL = Path(__file__).resolve().parents[1] / "data" / "real"
SAMPLE = REAL / "8340-1_82_TA_Test Data_4-17-2025_5-59 AMTrimmed Correct.xls"


def element(html: str, element_id: str) -> str:
    match = re.search(rf'<span id="{element_id}"[^>]*>', html)
    assert match, f"no #{element_id}"
    return match.group(0)


def test_page_status_and_health_say_starting_up(client: FlaskClient, runtime: Runtime) -> None:
    runtime.starting_up = True

    html = client.get("/").get_data(as_text=True)
    status = client.get("/api/status").get_json()
    health = client.get("/healthz")

    assert "hidden" not in element(html, "starting-up")
    assert "starting up: preparing the analysis" in html
    assert status["health"]["starting_up"] is True
    assert health.status_code == 503
    assert health.get_json()["analysis"] == "starting up"


def test_ready_agent_hides_the_marker(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)

    assert "hidden" in element(html, "starting-up")
    assert "preparing the analysis" not in html
    assert client.get("/api/status").get_json()["health"]["starting_up"] is False
    assert client.get("/healthz").get_json()["analysis"] == "ready"


def test_service_serves_before_the_worker_is_ready_then_analyses(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    port = free_port()
    config = load_config(
        environ={
            "LTA_AGENT_DATA_DIR": str(tmp_path / "data"),
            "LTA_AGENT_INBOX": str(inbox),
            "LTA_AGENT_BIND": f"127.0.0.1:{port}",
            "LTA_AGENT_STATION_ID": "startup-test",
            "LTA_AGENT_INBOX__HISTORY_WINDOW_HOURS": "0",
        }
    )
    service = AgentService(config)
    service.start()
    serving = threading.Thread(target=service.serve_forever, daemon=True)
    try:
        # start() returned without waiting for the worker (a spawned process that
        # imports numba and loads every kernel: far longer than this check).
        assert service.runtime is not None
        assert service.runtime.starting_up is True
        serving.start()
        url = f"http://127.0.0.1:{port}"
        shutil.copy(SAMPLE, inbox / SAMPLE.name)
        first = httpx.get(f"{url}/api/status", timeout=5).json()
        assert first["latest"] is None

        def verdict() -> dict[str, object] | None:
            latest = httpx.get(f"{url}/api/status", timeout=5).json()["latest"]
            return latest if isinstance(latest, dict) else None

        latest = wait_for(verdict, timeout=90.0, interval=0.1)
        assert latest is not None
        assert latest["file_name"] == SAMPLE.name
        assert service.runtime.starting_up is False
        assert httpx.get(f"{url}/healthz", timeout=5).json()["analysis"] == "ready"
    finally:
        service.stop()
        serving.join(timeout=10)


def test_stop_while_the_worker_is_starting_leaves_no_worker(tmp_path: Path) -> None:
    config = load_config(
        environ={
            "LTA_AGENT_DATA_DIR": str(tmp_path / "data"),
            "LTA_AGENT_BIND": f"127.0.0.1:{free_port()}",
        }
    )
    service = AgentService(config)
    service.start()
    service.stop()
    starter = service._starter
    assert starter is not None
    starter.join(timeout=90)
    assert not starter.is_alive()
    assert service.analyser is not None
    assert service.analyser._process is None
    assert service.scheduler is not None
    assert service.scheduler.get_job("watch") is None
