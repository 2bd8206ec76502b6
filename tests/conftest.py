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


def migrated_database(admin_url: str, scratch: Path) -> Iterator[Database]:
    """A new database with central's schema, dropped when the generator ends.

    The one place tests make a central database: fixtures `yield from` it, a
    test that needs a second database loops over it (`for db in ...`).
    """
    import psycopg

    name = f"lta_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    # A postgresql:// URL (not a conninfo string), so `lta-central` accepts it as configured.
    db = open_database(_with_database(admin_url, name), scratch, min_size=1, max_size=4)
    try:
        migrate(db)
        yield db
    finally:
        db.close()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def emptied(db: Database) -> Database:
    """Every table emptied (schema_version kept): what a freshly migrated database holds."""
    with db.pool.connection() as conn:
        tables = conn.execute(
            "SELECT string_agg(quote_ident(tablename), ', ') FROM pg_tables "
            "WHERE schemaname = 'public' AND tablename <> 'schema_version'"
        ).fetchone()
        assert tables is not None
        conn.execute(f"TRUNCATE {tables[0]} RESTART IDENTITY CASCADE")
    return db


@pytest.fixture
def central_db(postgres_admin_url: str, tmp_path: Path) -> Iterator[Database]:
    """A migrated database of the test's own."""
    yield from migrated_database(postgres_admin_url, tmp_path / "unused-pg")


@pytest.fixture(scope="module")
def module_db(
    postgres_admin_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """One migrated database per test module: migrating costs a third of a second, so
    modules with many tests share one and empty it before each (`emptied`)."""
    yield from migrated_database(postgres_admin_url, tmp_path_factory.mktemp("unused-pg"))


# ---------------------------------------------------------------- a Windows station on Linux


@pytest.fixture
def windows():  # type: ignore[no-untyped-def]
    """The agent's seam with Windows behaviour (tests/windows_semantics.py)."""
    from tests.windows_semantics import WindowsSemantics

    return WindowsSemantics()
