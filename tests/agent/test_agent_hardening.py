"""Issue 13 on the station agent: what another web page, a file name or a local user could do.

The agent's real app over a real SQLite store (conftest.py), and its real
waitress server on loopback for the limits that only the server enforces.
"""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from loguru import logger

from agent.analysis.file import analyse_file
from agent.service import SERVER_LIMITS
from agent.simulate import simulate_station
from agent.store.database import connect
from agent.store.store import Store
from agent.web import create_app
from agent.web.context import AgentContext
from shared.models import FileResult
from shared.service import bind_server, setup_logging
from tests.conftest import STATION


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> FileResult:
    path = simulate_station(tmp_path_factory.mktemp("station"), count=1, seed=3)[0]
    return analyse_file(path)


def record(store: Store, result: FileResult) -> None:
    store.record(result, STATION, datetime.now(UTC), 0)


# --------------------------------------------------------------------------- 7: Host names


@pytest.mark.parametrize(
    "host",
    ["attacker.example", "attacker.example:8710", "127.0.0.1.nip.io", "localhost.attacker.example"],
)
def test_a_foreign_host_name_is_refused_before_any_view(client: FlaskClient, host: str) -> None:
    page = client.get("/", headers={"Host": host})
    assert page.status_code == 400
    assert "web.allowed_hosts" in page.get_data(as_text=True)
    api = client.get("/api/status", headers={"Host": host})
    assert api.status_code == 400
    assert api.get_json()["error"]["code"] == "host_not_allowed"


@pytest.mark.parametrize(
    "host",
    ["localhost", "localhost:8710", "127.0.0.1:8710", "[::1]:8710", "10.1.2.3", "LOCALHOST."],
)
def test_local_names_and_addresses_are_answered(client: FlaskClient, host: str) -> None:
    assert client.get("/api/status", headers={"Host": host}).status_code == 200


def test_this_pcs_own_name_is_answered(client: FlaskClient) -> None:
    name = socket.gethostname()
    assert client.get("/api/status", headers={"Host": f"{name}:8710"}).status_code == 200


def test_configured_names_are_answered(app_context: AgentContext) -> None:
    ctx = AgentContext(
        store=app_context.store,
        runtime=app_context.runtime,
        shift_starts=app_context.shift_starts,
        allowed_hosts=("trim-07.plant.local", ".lab.example"),
    )
    client = create_app(ctx).test_client()
    for host in ("trim-07.plant.local:8710", "any.lab.example"):
        assert client.get("/", headers={"Host": host}).status_code == 200, host
    assert client.get("/", headers={"Host": "trim-08.plant.local"}).status_code == 400


def test_the_page_refuses_framing_and_foreign_scripts(client: FlaskClient) -> None:
    for path in ("/", "/api/status", "/units/1", "/healthz"):
        response = client.get(path)
        policy = response.headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in policy, path
        assert "script-src 'self'" in policy, path
        assert response.headers.get("X-Frame-Options") == "DENY", path
        assert response.headers.get("X-Content-Type-Options") == "nosniff", path


# --------------------------------------------------------------------------- 6: crafted input


@pytest.mark.parametrize("key", ["²", "١٢", "9" * 30, str(2**63), "-1", "1.5"])
def test_odd_unit_keys_are_not_found_not_server_errors(client: FlaskClient, key: str) -> None:
    assert client.get(f"/units/{key}").status_code == 404
    assert client.get(f"/api/results/{key}").status_code == 404


def test_direction_overrides_in_a_file_name_are_shown_not_obeyed(
    client: FlaskClient, store: Store, analysed: FileResult
) -> None:
    tricky = "invoice\u202excod.xlsx\x1b[2J"
    record(store, analysed.model_copy(update={"file_name": tricky, "sha256": "e" * 64}))

    for path in ("/", "/partials/recent", "/units/1"):
        page = client.get(path).get_data(as_text=True)
        assert "\u202e" not in page and "\x1b" not in page, path
    assert "invoice\\u202excod.xlsx\\x1b[2J" in client.get("/units/1").get_data(as_text=True)


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "logs" / "agent.log"
    setup_logging("INFO", path)
    try:
        yield path
    finally:
        logger.remove()
        logger.configure(patcher=None)
        logger.add(sys.stderr)


def test_station_text_cannot_forge_log_lines(log_file: Path) -> None:
    name = "unit.xlsx\n12:00:00 ERROR central: token revoked\r\x1b[31m\u202e"
    logger.info("Analysed {}", name)
    logger.warning("Next record")
    logger.remove()  # flush and close the file

    lines = log_file.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    assert "unit.xlsx\\x0a12:00:00 ERROR central: token revoked\\x0d\\x1b[31m\\u202e" in lines[0]


# --------------------------------------------------------------------------- 9: store path


@pytest.mark.parametrize("folder", ["line#2", "what?mode=rwc", "100%25 done", "a b&c=d"])
def test_the_page_reads_the_store_whatever_its_folder_is_called(
    tmp_path: Path, analysed: FileResult, folder: str
) -> None:
    store = Store(tmp_path / folder / "agent.sqlite")
    try:
        record(store, analysed)
        reader = connect(store.path, readonly=True)
        try:
            assert reader.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 1
        finally:
            reader.close()
    finally:
        store.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder]  # no other database made


# --------------------------------------------------------------------------- 5: body limits


@pytest.fixture
def served(app_context: AgentContext) -> Iterator[int]:
    server = bind_server(
        create_app(app_context), "127.0.0.1", 0, "test", threads=2, ident="lta-agent",
        **SERVER_LIMITS,
    )  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield int(server.effective_port)
    finally:
        server.close()
        thread.join(timeout=10)


def test_the_agent_refuses_request_bodies_unread(served: int) -> None:
    head = b"POST /api/status HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10485760\r\n\r\n"
    with socket.create_connection(("127.0.0.1", served)) as sock:
        sock.settimeout(60)  # a guard against hanging forever, not a measurement
        sock.sendall(head)
        status = sock.recv(4096).split(b"\r\n")[0]
    assert b" 413 " in status
