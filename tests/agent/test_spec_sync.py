"""The station's copy of QA's spec table: fetched from a real central on loopback with its
ETag, cached in the real station store, judged by, and kept when central is away."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from agent.analysis.file import analyse_file
from agent.spec_sync import SpecFetcher, SpecState, load_cached
from agent.store.store import Store
from agent.sync import CentralClient
from central.auth.audit import CLI
from central.db import Database
from central.specs import store as spec_store
from central.specs.record import SpecRow
from central.stations import add_station
from central.web import create_app
from central.web.context import CentralContext
from shared.analysis_settings import AnalysisSettings
from shared.model_specs import SpecTable
from shared.spec_wire import SpecPush
from tests.central.auth_helpers import NO_RATE_LIMIT
from tests.central.test_specs_pages import RESCUED
from tests.e2e.agent_process import free_port


class LoopbackCentral:
    """Central's real app served by a real HTTP server on 127.0.0.1, stoppable mid-test."""

    def __init__(self, db: Database) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        app = create_app(CentralContext(db=db, limits=NO_RATE_LIMIT))
        self.server = make_server("127.0.0.1", self.port, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def central(central_db: Database) -> Iterator[LoopbackCentral]:
    running = LoopbackCentral(central_db)
    yield running
    if running.thread.is_alive():
        running.stop()


def test_station_fetches_caches_and_keeps_its_spec_version_when_central_is_down(
    central_db: Database, central: LoopbackCentral, tmp_path: Path
) -> None:
    token = add_station(central_db, "line-a")
    spec_store.save_specs(central_db, [SpecRow(model="6607", policy="strict")], CLI, "test")
    station = Store(tmp_path / "agent.sqlite")
    client = CentralClient(central.url, token)
    judged_by: list[SpecTable] = []
    state = SpecState()
    asked: list[SpecPush] = []
    fetcher = SpecFetcher(station, client, state, judged_by.append, asked.append)
    try:
        assert fetcher.start_from_cache() is None and state.version is None
        assert fetcher.run() is True
        assert state.version == "central:1" and state.source == "central" and state.models == 1
        assert fetcher.run() is False  # 304: nothing travels
        assert len(judged_by) == 1 and asked == []

        # QA saves with "re-judge the last 7 days": the new version asks for it once.
        again_strict = SpecRow(model="6607", policy="strict", element_type="Carbon")
        spec_store.save_specs(central_db, [again_strict], CLI, "re-judge", reanalyse_days=7)
        assert fetcher.run() is True and state.version == "central:2"
        assert [(p.reanalyse_days, p.reanalyse_models) for p in asked] == [(7, ("6607",))]

        settings = AnalysisSettings(specs=judged_by[-1])
        result = analyse_file(RESCUED, settings)
        assert result.spec_version == "central:2"
        assert result.status.value == "Fail"  # strict: the ignored rows count again
        assert result.analysis_version

        central.stop()
        assert fetcher.run() is False
        assert state.version == "central:2" and "unreachable" in (state.last_error or "")

        # A restart while central is away: the cached copy governs from the first file on.
        restarted: list[SpecTable] = []
        again = SpecFetcher(station, client, SpecState(), restarted.append)
        cached = again.start_from_cache()
        assert cached is not None and cached.version == "central:2"
        assert again.state.source == "central (cached)"
        assert analyse_file(RESCUED, AnalysisSettings(specs=restarted[0])).spec_version == (
            "central:2"
        )
        assert again.run() is False and again.etag == '"central:2"'
    finally:
        client.close()
        station.close()


def test_a_table_the_station_cannot_read_is_refused_and_the_copy_stays(
    central_db: Database, tmp_path: Path
) -> None:
    import httpx

    station = Store(tmp_path / "agent.sqlite")
    state = SpecState()
    answers = iter(
        [
            httpx.Response(200, content=b'{"table": {"version": "central:9", "specs": "x"}}'),
            httpx.Response(500),
            httpx.Response(404),
        ]
    )

    class Client:
        def get(self, path: str, headers: dict[str, str]) -> httpx.Response:
            return next(answers)

    fetcher = SpecFetcher(station, Client(), state, lambda table: None)
    try:
        assert fetcher.run() is False and "refused" in (state.last_error or "")
        assert load_cached(station) is None
        assert fetcher.run() is False and "500" in (state.last_error or "")
        assert fetcher.run() is False and state.last_error is None  # an older central
    finally:
        station.close()


def test_status_api_and_page_show_the_spec_version(client, runtime) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/status").get_json()["spec_version"] is None
    assert "specs: none (station rules)" in client.get("/").get_data(as_text=True)
    runtime.specs.version, runtime.specs.source = "central:4", "central (cached)"
    status = client.get("/api/status").get_json()
    assert status["spec_version"] == "central:4"
    assert status["specs"]["source"] == "central (cached)"
    assert "specs: central:4 (central (cached))" in client.get("/").get_data(as_text=True)


def test_the_supervised_worker_judges_the_next_file_by_new_settings() -> None:
    from agent.isolation import IsolatedAnalyser
    from shared.model_specs import ModelSpec

    table = SpecTable(version="central:2", specs=(ModelSpec(model="6607", policy="strict"),))
    with IsolatedAnalyser(AnalysisSettings(), start_method="fork") as analyser:
        before = analyser.analyse(RESCUED)
        assert before.status.value == "Warning" and before.spec_version is None
        analyser.update_settings(AnalysisSettings(specs=table))
        after = analyser.analyse(RESCUED)
        assert after.status.value == "Fail" and after.spec_version == "central:2"
        assert analyser.analyse(RESCUED).spec_version == "central:2"  # and it stays
        spawns = analyser.spawns
    assert spawns == 1  # the settings travelled to the running worker


def test_a_pushed_reanalysis_window_revises_the_changed_models_results(
    tmp_path: Path,
) -> None:
    import shutil
    from datetime import UTC, datetime

    from agent.config import load_config
    from agent.isolation import IsolatedAnalyser
    from agent.service import AgentService
    from shared.model_specs import ModelSpec
    from shared.spec_wire import SpecPush
    from tests.waiting import wait_for

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    path = Path(shutil.copy(RESCUED, inbox / RESCUED.name))
    station = Store(tmp_path / "agent.sqlite")
    first = analyse_file(path)
    assert first.status.value == "Warning"
    # The window is by the unit's test date: this one was made today.
    made_today = first.model_copy(update={"test_date": datetime.now().replace(microsecond=0)})
    station.record(made_today, "line-a", datetime.now(UTC), None)
    table = SpecTable(version="central:5", specs=(ModelSpec(model="6607", policy="strict"),))
    service = AgentService(load_config(None, {"LTA_AGENT_DATA_DIR": str(tmp_path / "data")}))
    service.store = station
    service.analyser = IsolatedAnalyser(AnalysisSettings(specs=table), start_method="fork")
    try:
        push = SpecPush(table=table, reanalyse_days=1, reanalyse_models=("6607",))
        service._reanalyse_later(push)

        def revised() -> tuple[int, str] | None:
            row = station.read().execute("SELECT revision, revision_reason FROM results").fetchone()
            return (int(row[0]), str(row[1])) if row and row[0] else None

        found = wait_for(revised, 60)
        assert found is not None and found[0] == 1 and "central:5" in found[1]
        document = station.read().execute("SELECT document FROM results").fetchone()[0]
        assert '"spec_version":"central:5"' in document and '"status":"Fail"' in document
    finally:
        service.analyser.close()
        station.close()
