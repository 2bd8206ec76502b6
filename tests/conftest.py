"""Shared fixtures: real stores filled with really analysed simulated files."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.analysis.file import analyse_file
from agent.runtime import Runtime
from agent.simulate import simulate_station
from agent.store.store import Store
from agent.web import create_app
from agent.web.context import AgentContext
from central.db import Database, migrate, open_database
from shared.models import FileResult

STATION = "station-test"


def fill_store(store: Store, folder: Path, count: int, seed: int = 1) -> list[FileResult]:
    results = []
    for path in simulate_station(folder, count=count, seed=seed):
        result = analyse_file(path)
        store.record(result, STATION, datetime.now(UTC), path.stat().st_mtime_ns)
        results.append(result)
    return results


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path / "data" / "agent.sqlite")
    yield opened
    opened.close()


@pytest.fixture
def runtime() -> Runtime:
    return Runtime(station_id=STATION, station_name="Test station", inboxes=["/inbox"])


@pytest.fixture
def app_context(store: Store, runtime: Runtime) -> AgentContext:
    return AgentContext(store=store, runtime=runtime, shift_starts=("06:00", "14:00", "22:00"))


@pytest.fixture
def client(app_context: AgentContext):  # type: ignore[no-untyped-def]
    app = create_app(app_context)
    app.config["TESTING"] = True
    return app.test_client()


# ---------------------------------------------------------------- PostgreSQL for central
# LTA_TEST_DATABASE_URL (CI sets it) points at a server where the tests may create
# databases; without it, one embedded PostgreSQL (pgserver) serves the whole session.


@pytest.fixture(scope="session")
def postgres_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("LTA_TEST_DATABASE_URL")
    if url:
        yield url
        return
    from central.db import start_embedded

    embedded_url, handle = start_embedded(tmp_path_factory.mktemp("pg") / "pgdata")
    try:
        yield embedded_url
    finally:
        handle.cleanup()


def _with_database(admin_url: str, name: str) -> str:
    """The admin URL pointed at another database, as a postgresql:// URL.

    Works for TCP hosts and for the embedded server's Unix socket directory.
    """
    from urllib.parse import quote

    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(admin_url)
    user = quote(str(params.get("user", "postgres")))
    password = params.get("password")
    auth = f"{user}:{quote(str(password))}@" if password else f"{user}@"
    host = str(params.get("host", "127.0.0.1"))
    port = params.get("port")
    if host.startswith("/"):
        query = f"?host={quote(host, safe='')}" + (f"&port={port}" if port else "")
        return f"postgresql://{auth}/{name}{query}"
    return f"postgresql://{auth}{host}{f':{port}' if port else ''}/{name}"


@pytest.fixture
def database_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, empty database for one test, dropped afterwards."""
    import psycopg

    name = f"lta_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(postgres_admin_url, name)
    finally:
        with psycopg.connect(postgres_admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def central_db(database_url: str, tmp_path: Path) -> Iterator[Database]:
    db = open_database(database_url, tmp_path / "unused-pg", min_size=1, max_size=4)
    migrate(db)
    yield db
    db.close()


# ---------------------------------------------------------------- a Windows station on Linux


@pytest.fixture
def windows():  # type: ignore[no-untyped-def]
    """The agent's seam with Windows behaviour (tests/windows_semantics.py)."""
    from tests.windows_semantics import WindowsSemantics

    return WindowsSemantics()
