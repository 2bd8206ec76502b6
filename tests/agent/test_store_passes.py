"""A real multi-pass unit survives the station store and the outbox bit for bit."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from agent.analysis.file import analyse_file
from agent.store import outbox, reads
from agent.store.store import Store
from shared.curves import attach_passes, pack_passes, unpack_curve
from shared.models import FileResult
from shared.protocol import StationResult
from tests.real_truth import IN_REPO


def _real(prefix: str) -> FileResult:
    (path,) = [p for p in IN_REPO.glob("*.xls") if p.name.startswith(prefix)]
    return analyse_file(path)


def test_every_pass_curve_comes_back_from_the_store(store: Store) -> None:
    result = _real("7844_254A")
    recorded = store.record(result, "station-test", datetime.now(UTC), None)
    assert recorded.result_pk is not None
    conn = store.read()
    assert reads.load_result(conn, recorded.result_pk) == result
    blob = conn.execute("SELECT pass_curves FROM tracks").fetchone()[0]
    # passes 1-3 only: the untrimmed and final passes are the track's own curve
    assert blob is not None and len(blob) < 3 * 21 * 16 + 64


def test_the_outbox_sends_what_the_analysis_made(store: Store) -> None:
    result = _real("8555_54")
    store.record(result, "station-test", datetime.now(UTC), None)
    (item,) = outbox.pending(store.read(), 10)
    assert item.station == StationResult.from_result(item.result_id, result)
    assert sorted(item.station.pass_curves) == ["TRK1"]  # TRK2 has no intermediate pass


def test_a_store_written_before_passes_existed_still_reads(store: Store) -> None:
    result = _real("8340-3_3")
    recorded = store.record(result, "station-test", datetime.now(UTC), None)
    conn = sqlite3.connect(store.path)
    with conn:
        conn.execute("UPDATE tracks SET pass_curves = NULL")
    conn.close()
    assert recorded.result_pk is not None
    track = reads.load_result(store.read(), recorded.result_pk).tracks[0]  # type: ignore[union-attr]
    curves = [p.curve is not None for p in track.passes]
    assert curves == [True, False, False, False, True]  # untrimmed and final from the track


def test_pass_blob_round_trip_without_a_track_curve() -> None:
    track = _real("8506A_123").tracks[0]
    blob = pack_passes(track)
    assert blob is not None
    bare = track.model_copy(
        update={"passes": [p.model_copy(update={"curve": None}) for p in track.passes]}
    )
    assert attach_passes(bare, blob) == track
    assert attach_passes(bare.model_copy(update={"curve": None}), blob).curve is None
    wire = StationResult.from_result("0" * 36, _real("8506A_123"))
    assert len(unpack_curve(wire.curves["TRK1"]).positions) == 171
