"""The agent's sync job against a real central (waitress on loopback, real PostgreSQL)."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from waitress import create_server

from agent.runtime import Runtime
from agent.store import outbox, reads
from agent.store.store import Store
from agent.sync import CentralClient, Syncer
from central import stations
from central.db import Database
from central.stats import station_stats
from central.web import create_app
from central.web.context import CentralContext, IngestLimits
from tests.conftest import STATION, fill_store
from tests.e2e.agent_process import free_port


@dataclass
class Central:
    url: str
    db: Database
    server: Any

    def stop(self) -> None:
        self.server.close()


def serve(db: Database, port: int | None = None, **limits: int) -> Central:
    app = create_app(CentralContext(db=db, limits=IngestLimits(**limits)))
    server = create_server(app, host="127.0.0.1", port=port or 0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    return Central(url=f"http://127.0.0.1:{server.effective_port}", db=db, server=server)


@pytest.fixture
def central(central_db: Database) -> Iterator[Central]:
    running = serve(central_db, rate_burst=1000, rate_limit_per_minute=60000)
    yield running
    running.stop()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def make_syncer(store: Store, runtime: Runtime, url: str, token: str, **kw: Any) -> Syncer:
    return Syncer(
        store=store,
        runtime=runtime,
        client=CentralClient(url, token, timeout_s=10),
        state=runtime.central,
        rng=random.Random(1),
        **kw,
    )


def stats(db: Database) -> dict[str, Any]:
    return next(s for s in station_stats(db) if s["station"] == STATION)


def test_outbox_reaches_central_exactly_once(
    store: Store, runtime: Runtime, central: Central, tmp_path: Path
) -> None:
    token = stations.add_station(central.db, STATION)
    results = fill_store(store, tmp_path / "inbox", 25)
    syncer = make_syncer(store, runtime, central.url, token, batch_size=10)
    assert syncer.run() == 25
    assert reads.outbox_stats(store.read(), datetime.now(UTC))["pending"] == 0
    counts = stats(central.db)
    assert counts["results"] == counts["distinct_result_ids"] == 25
    assert counts["tracks"] == sum(len(r.tracks) for r in results)
    assert runtime.central.reachable and runtime.central.last_sync_at is not None
    assert counts["last_heartbeat_at"] is not None and counts["outbox_pending"] == 25


def test_a_lost_acknowledgement_is_resent_as_a_duplicate(
    store: Store, runtime: Runtime, central: Central, tmp_path: Path
) -> None:
    token = stations.add_station(central.db, STATION)
    fill_store(store, tmp_path / "inbox", 6)
    first = make_syncer(store, runtime, central.url, token)
    first.run()
    # pretend the agent died before marking them delivered: back to pending
    store.writer.call(lambda c: c.execute("UPDATE outbox SET state = 'pending'"))
    second = make_syncer(store, runtime, central.url, token)
    assert second.run() == 6
    counts = stats(central.db)
    assert counts["results"] == counts["distinct_result_ids"] == 6


def test_central_down_keeps_rows_and_backs_off_then_drains(
    store: Store, runtime: Runtime, central_db: Database, tmp_path: Path
) -> None:
    token = stations.add_station(central_db, STATION)
    fill_store(store, tmp_path / "inbox", 5)
    port = free_port()
    clock = Clock()
    syncer = make_syncer(store, runtime, f"http://127.0.0.1:{port}", token)
    syncer.clock = clock
    assert syncer.run() == 0
    assert runtime.central.reachable is False and "unreachable" in runtime.central.last_error
    assert reads.outbox_stats(store.read(), datetime.now(UTC))["pending"] == 5
    clock.now = 1.0
    assert syncer.run() == 0  # still backing off: not even tried
    running = serve(central_db, port=port)
    try:
        clock.now = 10_000.0
        assert syncer.run() == 5
        assert runtime.central.reachable is True and runtime.central.last_error is None
    finally:
        running.stop()


def test_a_wrong_or_revoked_token_stops_sending_visibly(
    store: Store, runtime: Runtime, central: Central, tmp_path: Path
) -> None:
    token = stations.add_station(central.db, STATION)
    fill_store(store, tmp_path / "inbox", 3)
    wrong = make_syncer(store, runtime, central.url, "not-the-token")
    assert wrong.run() == 0
    assert runtime.central.auth_failed and "token" in runtime.central.last_error
    stations.revoke_station(central.db, STATION)
    revoked = make_syncer(store, Runtime(STATION, "x", []), central.url, token)
    assert revoked.run() == 0
    assert revoked.state.auth_failed and "revoked" in revoked.state.last_error
    assert reads.outbox_stats(store.read(), datetime.now(UTC))["pending"] == 3


def test_rejected_results_become_dead_letters_and_can_be_retried(
    store: Store, runtime: Runtime, central: Central, tmp_path: Path
) -> None:
    fill_store(store, tmp_path / "inbox", 4)
    # results recorded under another station id: central refuses their ids for this one
    other = Runtime("other-station", "x", [])
    token = stations.add_station(central.db, "other-station")
    syncer = make_syncer(store, other, central.url, token)
    assert syncer.run() == 4
    stats_now = reads.outbox_stats(store.read(), datetime.now(UTC))
    assert stats_now["dead"] == 4 and stats_now["pending"] == 0
    dead = outbox.dead_letters(store.read())
    assert "result_id" in dead[0]["last_error"]
    assert store.writer.call(outbox.retry_dead) == 4
    assert reads.outbox_stats(store.read(), datetime.now(UTC))["pending"] == 4


def test_oversized_batches_are_split(
    store: Store, runtime: Runtime, central_db: Database, tmp_path: Path
) -> None:
    token = stations.add_station(central_db, STATION)
    fill_store(store, tmp_path / "inbox", 8)
    small = serve(central_db, max_batch_results=3, rate_burst=1000, rate_limit_per_minute=60000)
    try:
        syncer = make_syncer(store, runtime, small.url, token, batch_size=8)
        assert syncer.run() == 8
    finally:
        small.stop()
    assert stats(central_db)["results"] == 8
