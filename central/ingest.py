"""Store a station's batch: idempotent on result_id, all of it or none of it.

The ids already stored are looked up first; only new rows are streamed with
binary COPY, so a batch of 500 results costs a handful of round trips, and a
result already stored (a resend after a lost acknowledgement) is reported as a
duplicate, never stored twice. The primary key on result_id stays the last
line of defence. A stored result sent again with a higher revision (the station
re-analysed it) replaces the stored one, which is kept (central/revisions.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from central import revisions, rollups
from central.db import Database
from shared.models import FileResult, document_json
from shared.protocol import IngestBatch, IngestResponse, Rejected, StationResult

STATION_LOCK_CLASS = 0x4C54  # advisory lock namespace for per-station ingest
RESULT_COLUMNS = (
    "result_id, station_pk, sha256, file_name, status, system, model, serial, test_date, "
    "analysed_at, error_code, agent_version, analysis_version, document, revision, "
    "revision_reason"
)
TRACK_COLUMNS = (
    "result_id, track_id, status, points, sigma_gradient, sigma_threshold, sigma_pass, "
    "linearity_error, linearity_spec, linearity_pass, optimal_offset, fail_points, "
    "raw_fail_points, travel_length, max_violation, margin_to_spec, near_miss, is_anomaly, curve, "
    "pass_curves, untrimmed_only"
)


RESULT_TYPES = (
    "uuid",
    "int8",
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
    "timestamp",
    "timestamptz",
    "text",
    "text",
    "text",
    "jsonb",
    "int4",
    "text",
)
TRACK_TYPES = (
    *("uuid", "text", "text", "int4", "float8", "float8", "bool", "float8", "float8", "bool"),
    *("float8", "int4", "int4", "float8", "float8", "float8", "bool", "bool", "bytea", "bytea"),
    "bool",
)


def _document(result: FileResult) -> str:
    """The result without curves (they go to bytea columns) as JSON text."""
    return document_json(result)


@dataclass(frozen=True)
class Screened:
    item: StationResult
    document: str


def screen(batch: IngestBatch, station_name: str) -> tuple[list[Screened], list[Rejected]]:
    """Items that may be stored, and the ones refused with a reason (never stored)."""
    keep: list[Screened] = []
    rejected: list[Rejected] = []
    seen: set[str] = set()
    for item in batch.results:
        document = _document(item.result)
        if not item.matches(station_name):
            reason = "result_id is not the id of this station and this file's sha256"
            rejected.append(Rejected(result_id=item.result_id, reason=reason))
        elif "\\u0000" in document:  # PostgreSQL text cannot hold NUL
            rejected.append(
                Rejected(result_id=item.result_id, reason="text contains NUL characters")
            )
        elif item.result_id not in seen:  # a repeat within one batch: the first copy answers
            seen.add(item.result_id)
            keep.append(Screened(item, document))
    return keep, rejected


def _result_row(entry: Screened, station_pk: int, agent_version: str) -> tuple[Any, ...]:
    r = entry.item.result
    return (
        UUID(entry.item.result_id),
        station_pk,
        r.sha256,
        r.file_name,
        r.status.value,
        r.system,
        r.model,
        r.serial,
        r.test_date,
        entry.item.first_analysed_at or r.analysed_at,  # a revision keeps its unit's time
        r.error.code if r.error else None,
        agent_version,
        r.analysis_version,
        Jsonb(entry.document, dumps=_as_is),
        entry.item.revision,
        entry.item.revision_reason,
    )


def _as_is(text: Any) -> str:
    return str(text)


def _track_rows(item: StationResult) -> list[tuple[Any, ...]]:
    return [
        (
            UUID(item.result_id),
            t.track_id,
            t.status.value,
            t.points,
            t.sigma_gradient,
            t.sigma_threshold,
            t.sigma_pass,
            t.linearity_error,
            t.linearity_spec,
            t.linearity_pass,
            t.optimal_offset,
            t.fail_points,
            t.raw_fail_points,
            t.travel_length,
            t.max_violation,
            t.margin_to_spec,
            t.near_miss,
            t.is_anomaly,
            item.curves.get(t.track_id),
            item.pass_curves.get(t.track_id),
            t.untrimmed_only,
        )
        for t in item.result.tracks
    ]


def copy_new(
    cur: psycopg.Cursor[Any],
    fresh: list[Screened],
    station_pk: int,
    agent_version: str,
    fail_bins: list[rollups.FailBins] | None = None,
) -> None:
    """COPY results not stored yet, their tracks, and their rollups (caller's transaction).

    `lta-central seed` writes through here too, so seeded rows are ingested rows.
    fail_bins: precomputed by a caller that has the curves as arrays; else from the blobs.
    """
    with cur.copy(f"COPY results ({RESULT_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(RESULT_TYPES)
        for entry in fresh:
            copy.write_row(_result_row(entry, station_pk, agent_version))
    with cur.copy(f"COPY tracks ({TRACK_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(TRACK_TYPES)
        for entry in fresh:
            for row in _track_rows(entry.item):
                copy.write_row(row)
    # The dashboard's rollups, in the same transaction (central/rollups.py).
    if fail_bins is None:
        fail_bins = rollups.fail_bins_of(entry.item for entry in fresh)
    rollups.record(cur, [UUID(entry.item.result_id) for entry in fresh], fail_bins)


def store_batch(
    db: Database, station_pk: int, station_name: str, batch: IngestBatch
) -> IngestResponse:
    """Insert the new results of a batch; report the rest as duplicates or rejections.

    A station's batches are serialised by an advisory lock on the station, so
    the ids found missing are still missing when the COPY runs (ids of
    different stations never collide: they are derived from the station id).
    """
    keep, rejected = screen(batch, station_name)
    fresh: list[Screened] = []
    if keep:
        with db.pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (STATION_LOCK_CLASS, station_pk))
            present = {
                str(row[0]): int(row[1])
                for row in conn.execute(
                    "SELECT result_id, revision FROM results WHERE result_id = ANY(%s::uuid[])",
                    ([entry.item.result_id for entry in keep],),
                )
            }
            # New results, and new revisions of stored ones (central/revisions.py).
            fresh = [e for e in keep if e.item.revision > present.get(e.item.result_id, -1)]
            newer = [UUID(e.item.result_id) for e in fresh if e.item.result_id in present]
            with conn.cursor() as cur:
                replaced = revisions.supersede(cur, newer) if newer else []
                if fresh:
                    copy_new(cur, fresh, station_pk, batch.agent_version)
                if newer:
                    rollups.refresh(cur, newer, replaced)
                cur.execute("UPDATE stations SET last_seen_at = now() WHERE id = %s", (station_pk,))
    fresh_ids = {entry.item.result_id for entry in fresh}
    return IngestResponse(
        accepted=[e.item.result_id for e in keep if e.item.result_id in fresh_ids],
        duplicate=[e.item.result_id for e in keep if e.item.result_id not in fresh_ids],
        rejected=rejected,
    )
