"""Central figures: ingest throughput into PostgreSQL, and draining an agent's outbox."""

from __future__ import annotations

import gzip
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg

from agent.analysis.file import analyse_file
from agent.simulate import simulate_station
from agent.store import writes
from agent.store.store import Store
from benchmarks.agent import _wait
from shared.ids import result_id
from shared.models import FileResult
from shared.protocol import PROTOCOL_VERSION, IngestBatch, StationResult
from tests.conftest import _with_database
from tests.e2e.agent_process import AgentProcess
from tests.e2e.central_process import CentralProcess

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/test"
BATCHES = 20
BATCH_RESULTS = 500
OUTBOX_RESULTS = 10_000
STATION = "bench-station"


@contextmanager
def fresh_database(tmp: Path) -> Iterator[tuple[str, str]]:
    """(url, where): a new database on LTA_BENCH_DATABASE_URL, the local server, or embedded."""
    admin = os.environ.get("LTA_BENCH_DATABASE_URL", LOCAL_SERVER)
    handle = None
    try:
        psycopg.connect(admin, connect_timeout=3).close()
        where = "PostgreSQL server"
    except psycopg.Error:
        from central.db import start_embedded

        admin, handle = start_embedded(tmp / "pgdata")
        where = "embedded PostgreSQL"
    name = f"lta_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(admin, name), where
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if handle is not None:
            handle.cleanup()


def _bodies(results: list[FileResult], station: str, first: int) -> tuple[list[bytes], int]:
    bodies, tracks = [], 0
    for b in range(BATCHES):
        items = []
        for i in range(BATCH_RESULTS):
            n = first + b * BATCH_RESULTS + i
            base = results[n % len(results)].model_copy(update={"sha256": f"{n:064x}"})
            items.append(StationResult.from_result(result_id(station, base.sha256 or ""), base))
            tracks += len(base.tracks)
        batch = IngestBatch(
            protocol_version=PROTOCOL_VERSION,
            station_id=station,
            agent_version="bench",
            sent_at=datetime.now(UTC),
            results=items,
        )
        bodies.append(gzip.compress(batch.model_dump_json().encode(), 1))
    return bodies, tracks


def _send(url: str, token: str, bodies: list[bytes]) -> None:
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
    }
    with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
        for body in bodies:
            client.post("/api/v1/results", content=body).raise_for_status()


def ingest_figures(tmp: Path) -> list[tuple[str, str]]:
    """One station sending back to back, then two stations at once (the usual case)."""
    results = [analyse_file(p) for p in simulate_station(tmp / "units", count=250, seed=61)]
    rows = []
    for streams in (1, 2):
        stations = [f"{STATION}-{streams}-{k}" for k in range(streams)]
        work = [_bodies(results, s, k * 1_000_000) for k, s in enumerate(stations)]
        tracks = sum(t for _, t in work)
        with (
            fresh_database(tmp) as (url, where),
            CentralProcess(url, tmp / f"central{streams}") as central,
        ):
            tokens = [central.add_station(s) for s in stations]
            central.start()
            senders = [
                threading.Thread(target=_send, args=(central.url, token, bodies))
                for token, (bodies, _) in zip(tokens, work, strict=True)
            ]
            start = time.perf_counter()
            for sender in senders:
                sender.start()
            for sender in senders:
                sender.join()
            elapsed = time.perf_counter() - start
            replay = time.perf_counter()
            _send(central.url, tokens[0], work[0][0][:1])
            duplicate_s = time.perf_counter() - replay
            stats = central.stats()
            central.stop()
        stored = sum(stats[s]["results"] for s in stations)
        assert stored == streams * BATCHES * BATCH_RESULTS, stats
        rows.append(
            (
                f"ingest {stored} results / {tracks} tracks, {streams} station(s) at once "
                f"({where}, batches of {BATCH_RESULTS})",
                f"{tracks / elapsed:7.0f} tracks/s ({stored / elapsed:.0f} results/s)",
            )
        )
    rows.append(
        (f"resend of one {BATCH_RESULTS}-result batch (all duplicates)", f"{duplicate_s:.2f} s")
    )
    return rows


def store_figures(tmp: Path) -> list[tuple[str, str]]:
    """The database layer alone (central.ingest.store_batch), without HTTP, gzip and JSON."""
    from central.db import migrate, open_database
    from central.ingest import store_batch
    from central.stations import add_station, token_owner

    results = [analyse_file(p) for p in simulate_station(tmp / "units", count=250, seed=63)]
    with fresh_database(tmp) as (url, where):
        db = open_database(url, tmp / "unused")
        try:
            migrate(db)
            owner = token_owner(db, add_station(db, STATION))
            assert owner is not None
            batches, tracks = [], 0
            for b in range(BATCHES):
                items = []
                for i in range(BATCH_RESULTS):
                    n = b * BATCH_RESULTS + i
                    base = results[n % len(results)].model_copy(update={"sha256": f"{n:064x}"})
                    items.append(StationResult.from_result(result_id(STATION, f"{n:064x}"), base))
                    tracks += len(base.tracks)
                batches.append(
                    IngestBatch(
                        protocol_version=PROTOCOL_VERSION,
                        station_id=STATION,
                        agent_version="bench",
                        sent_at=datetime.now(UTC),
                        results=items,
                    )
                )
            start = time.perf_counter()
            for batch in batches:
                store_batch(db, owner.pk, STATION, batch)
            elapsed = time.perf_counter() - start
        finally:
            db.close()
    return [
        (
            f"store_batch alone: {BATCHES * BATCH_RESULTS} results / {tracks} tracks ({where})",
            f"{tracks / elapsed:7.0f} tracks/s",
        )
    ]


def drain_figures(tmp: Path) -> list[tuple[str, str]]:
    """An agent whose outbox filled during an outage; central comes back."""
    results = [analyse_file(p) for p in simulate_station(tmp / "units", count=200, seed=62)]
    data = tmp / "data"
    store = Store(data / "agent.sqlite")
    now = datetime.now(UTC)

    def fill(conn):  # type: ignore[no-untyped-def]
        conn.execute("PRAGMA synchronous=OFF")
        for i in range(OUTBOX_RESULTS):
            base = results[i % len(results)]
            when = now - timedelta(seconds=OUTBOX_RESULTS - i)
            fake = base.model_copy(update={"sha256": f"{i:064x}", "analysed_at": when})
            writes.record_file(conn, fake, STATION, when, None)
        conn.execute("PRAGMA synchronous=FULL")

    store.writer.call(fill, timeout=3600)
    store.close()
    inbox = tmp / "inbox"
    inbox.mkdir()
    with fresh_database(tmp) as (url, where), CentralProcess(url, tmp / "central") as central:
        token = central.add_station(STATION)
        central.start()
        env = {
            "LTA_AGENT_CENTRAL_URL": central.url,
            "LTA_AGENT_CENTRAL_TOKEN": token,
            "LTA_AGENT_STATION_ID": STATION,
            "LTA_AGENT_CENTRAL__SYNC_INTERVAL_S": "1",
        }
        with AgentProcess(data, inbox, **env) as agent:
            start = time.perf_counter()
            agent.start()
            _wait(lambda: agent.get("/api/status")["outbox"]["pending"] == 0, 600, 0.2)
            elapsed = time.perf_counter() - start
            agent.terminate()
        stats = central.stats()[STATION]
        central.stop()
    assert stats["results"] == stats["distinct_result_ids"] == OUTBOX_RESULTS, stats
    return [
        (
            f"drain a {OUTBOX_RESULTS}-result outbox after an outage ({where})",
            f"{elapsed:.1f} s incl. agent start ({OUTBOX_RESULTS / elapsed:.0f} results/s)",
        )
    ]


def run() -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for section in (ingest_figures, store_figures, drain_figures):
        with tempfile.TemporaryDirectory(prefix="lta-bench-") as tmp:
            rows += section(Path(tmp))
    return rows
