"""The ingest API against a real PostgreSQL: storage, idempotency, auth, limits, hostile input.

Every request goes through the Flask test client of a real central app; every
batch holds really analysed simulated files. Nothing is mocked.

Creating and migrating a database costs about a third of a second, so this
module migrates one database and empties its tables before each test (the
`central_db` fixture below overrides the one in conftest.py); each test still
starts from an empty, fully migrated schema.
"""

from __future__ import annotations

import base64
import copy
import gzip
import hashlib
import itertools
import json
import math
import struct
import tracemalloc
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from werkzeug.test import TestResponse

from agent.analysis.file import analyse_file
from agent.simulate import simulate_station
from central.db import Database
from central.ratelimit import RateLimiter
from central.stations import add_station, revoke_station
from central.web import create_app
from central.web.context import CentralContext, IngestLimits
from shared.curves import MAGIC, attach_passes, unpack_curve
from shared.ids import result_id
from shared.models import FileResult, Status
from shared.protocol import (
    HEARTBEAT_PATH,
    PROTOCOL_VERSION,
    RESULTS_PATH,
    Heartbeat,
    IngestBatch,
    StationResult,
)
from tests.real_truth import IN_REPO

STATION = "line-1"
OTHER = "line-2"
AGENT_VERSION = "0.1.0-test"
# High enough that only the rate-limit tests ever see a 429.
NO_RATE_LIMIT = IngestLimits(rate_limit_per_minute=1_000_000, rate_burst=1_000_000)
INT4_MAX = 2**31 - 1
MIB = 1024 * 1024
FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def file_results(tmp_path_factory: pytest.TempPathFactory) -> list[FileResult]:
    """Nine analysed files: Pass, Warning, Fail (one with two tracks) and an unreadable one."""
    folder = tmp_path_factory.mktemp("station")
    paths = simulate_station(folder, count=8, seed=2)
    broken = folder / "8340-1_SN1_TA_Test Data_11-22-2024.xlsx"
    broken.write_bytes(b"not a workbook")
    results = [analyse_file(path) for path in [*paths, broken]]
    statuses = {r.status for r in results}
    assert {Status.PASS, Status.WARNING, Status.FAIL, Status.ERROR} <= statuses
    assert any(len(r.tracks) == 2 for r in results)
    return results


@pytest.fixture
def token(central_db: Database) -> str:
    return add_station(central_db, STATION)


def make_client(db: Database, limits: IngestLimits = NO_RATE_LIMIT) -> FlaskClient:
    app = create_app(CentralContext(db=db, limits=limits))
    app.config["TESTING"] = True
    return app.test_client()


@pytest.fixture
def client(central_db: Database) -> FlaskClient:
    return make_client(central_db)


# --------------------------------------------------------------------------- helpers


def station_result(result: FileResult, station: str = STATION) -> StationResult:
    assert result.sha256 is not None
    return StationResult.from_result(result_id(station, result.sha256), result)


def make_batch(items: list[StationResult], station: str = STATION) -> IngestBatch:
    return IngestBatch(
        protocol_version=PROTOCOL_VERSION,
        station_id=station,
        agent_version=AGENT_VERSION,
        sent_at=datetime(2024, 11, 22, 9, 0, tzinfo=UTC),
        results=items,
    )


def batch_of(results: list[FileResult], station: str = STATION) -> IngestBatch:
    return make_batch([station_result(r, station) for r in results], station)


def heartbeat_doc(station: str = STATION, **changes: Any) -> dict[str, Any]:
    beat = Heartbeat(
        protocol_version=PROTOCOL_VERSION,
        station_id=station,
        agent_version=AGENT_VERSION,
        sent_at=datetime(2024, 11, 22, 9, 0, tzinfo=UTC),
        outbox_pending=3,
        oldest_undelivered_age_s=12.5,
        dead_letters=1,
        last_error="central unreachable",
    )
    return {**json.loads(beat.model_dump_json()), **changes}


def encode(payload: IngestBatch | dict[str, Any] | str) -> bytes:
    if isinstance(payload, IngestBatch):
        return payload.model_dump_json().encode()
    if isinstance(payload, str):
        return payload.encode()
    return json.dumps(payload).encode()


def post(
    client: FlaskClient,
    body: bytes,
    token: str | None,
    *,
    path: str = RESULTS_PATH,
    compress: bool = True,
    headers: dict[str, str] | None = None,
) -> TestResponse:
    sent = {"Content-Type": "application/json"}
    if compress:
        sent["Content-Encoding"] = "gzip"
        body = gzip.compress(body)
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    sent.update(headers or {})
    return client.post(path, data=body, headers=sent)


def send(client: FlaskClient, payload: Any, token: str | None, **kwargs: Any) -> TestResponse:
    return post(client, encode(payload), token, **kwargs)


@dataclass(frozen=True)
class Counts:
    results: int
    tracks: int
    heartbeats: int


def counts(db: Database) -> Counts:
    with db.pool.connection() as conn:
        row = conn.execute(
            "SELECT (SELECT COUNT(*) FROM results), (SELECT COUNT(*) FROM tracks), "
            "(SELECT COUNT(*) FROM heartbeats)"
        ).fetchone()
    assert row is not None
    return Counts(*(int(v) for v in row))


def partial_results(db: Database) -> list[str]:
    """Stored results whose tracks rows do not match the tracks in their own document."""
    with db.pool.connection() as conn:
        rows = conn.execute(
            "SELECT r.result_id FROM results r LEFT JOIN tracks t ON t.result_id = r.result_id "
            "GROUP BY r.result_id, r.document "
            "HAVING COUNT(t.track_id) <> jsonb_array_length(r.document -> 'tracks')"
        ).fetchall()
    return [str(row[0]) for row in rows]


def tracks_stored(db: Database, rid: str) -> int:
    with db.pool.connection() as conn:
        row = conn.execute("SELECT COUNT(*) FROM tracks WHERE result_id = %s", (rid,)).fetchone()
    assert row is not None
    return int(row[0])


def error_of(response: TestResponse, status: int, code: str | None = None) -> str:
    """Check a refusal's status and JSON body; returns its message."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body, dict)
    assert set(body) == {"error"}
    assert isinstance(body["error"]["code"], str)
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code
    return str(body["error"]["message"])


def acknowledged(response: TestResponse) -> dict[str, Any]:
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body, dict)
    assert set(body) == {"accepted", "duplicate", "rejected"}
    return body


def fresh_sha(n: int) -> str:
    return hashlib.sha256(f"fuzz-{n}".encode()).hexdigest()


# --------------------------------------------------------------------------- happy path


def test_batch_is_stored_with_all_tracks_metrics_and_exact_curves(
    client: FlaskClient, central_db: Database, token: str, file_results: list[FileResult]
) -> None:
    batch = batch_of(file_results)
    body = acknowledged(send(client, batch, token))

    ids = [item.result_id for item in batch.results]
    assert body == {"accepted": ids, "duplicate": [], "rejected": []}
    expected_tracks = sum(len(r.tracks) for r in file_results)
    assert counts(central_db) == Counts(len(file_results), expected_tracks, 0)
    assert partial_results(central_db) == []

    with central_db.pool.connection() as conn:
        station_pk = conn.execute("SELECT id FROM stations WHERE name = %s", (STATION,)).fetchone()
        results = {
            str(row[0]): row[1:]
            for row in conn.execute(
                "SELECT result_id, station_pk, sha256, file_name, status, system, model, serial, "
                "test_date, analysed_at, error_code, agent_version, analysis_version, document "
                "FROM results"
            )
        }
        tracks = {
            (str(row[0]), row[1]): row[2:]
            for row in conn.execute(
                "SELECT result_id, track_id, status, points, sigma_gradient, sigma_threshold, "
                "sigma_pass, linearity_error, linearity_spec, linearity_pass, optimal_offset, "
                "fail_points, raw_fail_points, travel_length, max_violation, margin_to_spec, "
                "near_miss, is_anomaly, curve FROM tracks"
            )
        }
    assert station_pk is not None
    for item, r in zip(batch.results, file_results, strict=True):
        stored = results[item.result_id]
        assert stored[:12] == (
            station_pk[0],
            r.sha256,
            r.file_name,
            r.status.value,
            r.system,
            r.model,
            r.serial,
            r.test_date,
            r.analysed_at,
            r.error.code if r.error else None,
            AGENT_VERSION,
            r.analysis_version,
        )
        # The document is the result as sent (curves travel apart, in the tracks table).
        assert FileResult.model_validate(stored[12]) == item.result
        for t in r.tracks:
            row = tracks[(item.result_id, t.track_id)]
            assert row[:16] == (
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
            )
            assert t.curve is not None
            assert unpack_curve(bytes(row[16])) == t.curve  # bit for bit, NaN limits as None
    curves = [t.curve for r in file_results for t in r.tracks if t.curve is not None]
    assert any(c.untrimmed_errors is not None for c in curves)
    assert {s.value for s in (Status.PASS, Status.WARNING, Status.FAIL, Status.ERROR)} <= {
        row[3] for row in results.values()
    }


def test_resending_a_batch_reports_duplicates_and_stores_nothing_new(
    client: FlaskClient, central_db: Database, token: str, file_results: list[FileResult]
) -> None:
    batch = batch_of(file_results[:4])
    acknowledged(send(client, batch, token))
    before = counts(central_db)
    with central_db.pool.connection() as conn:
        received = conn.execute("SELECT result_id, received_at FROM results").fetchall()

    again = acknowledged(send(client, batch, token))

    assert again == {
        "accepted": [],
        "duplicate": [i.result_id for i in batch.results],
        "rejected": [],
    }
    assert counts(central_db) == before
    with central_db.pool.connection() as conn:
        assert conn.execute("SELECT result_id, received_at FROM results").fetchall() == received


def test_batch_mixing_new_and_stored_results_is_split(
    client: FlaskClient, central_db: Database, token: str, file_results: list[FileResult]
) -> None:
    first = batch_of(file_results[:3])
    acknowledged(send(client, first, token))

    mixed = batch_of([file_results[4], file_results[1], file_results[5], file_results[0]])
    body = acknowledged(send(client, mixed, token))

    ids = [i.result_id for i in mixed.results]
    assert body == {"accepted": [ids[0], ids[2]], "duplicate": [ids[1], ids[3]], "rejected": []}
    used = [file_results[i] for i in (0, 1, 2, 4, 5)]
    assert counts(central_db) == Counts(5, sum(len(r.tracks) for r in used), 0)
    assert partial_results(central_db) == []


def test_the_same_result_twice_in_one_batch_is_stored_once(
    client: FlaskClient, central_db: Database, token: str, file_results: list[FileResult]
) -> None:
    item = station_result(file_results[2])
    body = acknowledged(send(client, make_batch([item, item]), token))

    assert body == {"accepted": [item.result_id], "duplicate": [], "rejected": []}
    assert counts(central_db) == Counts(1, len(file_results[2].tracks), 0)


def test_an_identity_body_without_gzip_is_accepted(
    client: FlaskClient, central_db: Database, token: str, file_results: list[FileResult]
) -> None:
    batch = batch_of(file_results[:2])
    for headers in ({}, {"Content-Encoding": "identity"}):
        response = send(client, batch, token, compress=False, headers=headers)
        assert acknowledged(response)["accepted" if not headers else "duplicate"] == [
            i.result_id for i in batch.results
        ]
    assert counts(central_db).results == 2


def test_content_type_with_charset_and_case_is_accepted(
    client: FlaskClient, token: str, file_results: list[FileResult]
) -> None:
    response = send(
        client,
        batch_of(file_results[:1]),
        token,
        headers={"Content-Type": "Application/JSON; charset=utf-8", "Content-Encoding": "GZIP"},
    )
    assert len(acknowledged(response)["accepted"]) == 1


# --------------------------------------------------------------------------- authentication


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer    ",
        "Basic dXNlcjpwYXNz",
        "Token {token}",
        "{token}",
        "Bearer not-a-token-central-issued",
        "Bearer {token}x",
    ],
)
def test_missing_malformed_or_unknown_token_is_401(
    client: FlaskClient,
    central_db: Database,
    token: str,
    file_results: list[FileResult],
    authorization: str | None,
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization.format(token=token)}
    response = send(client, batch_of(file_results[:2]), None, headers=headers)

    error_of(response, 401, "unauthorized")
    assert counts(central_db) == Counts(0, 0, 0)


def test_bearer_scheme_is_case_insensitive(
    client: FlaskClient, token: str, file_results: list[FileResult]
) -> None:
    response = send(
        client, batch_of(file_results[:1]), None, headers={"Authorization": f"bearer {token}"}
    )
    assert len(acknowledged(response)["accepted"]) == 1


def test_revoked_station_is_403_and_nothing_is_stored(
    client: FlaskClient, central_db: Database, token: str, file_results: list[FileResult]
) -> None:
    revoke_station(central_db, STATION)

    message = error_of(send(client, batch_of(file_results[:2]), token), 403, "token_revoked")
    assert STATION in message
    error_of(send(client, heartbeat_doc(), token, path=HEARTBEAT_PATH), 403, "token_revoked")
    assert counts(central_db) == Counts(0, 0, 0)


def test_batch_claiming_another_station_is_403_and_nothing_is_stored(
    client: FlaskClient, central_db: Database, token: str, file_results: list[FileResult]
) -> None:
    add_station(central_db, OTHER)
    batch = batch_of(file_results[:2], station=OTHER)  # ids correctly derived for OTHER

    error_of(send(client, batch, token), 403, "wrong_station")
    error_of(
        send(client, heartbeat_doc(station=OTHER), token, path=HEARTBEAT_PATH),
        403,
        "wrong_station",
    )
    assert counts(central_db) == Counts(0, 0, 0)


def test_result_id_not_derived_from_station_and_sha_is_rejected_alone(
    client: FlaskClient, central_db: Database, token: str, file_results: list[FileResult]
) -> None:
    good = station_result(file_results[0])
    foreign = station_result(file_results[1], station=OTHER)  # another station's id
    made_up = StationResult.from_result("00000000-0000-0000-0000-000000000000", file_results[2])
    tail = station_result(file_results[3])

    body = acknowledged(send(client, make_batch([good, foreign, made_up, tail]), token))

    assert body["accepted"] == [good.result_id, tail.result_id]
    assert body["duplicate"] == []
    assert [r["result_id"] for r in body["rejected"]] == [foreign.result_id, made_up.result_id]
    assert all("sha256" in r["reason"] for r in body["rejected"])
    with central_db.pool.connection() as conn:
        stored = {str(r[0]) for r in conn.execute("SELECT result_id FROM results")}
    assert stored == {good.result_id, tail.result_id}


def test_nul_characters_in_a_result_reject_that_result_only(
    client: FlaskClient, central_db: Database, token: str, file_results: list[FileResult]
) -> None:
    doc = json.loads(batch_of(file_results[:4]).model_dump_json())
    doc["results"][0]["result"]["file_name"] = "a\u0000.xlsx"
    doc["results"][1]["result"]["model"] = "\u0000"
    doc["results"][2]["result"]["tracks"][0]["notes"] = [{"code": "x", "message": "n\u0000"}]

    body = acknowledged(send(client, doc, token))

    ids = [item["result_id"] for item in doc["results"]]
    assert body["accepted"] == [ids[3]]
    assert [r["result_id"] for r in body["rejected"]] == ids[:3]
    assert all("NUL" in r["reason"] for r in body["rejected"])
    assert counts(central_db).results == 1


# --------------------------------------------------------------------------- limits and bodies


def test_body_over_max_body_bytes_is_413(
    central_db: Database, token: str, file_results: list[FileResult]
) -> None:
    client = make_client(central_db, IngestLimits(max_body_bytes=4096, rate_burst=100))
    body = encode(batch_of(file_results[:3]))
    assert len(body) > 4096

    error_of(post(client, body, token, compress=False), 413, "too_large")
    error_of(post(client, body + b" " * 10_000, token), 413, "too_large")  # gzip over 4096 too
    assert counts(central_db) == Counts(0, 0, 0)


def _gzip_of_zeros(size: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = bytes(MIB)
    parts = [packer.compress(chunk) for _ in range(size // MIB)]
    return b"".join([*parts, packer.flush()])


def test_gzip_bomb_is_413_without_inflating_it(central_db: Database, token: str) -> None:
    # A small max_body_bytes keeps the measurement about inflating, not reading.
    limits = IngestLimits(max_body_bytes=256 * 1024, max_uncompressed_bytes=MIB, rate_burst=100)
    client = make_client(central_db, limits)
    bomb = _gzip_of_zeros(64 * MIB)
    assert len(bomb) < 100_000

    tracemalloc.start()
    try:
        response = post(client, bomb, token, compress=False, headers={"Content-Encoding": "gzip"})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    error_of(response, 413, "too_large")
    assert peak < 8 * MIB  # the 64 MiB were never inflated
    assert counts(central_db) == Counts(0, 0, 0)


def test_uncompressed_body_over_the_limit_is_413(
    central_db: Database, token: str, file_results: list[FileResult]
) -> None:
    client = make_client(central_db, IngestLimits(max_uncompressed_bytes=1000, rate_burst=100))
    batch = batch_of(file_results[:1])

    error_of(send(client, batch, token), 413, "too_large")
    error_of(send(client, batch, token, compress=False), 413, "too_large")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(gzip.compress(b'{"protocol_version": 1}')[:-12], id="truncated"),
        pytest.param(gzip.compress(b'{"protocol_version": 1}')[:5], id="header-only"),
        pytest.param(b'{"protocol_version": 1}', id="plain-json"),
        pytest.param(b"", id="empty"),
        pytest.param(b"\x1f\x8b\x08\x00" + bytes(20), id="garbage-after-magic"),
    ],
)
def test_broken_gzip_is_400(
    client: FlaskClient, central_db: Database, token: str, body: bytes
) -> None:
    response = post(client, body, token, compress=False, headers={"Content-Encoding": "gzip"})
    error_of(response, 400, "bad_gzip")
    assert counts(central_db) == Counts(0, 0, 0)


@pytest.mark.parametrize(
    "text",
    ["", "{", "not json", '{"protocol_version": 1,}', "[1, 2]", "null", '"batch"'],
)
def test_invalid_json_is_400_naming_the_problem(
    client: FlaskClient, central_db: Database, token: str, text: str
) -> None:
    message = error_of(send(client, text, token), 400, "invalid_body")
    assert "problem" in message
    assert counts(central_db) == Counts(0, 0, 0)


def _drop_station_id(doc: dict[str, Any]) -> None:
    del doc["station_id"]


def _no_results(doc: dict[str, Any]) -> None:
    doc["results"] = []


def _bad_status(doc: dict[str, Any]) -> None:
    doc["results"][0]["result"]["tracks"][0]["status"] = "Great"


def _bad_sha(doc: dict[str, Any]) -> None:
    doc["results"][0]["result"]["sha256"] = "ABC"


def _extra_key(doc: dict[str, Any]) -> None:
    doc["surprise"] = 1


def _not_base64(doc: dict[str, Any]) -> None:
    curves = doc["results"][0]["curves"]
    curves[next(iter(curves))] = "not base64!"


def _wrong_magic(doc: dict[str, Any]) -> None:
    curves = doc["results"][0]["curves"]
    key = next(iter(curves))
    curves[key] = base64.b64encode(b"XXXX" + base64.b64decode(curves[key])[4:]).decode()


def _short_blob(doc: dict[str, Any]) -> None:
    curves = doc["results"][0]["curves"]
    key = next(iter(curves))
    curves[key] = base64.b64encode(base64.b64decode(curves[key])[:-8]).decode()


def _curve_inside_track(doc: dict[str, Any]) -> None:
    doc["results"][0]["result"]["tracks"][0]["curve"] = {
        "positions": [0.0],
        "errors": [0.0],
        "upper": [None],
        "lower": [None],
    }


def _duplicate_track(doc: dict[str, Any]) -> None:
    tracks = doc["results"][0]["result"]["tracks"]
    tracks.append(copy.deepcopy(tracks[0]))


def _text_version(doc: dict[str, Any]) -> None:
    doc["protocol_version"] = "one"


def _negative_points(doc: dict[str, Any]) -> None:
    doc["results"][0]["result"]["tracks"][0]["points"] = -1


def _unknown_curve(doc: dict[str, Any]) -> None:
    curves = doc["results"][0]["curves"]
    curves["TRK9"] = next(iter(curves.values()))


@pytest.mark.parametrize(
    ("mutate", "named"),
    [
        (_drop_station_id, "station_id"),
        (_no_results, "results"),
        (_bad_status, "status"),
        (_bad_sha, "sha256"),
        (_extra_key, "surprise"),
        (_not_base64, "base64"),
        (_wrong_magic, "magic"),
        (_short_blob, "size"),
        (_curve_inside_track, "curves"),
        (_duplicate_track, "unique"),
        (_text_version, "protocol_version"),
        (_negative_points, "points"),
        (_unknown_curve, "TRK9"),
    ],
)
def test_schema_violation_is_400_naming_the_problem(
    client: FlaskClient,
    central_db: Database,
    token: str,
    file_results: list[FileResult],
    mutate: Any,
    named: str,
) -> None:
    doc = json.loads(batch_of(file_results[:2]).model_dump_json())
    mutate(doc)

    message = error_of(send(client, doc, token), 400, "invalid_body")
    assert named in message
    assert counts(central_db) == Counts(0, 0, 0)


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "application/jsonx"]
)
def test_wrong_content_type_is_415(
    client: FlaskClient,
    central_db: Database,
    token: str,
    file_results: list[FileResult],
    content_type: str | None,
) -> None:
    body = gzip.compress(encode(batch_of(file_results[:1])))
    headers = {"Authorization": f"Bearer {token}", "Content-Encoding": "gzip"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = client.post(RESULTS_PATH, data=body, headers=headers)

    error_of(response, 415, "unsupported_media_type")
    assert counts(central_db) == Counts(0, 0, 0)


@pytest.mark.parametrize("encoding", ["br", "deflate", "x-gzip", "gzip, br", "compress"])
def test_unknown_content_encoding_is_415(
    client: FlaskClient,
    central_db: Database,
    token: str,
    file_results: list[FileResult],
    encoding: str,
) -> None:
    response = send(
        client, batch_of(file_results[:1]), token, headers={"Content-Encoding": encoding}
    )
    error_of(response, 415, "unsupported_encoding")
    assert counts(central_db) == Counts(0, 0, 0)


def test_more_results_than_max_batch_results_is_413(
    central_db: Database, token: str, file_results: list[FileResult]
) -> None:
    client = make_client(central_db, IngestLimits(max_batch_results=2, rate_burst=100))

    error_of(send(client, batch_of(file_results[:3]), token), 413, "batch_too_large")
    assert counts(central_db) == Counts(0, 0, 0)
    assert len(acknowledged(send(client, batch_of(file_results[:2]), token))["accepted"]) == 2


@pytest.mark.parametrize("version", [0, PROTOCOL_VERSION + 1, PROTOCOL_VERSION + 100, -1])
def test_unsupported_protocol_version_is_400(
    client: FlaskClient,
    central_db: Database,
    token: str,
    file_results: list[FileResult],
    version: int,
) -> None:
    doc = json.loads(batch_of(file_results[:1]).model_dump_json())
    doc["protocol_version"] = version

    message = error_of(send(client, doc, token), 400, "unsupported_protocol")
    assert str(version) in message
    error_of(
        send(client, heartbeat_doc(protocol_version=version), token, path=HEARTBEAT_PATH),
        400,
        "unsupported_protocol",
    )
    assert counts(central_db) == Counts(0, 0, 0)


def test_rate_limit_is_429_with_retry_after_per_station(
    central_db: Database, token: str, file_results: list[FileResult]
) -> None:
    client = make_client(central_db, IngestLimits(rate_limit_per_minute=1, rate_burst=2))
    other_token = add_station(central_db, OTHER)
    batch = batch_of(file_results[:1])

    acknowledged(send(client, batch, token))
    acknowledged(send(client, batch, token))
    limited = send(client, batch_of(file_results[1:2]), token)

    error_of(limited, 429, "rate_limited")
    assert 55 <= int(limited.headers["Retry-After"]) <= 60  # one request a minute
    error_of(send(client, heartbeat_doc(), token, path=HEARTBEAT_PATH), 429, "rate_limited")
    assert counts(central_db).results == 1
    # Another station has its own bucket.
    other = batch_of(file_results[2:3], station=OTHER)
    assert len(acknowledged(send(client, other, other_token))["accepted"]) == 1


# --------------------------------------------------------------------------- heartbeat


def heartbeat_row(db: Database) -> tuple[Any, ...] | None:
    with db.pool.connection() as conn:
        return conn.execute(
            "SELECT s.name, h.received_at, h.sent_at, h.agent_version, h.outbox_pending, "
            "h.oldest_undelivered_age_s, h.dead_letters, h.last_error "
            "FROM heartbeats h JOIN stations s ON s.id = h.station_pk"
        ).fetchone()


def test_heartbeat_is_stored_then_upserted(
    client: FlaskClient, central_db: Database, token: str
) -> None:
    response = send(client, heartbeat_doc(), token, path=HEARTBEAT_PATH)
    assert response.status_code == 200
    assert response.get_json() == {"ok": True}
    first = heartbeat_row(central_db)
    assert first is not None
    assert first[0] == STATION
    assert first[2:] == (
        datetime(2024, 11, 22, 9, 0, tzinfo=UTC),
        AGENT_VERSION,
        3,
        12.5,
        1,
        "central unreachable",
    )

    later = heartbeat_doc(
        sent_at="2024-11-22T09:00:30Z",
        outbox_pending=0,
        oldest_undelivered_age_s=None,
        dead_letters=0,
        last_error=None,
    )
    assert send(client, later, token, path=HEARTBEAT_PATH, compress=False).status_code == 200

    second = heartbeat_row(central_db)
    assert second is not None
    assert second[2:] == (
        datetime(2024, 11, 22, 9, 0, 30, tzinfo=UTC),
        AGENT_VERSION,
        0,
        None,
        0,
        None,
    )
    assert second[1] >= first[1]
    assert counts(central_db).heartbeats == 1
    with central_db.pool.connection() as conn:
        seen = conn.execute("SELECT last_seen_at FROM stations").fetchone()
    assert seen is not None and seen[0] is not None


@pytest.mark.parametrize("authorization", [None, "Bearer nope", "Basic abc"])
def test_heartbeat_requires_a_valid_token(
    client: FlaskClient, central_db: Database, token: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = send(client, heartbeat_doc(), None, path=HEARTBEAT_PATH, headers=headers)
    error_of(response, 401, "unauthorized")
    assert heartbeat_row(central_db) is None


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ("{", "invalid_body"),
        ({"protocol_version": 1}, "invalid_body"),
        ({"outbox_pending": -1}, "invalid_body"),
        ({"oldest_undelivered_age_s": -0.5}, "invalid_body"),
        ({"last_error": "x" * 2001}, "invalid_body"),
        ({"last_error": "boom\u0000"}, "invalid_body"),
        ({"station_id": "Not A Station"}, "invalid_body"),
        ({"unexpected": True}, "invalid_body"),
        ({"sent_at": "yesterday"}, "invalid_body"),
    ],
)
def test_heartbeat_with_a_bad_body_is_400(
    client: FlaskClient, central_db: Database, token: str, payload: Any, code: str
) -> None:
    if isinstance(payload, dict) and set(payload) != {"protocol_version"}:
        payload = heartbeat_doc(**payload)
    response = send(client, payload, token, path=HEARTBEAT_PATH)
    error_of(response, 400, code)
    assert heartbeat_row(central_db) is None


# --------------------------------------------------------------------------- health and metrics


def test_healthz_reports_the_database(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_metrics_count_requests_and_results(
    client: FlaskClient, token: str, file_results: list[FileResult]
) -> None:
    batch = batch_of(file_results[:3])
    acknowledged(send(client, batch, token))
    acknowledged(send(client, batch, token))
    send(client, batch, "wrong-token")
    send(client, heartbeat_doc(), token, path=HEARTBEAT_PATH)

    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    for line in (
        'lta_central_ingest_requests_total{endpoint="ingest.results",status="200"} 2.0',
        'lta_central_ingest_requests_total{endpoint="ingest.results",status="401"} 1.0',
        'lta_central_ingest_requests_total{endpoint="ingest.heartbeat",status="200"} 1.0',
        'lta_central_results_total{outcome="accepted"} 3.0',
        'lta_central_results_total{outcome="duplicate"} 3.0',
        'lta_central_results_total{outcome="rejected"} 0.0',
        "lta_central_ingest_seconds_count 2.0",
    ):
        assert line in text.splitlines()


def test_unknown_api_path_answers_json(client: FlaskClient) -> None:
    error_of(client.get("/api/v1/nothing"), 404)
    error_of(client.get(RESULTS_PATH), 405)


# --------------------------------------------------------------------------- regressions
# Each test pins a bug found by these tests and fixed in central or shared.


def _one_result_doc(results: list[FileResult]) -> dict[str, Any]:
    return json.loads(batch_of(results[:1]).model_dump_json())


def test_naive_analysed_at_is_not_a_server_error(
    client: FlaskClient, central_db: Database, token: str, file_results: list[FileResult]
) -> None:
    doc = _one_result_doc(file_results)
    doc["results"][0]["result"]["analysed_at"] = "2024-11-22T08:00:00"

    response = send(client, doc, token)
    assert response.status_code in (200, 400)
    assert partial_results(central_db) == []


@pytest.mark.parametrize("test_date", ["2024-11-22T08:00:00Z", "2024-11-22T08:00:00+01:00", 0])
def test_aware_test_date_is_not_a_server_error(
    client: FlaskClient, token: str, file_results: list[FileResult], test_date: Any
) -> None:
    doc = _one_result_doc(file_results)
    doc["results"][0]["result"]["test_date"] = test_date

    assert send(client, doc, token).status_code in (200, 400)


def test_nul_in_batch_agent_version_is_not_a_server_error(
    client: FlaskClient, token: str, file_results: list[FileResult]
) -> None:
    doc = _one_result_doc(file_results)
    doc["agent_version"] = "0.1\u0000"

    assert send(client, doc, token).status_code in (200, 400)


@pytest.mark.parametrize("field", ["model", "serial", "track_id"])
def test_long_indexed_text_is_refused_not_503(
    client: FlaskClient,
    central_db: Database,
    token: str,
    file_results: list[FileResult],
    field: str,
) -> None:
    doc = _one_result_doc(file_results)
    long_text = "".join(hashlib.sha256(str(i).encode()).hexdigest() for i in range(100))
    item = doc["results"][0]
    if field == "track_id":
        old = item["result"]["tracks"][0]["track_id"]
        item["result"]["tracks"][0]["track_id"] = long_text
        item["curves"] = {long_text: item["curves"][old]}
    else:
        item["result"][field] = long_text

    response = send(client, doc, token)
    assert response.status_code in (200, 400, 413)
    if response.status_code == 200:
        body = response.get_json()
        assert body["accepted"] or body["rejected"]
    assert partial_results(central_db) == []


@pytest.mark.parametrize("field", ["outbox_pending", "dead_letters"])
def test_heartbeat_counters_beyond_int4_are_not_a_server_error(
    client: FlaskClient, token: str, field: str
) -> None:
    response = send(client, heartbeat_doc(**{field: INT4_MAX + 1}), token, path=HEARTBEAT_PATH)
    assert response.status_code in (200, 400)


def test_heartbeat_nul_in_agent_version_is_not_a_server_error(
    client: FlaskClient, token: str
) -> None:
    response = send(client, heartbeat_doc(agent_version="1\u0000"), token, path=HEARTBEAT_PATH)
    assert response.status_code in (200, 400)


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity", "1e309", '"NaN"', '"-inf"'])
def test_metric_columns_never_hold_nan_or_infinity(
    client: FlaskClient,
    central_db: Database,
    token: str,
    file_results: list[FileResult],
    raw: str,
) -> None:
    doc = _one_result_doc(file_results)
    doc["results"][0]["result"]["tracks"][0]["sigma_gradient"] = "__VALUE__"
    text = json.dumps(doc).replace('"__VALUE__"', raw)

    response = send(client, text, token)
    assert response.status_code in (200, 400)
    with central_db.pool.connection() as conn:
        values = [row[0] for row in conn.execute("SELECT sigma_gradient FROM tracks")]
    assert all(v is None or math.isfinite(v) for v in values)


def test_small_request_does_not_allocate_max_body_bytes(client: FlaskClient, token: str) -> None:
    assert NO_RATE_LIMIT.max_body_bytes == 32 * MIB  # the default
    send(client, heartbeat_doc(), token, path=HEARTBEAT_PATH)  # warm up imports and caches

    tracemalloc.start()
    try:
        response = send(client, heartbeat_doc(), token, path=HEARTBEAT_PATH)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert response.status_code == 200
    assert peak < 4 * MIB


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_stored_times_can_be_read_back(
    client: FlaskClient,
    central_db: Database,
    token: str,
    file_results: list[FileResult],
    moment: str,
) -> None:
    doc = _one_result_doc(file_results)
    doc["results"][0]["result"]["analysed_at"] = moment
    beat = heartbeat_doc(sent_at=moment)

    assert send(client, doc, token).status_code in (200, 400)
    assert send(client, beat, token, path=HEARTBEAT_PATH).status_code in (200, 400)
    with central_db.pool.connection() as conn:
        conn.execute("SELECT analysed_at FROM results").fetchall()
        conn.execute("SELECT sent_at FROM heartbeats").fetchall()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_waiting_retry_after_seconds_is_enough(
    central_db: Database, token: str, file_results: list[FileResult]
) -> None:
    ctx = CentralContext(db=central_db, limits=IngestLimits(rate_limit_per_minute=1, rate_burst=1))
    clock = FakeClock()
    ctx.limiter = RateLimiter(per_minute=1, burst=1, clock=clock)
    client = create_app(ctx).test_client()
    acknowledged(send(client, batch_of(file_results[:1]), token))
    clock.now += 0.6

    limited = send(client, batch_of(file_results[1:2]), token)
    error_of(limited, 429, "rate_limited")
    clock.now += int(limited.headers["Retry-After"])

    acknowledged(send(client, batch_of(file_results[1:2]), token))


# --------------------------------------------------------------------------- property tests

# Mostly a valid token, so most bodies get past authentication and are actually read.
AUTHORIZATIONS = st.sampled_from(
    [None, "valid", "valid-lower", "Bearer", "Bearer wrong", "Basic abc", "Token valid"]
)
HEADER_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
CONTENT_TYPES = st.one_of(
    st.sampled_from([None, "application/json", "application/json; charset=utf-8", "text/plain"]),
    HEADER_TEXT,
)
CONTENT_ENCODINGS = st.one_of(
    st.sampled_from([None, "gzip", "identity", "GZIP", "br", "deflate", ""]), HEADER_TEXT
)


def _authorization(kind: str | None, token: str) -> dict[str, str]:
    if kind is None:
        return {}
    value = {"valid": f"Bearer {token}", "valid-lower": f"bearer {token}"}.get(kind, kind)
    return {"Authorization": value.replace("Token valid", f"Token {token}")}


def check_refusal_or_ack(response: TestResponse, path: str) -> dict[str, Any]:
    """Never a 5xx; always JSON: an error object, or the acknowledgement of the endpoint."""
    event(f"HTTP {response.status_code}")
    assert response.status_code < 500, response.get_data(as_text=True)
    body = response.get_json(silent=True)
    assert isinstance(body, dict), response.get_data(as_text=True)
    if response.status_code == 200:
        if path == HEARTBEAT_PATH:
            assert body == {"ok": True}
        else:
            assert set(body) == {"accepted", "duplicate", "rejected"}
            assert all(isinstance(body[k], list) for k in body)
    else:
        assert 400 <= response.status_code < 500
        assert set(body) == {"error"}
        assert isinstance(body["error"].get("code"), str)
        assert isinstance(body["error"].get("message"), str)
    return body


@pytest.fixture
def fuzz_client(central_db: Database) -> FlaskClient:
    return make_client(
        central_db,
        IngestLimits(
            max_body_bytes=256 * 1024,
            max_uncompressed_bytes=2 * MIB,
            rate_limit_per_minute=1_000_000,
            rate_burst=1_000_000,
        ),
    )


@FUZZ
@given(
    body=st.one_of(st.binary(max_size=2048), st.builds(lambda b: b"\x1f\x8b" + b, st.binary())),
    compress=st.booleans(),
    truncate=st.integers(min_value=0, max_value=64),
    proper_headers=st.booleans(),
    authorization=AUTHORIZATIONS,
    content_type=CONTENT_TYPES,
    content_encoding=CONTENT_ENCODINGS,
    path=st.sampled_from([RESULTS_PATH, HEARTBEAT_PATH]),
)
def test_arbitrary_bytes_never_break_central(
    fuzz_client: FlaskClient,
    central_db: Database,
    token: str,
    body: bytes,
    compress: bool,
    truncate: int,
    proper_headers: bool,
    authorization: str | None,
    content_type: str | None,
    content_encoding: str | None,
    path: str,
) -> None:
    data = gzip.compress(body) if compress else body
    if compress and truncate:
        data = data[:-truncate]
    if proper_headers:  # half the bodies get past the headers and are decompressed and parsed
        authorization, content_type = "valid", "application/json"
        content_encoding = "gzip" if compress else None
    headers = _authorization(authorization, token)
    if content_type is not None:
        headers["Content-Type"] = content_type
    if content_encoding is not None:
        headers["Content-Encoding"] = content_encoding

    response = fuzz_client.post(path, data=data, headers=headers)

    check_refusal_or_ack(response, path)
    assert response.status_code != 200
    assert counts(central_db) == Counts(0, 0, 0)


# Values a hostile or broken station might put anywhere in a document.
_SCALARS = [
    None,
    True,
    False,
    0,
    -1,
    1,
    INT4_MAX + 1,
    2**63,
    2**70,
    -(2**70),
    10**400,
    1e308,
    -1e308,
    5e-324,
    0.5,
    "NaN",
    "nan",
    "Infinity",
    "-inf",
    "",
    " ",
    "\u0000",
    "a\u0000b",
    "x" * 100_000,
    "é✓\u202e",
    "Pass",
    "Error",
    "TRK1",
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59.999999Z",
    "9999-12-31T23:59:59-14:00",
    "2024-02-30T00:00:00Z",
    "2024-11-22",
    "2024-11-22T08:00:00+01:00",
    "not base64!",
    "====",
    base64.b64encode(b"LTC1" + bytes(10)).decode(),
    base64.b64encode(b"XTC1" + struct.pack("<6I", 0, 0, 0, 0, 0, 0)).decode(),
    base64.b64encode(MAGIC + struct.pack("<6I", 1, 1, 1, 1, 0xFFFFFFFF, 0xFFFFFFFF)).decode(),
    base64.b64encode(
        MAGIC + struct.pack("<6I", 1, 1, 1, 1, 0xFFFFFFFF, 0xFFFFFFFF) + bytes(32)
    ).decode(),
    [],
    {},
    [[[[]]]],
    {"code": "x", "message": "y"},
]
_JUNK = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
HOSTILE = st.one_of(
    st.sampled_from(_SCALARS).map(copy.deepcopy),  # later mutations must not edit the pool
    st.text(st.sampled_from("ab\u0000 \u00e9\u2713\ud7ff\U0001f600"), min_size=1, max_size=8),
    st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode()),
    _JUNK,
)
# Fields the fuzzer aims at more often than a uniformly random path would (mostly inside
# results: a broken batch-level field only ever gives a 400, which dedicated tests cover).
_TARGETS = [
    ("agent_version",),
    ("results",),
    ("results", 0, "result_id"),
    ("results", 0, "curves"),
    ("results", 0, "result", "sha256"),
    ("results", 0, "result", "file_name"),
    ("results", 0, "result", "model"),
    ("results", 0, "result", "serial"),
    ("results", 0, "result", "test_date"),
    ("results", 0, "result", "analysed_at"),
    ("results", 0, "result", "status"),
    ("results", 0, "result", "notes"),
    ("results", 0, "result", "tracks"),
    ("results", 1, "result", "tracks", 0, "track_id"),
    ("results", 1, "result", "tracks", 0, "points"),
    ("results", 1, "result", "tracks", 0, "sigma_gradient"),
    ("results", 1, "result", "tracks", 1, "notes"),
    ("results", 1, "result", "error"),
]


def _all_paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _all_paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _all_paths(value, (*prefix, index))


def _resolve(doc: Any, path: tuple[Any, ...]) -> tuple[Any, Any] | None:
    """The container holding path's last step, and that step; None if the path is gone."""
    node = doc
    for step in path[:-1]:
        if (isinstance(node, dict) and step in node) or (
            isinstance(node, list) and isinstance(step, int) and step < len(node)
        ):
            node = node[step]
        else:
            return None
    last = path[-1]
    if (isinstance(node, dict) and last in node) or (
        isinstance(node, list) and isinstance(last, int) and last < len(node)
    ):
        return node, last
    return None


# Hostile values of the type a field already has: these often pass the schema and reach storage.
SAME_TYPE = {
    str: st.one_of(
        st.sampled_from([v for v in _SCALARS if isinstance(v, str)]),
        st.text(st.sampled_from("ab\u0000 \u00e9\u2713\U0001f600"), max_size=8),
        st.text(max_size=30),
    ),
    int: st.one_of(
        st.sampled_from([0, -1, 1, INT4_MAX, INT4_MAX + 1, 2**63, 2**70, -(2**70)]),
        st.integers(),
    ),
    float: st.one_of(
        st.sampled_from([0.0, -0.0, 1e308, -1e308, 5e-324, -1.0]),
        st.floats(allow_nan=False, allow_infinity=False),
    ),
    bool: st.booleans(),
    list: st.just([]),
}


def mutate(doc: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    for _ in range(data.draw(st.integers(min_value=1, max_value=3), label="mutations")):
        paths = [p for p in _all_paths(doc) if p]
        path = data.draw(st.one_of(st.sampled_from(_TARGETS), st.sampled_from(paths)), label="path")
        found = _resolve(doc, path)
        if found is None:
            continue
        parent, key = found
        action = data.draw(
            st.sampled_from(
                ["same_type", "same_type", "replace", "delete", "add_key", "duplicate", "nul"]
            ),
            label="action",
        )
        target = parent[key]
        if action == "same_type" and type(target) in SAME_TYPE:
            parent[key] = data.draw(SAME_TYPE[type(target)], label="same-type value")
        elif action == "delete":
            del parent[key]
        elif action == "add_key" and isinstance(target, dict):
            target[data.draw(st.text(max_size=8), label="key")] = data.draw(HOSTILE, label="v")
        elif action == "duplicate" and isinstance(target, list) and target:
            target.append(copy.deepcopy(target[0]))
        elif action == "nul" and isinstance(target, str):
            parent[key] = target + "\u0000"
        elif action == "nul" and isinstance(target, list):
            target.append({"code": "nul", "message": "a\u0000b"})
        else:
            parent[key] = data.draw(HOSTILE, label="value")
    return doc


def read_back(db: Database, ids: list[str]) -> int:
    """Every column of the given results and their tracks, as a reader would load them."""
    with db.pool.connection() as conn:
        rows = conn.execute(
            "SELECT r.*, t.* FROM results r LEFT JOIN tracks t ON t.result_id = r.result_id "
            "WHERE r.result_id = ANY(%s::uuid[])",
            (ids,),
        ).fetchall()
    return len(rows)


@pytest.fixture
def fuzz_base(file_results: list[FileResult]) -> dict[str, Any]:
    """A valid batch with a one-track Pass and a two-track Fail."""
    two_tracks = next(r for r in file_results if len(r.tracks) == 2)
    one_track = next(r for r in file_results if len(r.tracks) == 1)
    return json.loads(batch_of([one_track, two_tracks]).model_dump_json())


_serial = itertools.count()


@FUZZ
@given(data=st.data(), compress=st.booleans())
def test_hostile_documents_never_store_partial_results(
    fuzz_client: FlaskClient,
    central_db: Database,
    token: str,
    fuzz_base: dict[str, Any],
    data: st.DataObject,
    compress: bool,
) -> None:
    doc = copy.deepcopy(fuzz_base)
    for item in doc["results"]:  # new files each time, so valid documents get stored
        sha = fresh_sha(next(_serial))
        item["result"]["sha256"] = sha
        item["result_id"] = result_id(STATION, sha)
    doc = mutate(doc, data)
    text = json.dumps(doc)
    before = counts(central_db)

    response = post(fuzz_client, text.encode(), token, compress=compress)

    body = check_refusal_or_ack(response, RESULTS_PATH)
    after = counts(central_db)
    if response.status_code == 200:
        event(f"{len(body['accepted'])} accepted, {len(body['rejected'])} rejected")
        assert after.results - before.results == len(body["accepted"])
        sent = IngestBatch.model_validate_json(text)  # a 200 means the batch was valid
        tracks = {i.result_id: len(i.result.tracks) for i in reversed(sent.results)}
        for rid in body["accepted"]:
            assert tracks_stored(central_db, rid) == tracks[rid]
        read_back(central_db, body["accepted"])  # what central stores, it can read
    else:
        assert after == before
    assert partial_results(central_db) == []


@FUZZ
@given(data=st.data())
def test_hostile_heartbeats_never_break_central(
    fuzz_client: FlaskClient, central_db: Database, token: str, data: st.DataObject
) -> None:
    doc = mutate(heartbeat_doc(), data)
    text = json.dumps(doc)
    before = heartbeat_row(central_db)

    response = post(fuzz_client, text.encode(), token, path=HEARTBEAT_PATH)

    check_refusal_or_ack(response, HEARTBEAT_PATH)
    row = heartbeat_row(central_db)
    if response.status_code == 200:
        beat = Heartbeat.model_validate_json(text)
        assert row is not None
        assert row[3:5] == (beat.agent_version, beat.outbox_pending)
        assert row[6:] == (beat.dead_letters, beat.last_error)
        age = beat.oldest_undelivered_age_s
        assert row[5] == age or (age is not None and math.isnan(age) and math.isnan(row[5]))
    else:
        assert row == before
    assert counts(central_db).heartbeats <= 1


def test_fuzz_base_is_accepted(
    fuzz_client: FlaskClient, central_db: Database, token: str, fuzz_base: dict[str, Any]
) -> None:
    """The fuzzer starts from a document central accepts, so mutations test real edges."""
    body = acknowledged(send(fuzz_client, fuzz_base, token))
    assert len(body["accepted"]) == 2
    assert counts(central_db) == Counts(2, 3, 0)


# --------------------------------------------------------------------------- trim history


def _real(prefix: str) -> FileResult:
    (path,) = [p for p in IN_REPO.glob("*.xls") if p.name.startswith(prefix)]
    return analyse_file(path)


def test_protocol_3_stores_every_trim_pass_with_its_curve(
    client: FlaskClient, central_db: Database, token: str
) -> None:
    real = _real("7844_254A")  # a real unit trimmed in four passes
    assert PROTOCOL_VERSION == 3
    assert len(acknowledged(send(client, batch_of([real]), token))["accepted"]) == 1
    with central_db.pool.connection() as conn:
        curve, passes_blob, doc = conn.execute(
            "SELECT t.curve, t.pass_curves, r.document->'tracks'->0 FROM tracks t "
            "JOIN results r USING (result_id)"
        ).fetchone()
    assert passes_blob is not None
    assert [p["sheet"] for p in doc["passes"]][-1] == "SEC1 TRK1 4 TRM1"
    assert all(p.get("curve") is None for p in doc["passes"])  # curves live in the blobs
    assert doc["station_spec"]["resistance_max"] == 5500.0
    sent = real.tracks[0]
    bare = sent.model_copy(
        update={
            "curve": unpack_curve(bytes(curve)),
            "passes": [p.model_copy(update={"curve": None}) for p in sent.passes],
        }
    )
    assert attach_passes(bare, bytes(passes_blob)).passes == sent.passes  # bit-exact


def test_a_version_1_agent_is_still_accepted(
    client: FlaskClient, central_db: Database, token: str
) -> None:
    doc = json.loads(batch_of([_real("8340-1_82")]).model_dump_json())
    doc["protocol_version"] = 1
    for item in doc["results"]:  # what an agent before the trim history sent
        item.pop("pass_curves")
        item["result"]["schema_version"] = 1
        for track in item["result"]["tracks"]:
            for key in ("passes", "station_spec", "sheet"):
                track.pop(key)
    assert len(acknowledged(send(client, doc, token))["accepted"]) == 1
    with central_db.pool.connection() as conn:
        row = conn.execute("SELECT pass_curves, curve IS NOT NULL FROM tracks").fetchone()
    assert row == (None, True)


def _ltc1(blob: bytes) -> bytes:
    """An LTC2 curve blob as an agent before spec-aware verdicts wrote it (no theory)."""
    magic, *lengths = struct.unpack_from("<4s7I", blob)
    assert magic == b"LTC2"
    body = zlib.decompress(blob[struct.calcsize("<4s7I") :])
    theory = lengths[6]
    if theory != 0xFFFFFFFF:
        body = body[: len(body) - 8 * theory]
    return struct.pack("<4s6I", b"LTC1", *lengths[:6]) + zlib.compress(body, 1)


def test_a_version_2_agent_is_still_accepted_and_its_unit_page_draws(
    client: FlaskClient, central_db: Database, token: str
) -> None:
    doc = json.loads(batch_of([_real("8555_54")]).model_dump_json())
    doc["protocol_version"] = 2
    for item in doc["results"]:  # what an agent before spec-aware verdicts sent
        item["result"]["schema_version"] = 2
        item["result"].pop("spec_version")
        for track in item["result"]["tracks"]:
            for key in ("adjustment", "strict", "reasons", "resistance_pass", "angle_pass"):
                track.pop(key)
            for entry in track["passes"]:
                entry.pop("adjustment")
                entry.pop("strict")
        for track_id, blob in item["curves"].items():
            item["curves"][track_id] = base64.b64encode(_ltc1(base64.b64decode(blob))).decode()
    assert len(acknowledged(send(client, doc, token))["accepted"]) == 1
    with central_db.pool.connection() as conn:
        curve = conn.execute("SELECT curve FROM tracks LIMIT 1").fetchone()[0]
    assert unpack_curve(bytes(curve)).theory is None


def test_pass_curves_must_be_well_formed_and_outside_the_passes(token: str) -> None:
    real = _real("8506A_123")
    item = station_result(real)
    assert item.pass_curves  # passes 1 and 2 are neither untrimmed nor final
    doc = json.loads(item.model_dump_json())
    doc["pass_curves"]["TRK1"] = base64.b64encode(b"LTP1" + b"\xff" * 8).decode()
    with pytest.raises(ValueError, match="pass-curve blob"):
        StationResult.model_validate(doc)
    doc = json.loads(item.model_dump_json())
    doc["result"]["tracks"][0]["passes"][1]["curve"] = {"positions": [0.0], "errors": [0.0]}
    with pytest.raises(ValueError, match="pass_curves"):
        StationResult.model_validate(doc)
