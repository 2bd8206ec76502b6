"""What one hostile station can make central inflate, store and show (issue 13, finding 1).

A curve blob's header declares its array lengths; before these limits central
inflated whatever was declared. Every test sends real batches through the
real ingest API into a real PostgreSQL; memory is measured with tracemalloc
around the request, never with a clock. The fixtures are test_central_ingest.py's
(imported, so both modules test the same central), hence the F811 exemption.
"""

# ruff: noqa: F811

from __future__ import annotations

import copy
import itertools
import json
import struct
import tracemalloc
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import event, given
from hypothesis import strategies as st

from central.db import Database
from shared.curves import MAGIC, MAX_PASSES, MAX_POINTS, PASS_MAGIC
from shared.ids import result_id
from shared.models import FileResult
from shared.protocol import (
    MAX_ABS_VALUE,
    MAX_BATCH_POINTS,
    MAX_NOTES,
    MAX_RESULT_POINTS,
    MAX_TRACKS,
    RESULTS_PATH,
    IngestBatch,
)
from tests.central.test_ingest import (  # noqa: F401 - fixtures of that module
    FUZZ,
    STATION,
    batch_of,
    check_refusal_or_ack,
    client,
    counts,
    error_of,
    file_results,
    fresh_sha,
    fuzz_client,
    partial_results,
    post,
    token,
)

MIB = 1024 * 1024
# What one refused request may allocate in central: a few copies of the (small) body.
MEMORY_BOUND = 32 * MIB
_HEADER = struct.Struct("<4s7I")  # LTC2: seven array lengths


def zeros_zlib(values: int) -> bytes:
    """`values` float64 zeros, deflated in steps so the test itself stays small."""
    deflater = zlib.compressobj(9)
    chunk = bytes(MIB)
    left = values * 8
    parts = []
    while left:
        step = min(left, len(chunk))
        parts.append(deflater.compress(chunk[:step]))
        left -= step
    parts.append(deflater.flush())
    return b"".join(parts)


def curve_blob(points: int) -> bytes:
    """A well-formed LTC2 blob of `points` zeros in each of its four required arrays."""
    absent = 0xFFFFFFFF
    return _HEADER.pack(MAGIC, points, points, points, points, absent, absent, absent) + zeros_zlib(
        4 * points
    )


def one_result(file_results: list[FileResult], n: int, tracks: int = 1) -> dict[str, Any]:
    """A fresh (never stored) result document with `tracks` tracks, ready to edit."""
    base = next(r for r in file_results if len(r.tracks) == 1)
    doc = json.loads(batch_of([base]).model_dump_json())
    item = doc["results"][0]
    sha = fresh_sha(10_000 + n)
    item["result"]["sha256"] = sha
    item["result_id"] = result_id(STATION, sha)
    track = item["result"]["tracks"][0]
    item["result"]["tracks"] = [{**track, "track_id": f"T{k}"} for k in range(tracks)]
    item["curves"], item["pass_curves"] = {}, {}
    return doc


def with_blob(doc: dict[str, Any], blob: bytes) -> dict[str, Any]:
    import base64

    text = base64.b64encode(blob).decode()
    for item in doc["results"]:
        item["curves"] = {t["track_id"]: text for t in item["result"]["tracks"]}
    return doc


def peak_of(action: Callable[[], Any]) -> tuple[Any, int]:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        outcome = action()
        return outcome, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --------------------------------------------------------------------------- the bomb


def test_curve_blob_declaring_more_points_than_a_sheet_is_refused_uninflated(
    client: FlaskClient, central_db: Database, token: str, file_results: list[FileResult]
) -> None:
    """3 million points per array: 96 MB inflated from ~100 kB on the wire."""
    bomb = curve_blob(3_000_000)
    body = json.dumps(with_blob(one_result(file_results, 1), bomb)).encode()
    assert len(body) < MIB

    response, peak = peak_of(lambda: post(client, body, token))

    message = error_of(response, 400, "invalid_body")
    assert f"at most {MAX_POINTS}" in message
    assert peak < MEMORY_BOUND, f"{peak / MIB:.0f} MiB for one refused request"
    assert counts(central_db).results == 0


def test_pass_curve_blob_declaring_too_many_points_is_refused(
    client: FlaskClient, central_db: Database, token: str, file_results: list[FileResult]
) -> None:
    import base64

    points = MAX_POINTS + 1
    blob = struct.pack("<4sI", PASS_MAGIC, 1) + struct.pack("<II", 1, points)
    blob += zeros_zlib(2 * points)
    doc = one_result(file_results, 2)
    doc["results"][0]["pass_curves"] = {"T0": base64.b64encode(blob).decode()}

    response = post(client, json.dumps(doc).encode(), token)

    assert f"at most {MAX_POINTS}" in error_of(response, 400, "invalid_body")
    assert counts(central_db).results == 0


def test_a_result_whose_curves_hold_too_many_values_is_refused(
    client: FlaskClient, central_db: Database, token: str, file_results: list[FileResult]
) -> None:
    """Every array within its limit, but the result as a whole over MAX_RESULT_POINTS."""
    per_track = 4 * MAX_POINTS
    tracks = MAX_RESULT_POINTS // per_track + 1
    assert tracks <= MAX_TRACKS
    doc = with_blob(one_result(file_results, 3, tracks=tracks), curve_blob(MAX_POINTS))

    response = post(client, json.dumps(doc).encode(), token)

    assert f"at most {MAX_RESULT_POINTS}" in error_of(response, 400, "invalid_body")
    assert counts(central_db).results == 0


def test_a_batch_whose_curves_hold_too_many_values_is_refused(
    client: FlaskClient, central_db: Database, token: str, file_results: list[FileResult]
) -> None:
    """Each result within its limit; together over MAX_BATCH_POINTS: refused, none stored."""
    per_track = 4 * MAX_POINTS
    tracks = MAX_RESULT_POINTS // per_track
    per_result = tracks * per_track
    results = MAX_BATCH_POINTS // per_result + 1
    blob = curve_blob(MAX_POINTS)
    docs = [
        with_blob(one_result(file_results, 100 + k, tracks=tracks), blob) for k in range(results)
    ]
    batch = docs[0]
    batch["results"] = [d["results"][0] for d in docs]

    response = post(client, json.dumps(batch).encode(), token)

    assert "send fewer results per batch" in error_of(response, 400, "invalid_body")
    assert counts(central_db).results == 0


# --------------------------------------------------------------------------- counts


def _many_tracks(doc: dict[str, Any]) -> str:
    track = doc["result"]["tracks"][0]
    doc["result"]["tracks"] = [{**track, "track_id": f"T{k}"} for k in range(MAX_TRACKS + 1)]
    return f"at most {MAX_TRACKS} tracks"


def _many_notes(doc: dict[str, Any]) -> str:
    doc["result"]["notes"] = [{"code": "n", "message": "m"}] * (MAX_NOTES + 1)
    return f"at most {MAX_NOTES} notes"


def _many_track_notes(doc: dict[str, Any]) -> str:
    doc["result"]["tracks"][0]["notes"] = [{"code": "n", "message": "m"}] * (MAX_NOTES + 1)
    return f"more than {MAX_NOTES} notes"


def _many_passes(doc: dict[str, Any]) -> str:
    doc["result"]["tracks"][0]["passes"] = [{"number": k, "sheet": f"S{k}"} for k in range(65)]
    return f"more than {MAX_PASSES} trim passes"


def _huge_sigma(doc: dict[str, Any]) -> str:
    doc["result"]["tracks"][0]["sigma_gradient"] = 1.7e308
    return "not a measured value"


def _huge_pass_value(doc: dict[str, Any]) -> str:
    doc["result"]["tracks"][0]["passes"] = [{"number": 0, "sheet": "S", "resistance": -1e13}]
    return "not a measured value"


@pytest.mark.parametrize(
    "change",
    [_many_tracks, _many_notes, _many_track_notes, _many_passes, _huge_sigma, _huge_pass_value],
)
def test_results_beyond_the_protocol_limits_are_refused_naming_the_limit(
    client: FlaskClient,
    central_db: Database,
    token: str,
    file_results: list[FileResult],
    change: Callable[[dict[str, Any]], str],
) -> None:
    doc = one_result(file_results, 4)
    expected = change(doc["results"][0])

    response = post(client, json.dumps(doc).encode(), token)

    assert expected in error_of(response, 400, "invalid_body")
    assert counts(central_db).results == 0


def test_values_at_the_limit_are_still_accepted(
    client: FlaskClient, central_db: Database, token: str, file_results: list[FileResult]
) -> None:
    doc = one_result(file_results, 5)
    doc["results"][0]["result"]["tracks"][0]["travel_length"] = MAX_ABS_VALUE
    response = post(client, json.dumps(doc).encode(), token)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["accepted"] == [doc["results"][0]["result_id"]]


# --------------------------------------------------------------------------- fuzzing


def _blob_header_mutations() -> st.SearchStrategy[Callable[[bytes], bytes]]:
    """Rewrite a blob's declared lengths (or pass entries) with hostile values."""
    lengths = st.one_of(
        st.integers(0, 2**32 - 1),
        st.sampled_from([0, 1, MAX_POINTS, MAX_POINTS + 1, 2**31, 2**32 - 2, 2**32 - 1]),
    )

    def relength(index: int, value: int) -> Callable[[bytes], bytes]:
        def apply(blob: bytes) -> bytes:
            if len(blob) < 4 + 4 * (index + 1):
                return blob
            start = 4 + 4 * index
            return blob[:start] + struct.pack("<I", value) + blob[start + 4 :]

        return apply

    def rebody(payload: bytes) -> Callable[[bytes], bytes]:
        return lambda blob: blob[: _HEADER.size] + payload

    return st.one_of(
        st.builds(relength, st.integers(0, 7), lengths),
        st.builds(rebody, st.sampled_from([zeros_zlib(200_000), zeros_zlib(4_000_000), b""])),
        st.builds(lambda b: lambda blob: b, st.binary(max_size=64)),
    )


_serial = itertools.count(50_000)


@pytest.fixture
def fuzz_doc(file_results: list[FileResult]) -> dict[str, Any]:
    """A valid batch with one two-track result, its curves and pass curves as a station sends."""
    two = next(r for r in file_results if len(r.tracks) == 2)
    return json.loads(batch_of([two]).model_dump_json())


@FUZZ
@given(data=st.data())
def test_mutated_curve_blobs_never_break_central_nor_its_memory(
    fuzz_client: FlaskClient,
    central_db: Database,
    token: str,
    fuzz_doc: dict[str, Any],
    data: st.DataObject,
) -> None:
    """Random header and body mutations of real blobs: never a 5xx, never more than a
    bounded allocation, and a refused batch stores nothing."""
    import base64

    doc = copy.deepcopy(fuzz_doc)
    item = doc["results"][0]
    sha = fresh_sha(next(_serial))
    item["result"]["sha256"], item["result_id"] = sha, result_id(STATION, sha)
    field = data.draw(st.sampled_from(["curves", "pass_curves"]))
    blobs: dict[str, str] = item[field]
    if blobs:
        key = data.draw(st.sampled_from(sorted(blobs)))
        blob = base64.b64decode(blobs[key])
        for mutation in data.draw(st.lists(_blob_header_mutations(), min_size=1, max_size=3)):
            blob = mutation(blob)
        blobs[key] = base64.b64encode(blob).decode()
    text = json.dumps(doc)
    before = counts(central_db)

    response, peak = peak_of(lambda: post(fuzz_client, text.encode(), token))

    event(f"HTTP {response.status_code}")
    check_refusal_or_ack(response, RESULTS_PATH)
    assert peak < MEMORY_BOUND, f"{peak / MIB:.0f} MiB"
    if response.status_code == 200:
        IngestBatch.model_validate_json(text)  # a 200 means a valid batch
    else:
        assert counts(central_db) == before
    assert partial_results(central_db) == []


def test_limits_do_not_refuse_what_real_stations_send(
    client: FlaskClient, central_db: Database, token: str, file_results: list[FileResult]
) -> None:
    response = post(client, batch_of(file_results).model_dump_json().encode(), token)
    assert response.status_code == 200
    assert len(response.get_json()["accepted"]) == len(file_results)
