"""The ingest API for stations: results batches and heartbeats.

Every refusal is a 4xx with a JSON body {"error": {"code", "message"}} and
stores nothing: authentication, size limits, decompression, schema and
protocol checks all happen before the database is touched.
"""

from __future__ import annotations

import gzip
import math
import time
import zlib
from collections.abc import Callable
from typing import Any, NoReturn

import psycopg
from flask import Blueprint, Response, jsonify, request
from pydantic import ValidationError

from central.ingest import store_batch
from central.stations import TokenOwner, token_owner
from central.web.context import context
from shared.protocol import (
    PROTOCOL_VERSION,
    SUPPORTED_PROTOCOLS,
    Heartbeat,
    IngestBatch,
    parse_batch,
)

bp = Blueprint("ingest", __name__, url_prefix="/api/v1")
READ_CHUNK = 1024 * 1024


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after


def fail(status: int, code: str, message: str, retry_after: float | None = None) -> NoReturn:
    raise ApiError(status, code, message, retry_after)


@bp.errorhandler(ApiError)
def api_error(exc: ApiError) -> Response:
    response = jsonify({"error": {"code": exc.code, "message": exc.message}})
    response.status_code = exc.status
    if exc.retry_after is not None:
        response.headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    context().metrics.requests.labels(endpoint=request.endpoint or "?", status=exc.status).inc()
    return response


def _station() -> TokenOwner:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        fail(401, "unauthorized", "Send the station token as 'Authorization: Bearer <token>'.")
    owner = token_owner(context().db, token.strip())
    if owner is None:
        fail(401, "unauthorized", "Unknown station token. Check LTA_AGENT_CENTRAL_TOKEN.")
    if owner.revoked:
        fail(403, "token_revoked", f"The token of station {owner.name!r} has been revoked.")
    wait = context().limiter.acquire(owner.name)
    if wait > 0:
        fail(429, "rate_limited", "Too many requests from this station; slow down.", wait)
    return owner


def _body() -> bytes:
    limits = context().limits
    length = request.content_length
    if length is not None and length > limits.max_body_bytes:
        fail(
            413,
            "too_large",
            f"Request body over {limits.max_body_bytes} bytes; send smaller batches.",
        )
    raw = _read_at_most(limits.max_body_bytes)
    encoding = request.headers.get("Content-Encoding", "identity").lower()
    if encoding == "identity":
        data = raw
    elif encoding == "gzip":
        data = _gunzip(raw, limits.max_uncompressed_bytes)
    else:
        fail(415, "unsupported_encoding", "Content-Encoding must be gzip or identity.")
    if len(data) > limits.max_uncompressed_bytes:
        fail(413, "too_large", "Uncompressed body over the limit; send smaller batches.")
    return data


def _read_at_most(limit: int) -> bytes:
    """The body in chunks, stopping past the limit (one read of `limit` bytes would
    allocate that much for every request, however small)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = request.stream.read(READ_CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            fail(413, "too_large", f"Request body over {limit} bytes; send smaller batches.")
        chunks.append(chunk)


def _gunzip(raw: bytes, limit: int) -> bytes:
    """Decompress at most limit + 1 bytes, so a small gzip bomb cannot fill memory."""
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = decompressor.decompress(raw, limit + 1)
        if len(data) <= limit and not decompressor.eof:
            fail(400, "bad_gzip", "The gzip body is truncated.")
    except (zlib.error, gzip.BadGzipFile):
        fail(400, "bad_gzip", "The body is not valid gzip data.")
    return data


def _check_json() -> None:
    kind = (request.mimetype or "").lower()
    if kind != "application/json":
        fail(415, "unsupported_media_type", "Content-Type must be application/json.")


def _parse(parser: Callable[[bytes], Any], data: bytes) -> Any:
    try:
        return parser(data)
    except ValidationError as exc:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid"}
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        fail(
            400,
            "invalid_body",
            f"{where}: {first.get('msg', 'invalid')} ({exc.error_count()} problem(s))",
        )


def _same_station(owner: TokenOwner, claimed: str) -> None:
    if claimed != owner.name:
        fail(403, "wrong_station", f"This token belongs to {owner.name!r}, not {claimed!r}.")


def _protocol(version: int) -> None:
    if version not in SUPPORTED_PROTOCOLS:
        spoken = ", ".join(str(v) for v in SUPPORTED_PROTOCOLS)
        fail(
            400,
            "unsupported_protocol",
            f"Protocol {version} is not supported; this central speaks {spoken} "
            f"(newest {PROTOCOL_VERSION}). Upgrade central or install a matching agent.",
        )


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]


@bp.post("/results")
def results() -> Any:
    started = time.perf_counter()
    owner = _station()
    _check_json()
    batch: IngestBatch = _parse(parse_batch, _body())
    _protocol(batch.protocol_version)
    _same_station(owner, batch.station_id)
    limits = context().limits
    if len(batch.results) > limits.max_batch_results:
        fail(413, "batch_too_large", f"At most {limits.max_batch_results} results per batch.")
    try:
        response = store_batch(context().db, owner.pk, owner.name, batch)
    except (psycopg.DataError, psycopg.errors.ProgramLimitExceeded) as exc:
        fail(
            400, "invalid_value", f"The database refused a value in this batch: {_first_line(exc)}"
        )
    except psycopg.OperationalError:
        fail(503, "database_unavailable", "The database is unavailable; retry later.", 5)
    metrics = context().metrics
    metrics.results.labels(outcome="accepted").inc(len(response.accepted))
    metrics.results.labels(outcome="duplicate").inc(len(response.duplicate))
    metrics.results.labels(outcome="rejected").inc(len(response.rejected))
    metrics.latency.observe(time.perf_counter() - started)
    metrics.requests.labels(endpoint="ingest.results", status=200).inc()
    return jsonify(response.model_dump(mode="json"))


def _checked_heartbeat() -> tuple[TokenOwner, Heartbeat]:
    """A heartbeat body that passed every check a heartbeat passes (token, size, schema,
    protocol, station), and its token's owner."""
    owner = _station()
    _check_json()
    beat: Heartbeat = _parse(Heartbeat.model_validate_json, _body())
    _protocol(beat.protocol_version)
    _same_station(owner, beat.station_id)
    return owner, beat


@bp.post("/token-check")
def token_check() -> Any:
    """Answer as a heartbeat would, recording nothing (`lta-agent doctor`).

    A heartbeat updates the station's last-seen time, so a doctor run on a PC
    whose agent never ran made central show the station alive.
    """
    owner, _ = _checked_heartbeat()
    context().metrics.requests.labels(endpoint="ingest.token_check", status=200).inc()
    return jsonify({"ok": True, "station": owner.name})


@bp.post("/heartbeat")
def heartbeat() -> Any:
    owner, beat = _checked_heartbeat()
    try:
        with context().db.pool.connection() as conn:
            conn.execute(
                "INSERT INTO heartbeats (station_pk, received_at, sent_at, agent_version, "
                "outbox_pending, oldest_undelivered_age_s, dead_letters, last_error) "
                "VALUES (%s, now(), %s, %s, %s, %s, %s, %s) ON CONFLICT (station_pk) DO UPDATE SET "
                "received_at = now(), sent_at = EXCLUDED.sent_at, "
                "agent_version = EXCLUDED.agent_version, outbox_pending = EXCLUDED.outbox_pending, "
                "oldest_undelivered_age_s = EXCLUDED.oldest_undelivered_age_s, "
                "dead_letters = EXCLUDED.dead_letters, last_error = EXCLUDED.last_error",
                (
                    owner.pk,
                    beat.sent_at,
                    beat.agent_version,
                    beat.outbox_pending,
                    beat.oldest_undelivered_age_s,
                    beat.dead_letters,
                    beat.last_error,
                ),
            )
            conn.execute("UPDATE stations SET last_seen_at = now() WHERE id = %s", (owner.pk,))
    except psycopg.OperationalError:
        fail(503, "database_unavailable", "The database is unavailable; retry later.", 5)
    context().metrics.requests.labels(endpoint="ingest.heartbeat", status=200).inc()
    return jsonify({"ok": True})
