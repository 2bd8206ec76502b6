"""What the dashboard data-layer tests share (the databases are tests/conftest.py's): real
analysed files, batches built the way an agent builds them (protocol 2, or 1 as an
older agent sends it), and the central ingest path to store them."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

from agent.analysis.file import analyse_file
from agent.simulate import simulate_station
from central.db import Database
from central.ingest import store_batch
from central.stations import add_station, token_owner
from shared.ids import result_id
from shared.models import FileResult
from shared.protocol import PROTOCOL_VERSION, IngestBatch, IngestResponse, StationResult
from tests.real_truth import IN_REPO


def analysed_files(folder: Path, count: int = 10, seed: int = 5) -> list[FileResult]:
    """Simulated station files and the real ones in the repository, really analysed."""
    paths = [*simulate_station(folder, count=count, seed=seed), *sorted(IN_REPO.glob("*.xls"))]
    return [analyse_file(path) for path in paths]


def renamed(result: FileResult, tag: str, **changes: object) -> FileResult:
    """The same unit as another file: a new SHA-256 (so a new result id), other fields kept."""
    sha = hashlib.sha256(f"{result.sha256}:{tag}".encode()).hexdigest()
    return result.model_copy(update={"sha256": sha, **changes})


def station_result(result: FileResult, station: str) -> StationResult:
    assert result.sha256 is not None
    return StationResult.from_result(result_id(station, result.sha256), result)


def batch_of(
    results: list[FileResult], station: str, protocol: int = PROTOCOL_VERSION
) -> IngestBatch:
    batch = IngestBatch(
        protocol_version=PROTOCOL_VERSION,
        station_id=station,
        agent_version="0.1.0-test",
        sent_at=datetime(2025, 3, 12, 9, 0, tzinfo=UTC),
        results=[station_result(r, station) for r in results],
    )
    return batch if protocol == PROTOCOL_VERSION else as_protocol_1(batch)


def as_protocol_1(batch: IngestBatch) -> IngestBatch:
    """The batch as an agent from before the trim history sent it: no passes, no pass curves."""
    doc = json.loads(batch.model_dump_json())
    doc["protocol_version"] = 1
    for item in doc["results"]:
        item.pop("pass_curves")
        item["result"]["schema_version"] = 1
        for track in item["result"]["tracks"]:
            for key in ("passes", "station_spec", "sheet"):
                track.pop(key)
    return IngestBatch.model_validate(doc)


def ingest(db: Database, batch: IngestBatch) -> IngestResponse:
    """Store a batch through central's ingest, registering its station on first use."""
    with db.pool.connection() as conn:
        row = conn.execute(
            "SELECT id FROM stations WHERE name = %s", (batch.station_id,)
        ).fetchone()
    if row is None:
        owner = token_owner(db, add_station(db, batch.station_id))
        assert owner is not None
        pk = owner.pk
    else:
        pk = int(row[0])
    return store_batch(db, pk, batch.station_id, batch)
