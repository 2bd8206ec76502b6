"""Shared fixtures: real stores filled with really analysed simulated files."""

from __future__ import annotations

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
