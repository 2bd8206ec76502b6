"""Rollups kept by the ingest equal a from-scratch recomputation, whatever arrives.

Real PostgreSQL, real analysed files (simulated and real station files),
batches stored through central's own ingest: new results, resends,
batches mixing both, protocol-1 batches and a second station.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import psycopg
import pytest

from central import rollups
from central.db import Database
from central.ingest import store_batch
from central.stations import add_station, token_owner
from shared.ids import result_id
from shared.models import FileResult, Status
from shared.protocol import IngestBatch, StationResult
from tests.central.data_helpers import (
    analysed_files,
    batch_of,
    ingest,
    renamed,
)
from tests.conftest import emptied

LINE_1, LINE_2 = "line-1", "line-2"
DAY = date(2025, 3, 10)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[FileResult]:
    results = analysed_files(tmp_path_factory.mktemp("station"), count=12, seed=7)
    # Spread them over three production days so the rollups have several keys.
    spread = [
        r.model_copy(
            update={
                "test_date": datetime.combine(DAY - timedelta(i % 3), datetime.min.time())
                + timedelta(hours=8, minutes=i)
            }
        )
        for i, r in enumerate(results)
    ]
    statuses = {r.status for r in spread}
    assert {Status.PASS, Status.FAIL} <= statuses
    assert any(t.fail_points for r in spread for t in r.tracks)
    return spread


@pytest.fixture
def db(module_db: Database) -> Database:
    return emptied(module_db)


def stored_and_recomputed(db: Database) -> tuple[Any, Any]:
    with db.pool.connection() as conn:
        return rollups.stored(conn), rollups.recomputed(conn)


def assert_rows_equal(actual: list[tuple[Any, ...]], expected: list[tuple[Any, ...]]) -> None:
    """Counts exactly; sums of floats to the last few bits (they were added in another order)."""
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected, strict=True):
        assert len(got) == len(want)
        for a, b in zip(got, want, strict=True):
            if isinstance(b, float):
                assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300), (got, want)
            else:
                assert a == b, (got, want)


def assert_consistent(db: Database) -> None:
    (daily, bins), (daily_again, bins_again) = stored_and_recomputed(db)
    assert daily, "nothing was rolled up"
    assert_rows_equal(daily, daily_again)
    assert_rows_equal(bins, bins_again)
    with db.pool.connection() as conn:
        assert rollups.series_drift(conn) == 0
        series, tracks = conn.execute(
            "SELECT (SELECT COUNT(*) FROM track_series), (SELECT COUNT(*) FROM tracks)"
        ).fetchone()  # type: ignore[misc]
    assert series == tracks


def test_rollups_equal_a_recomputation_after_resends_protocol_1_and_two_stations(
    db: Database, files: list[FileResult]
) -> None:
    first = ingest(db, batch_of(files[:8], LINE_1))
    assert len(first.accepted) == 8
    assert_consistent(db)

    mixed = ingest(db, batch_of(files[5:14], LINE_1))  # 3 stored already, 6 new
    assert (len(mixed.accepted), len(mixed.duplicate)) == (6, 3)
    resent = ingest(db, batch_of(files[:8], LINE_1))  # a lost acknowledgement: all duplicates
    assert resent.accepted == [] and len(resent.duplicate) == 8
    old_agent = ingest(db, batch_of(files[14:], LINE_1, protocol=1))
    assert len(old_agent.accepted) == len(files) - 14
    again_old = ingest(db, batch_of(files[12:], LINE_1, protocol=1))  # duplicates too
    assert len(again_old.accepted) == 0
    other = ingest(db, batch_of(files, LINE_2))  # the same files from another station
    assert len(other.accepted) == len(files)

    assert_consistent(db)


def test_rollup_counts_are_the_units_that_were_sent(db: Database, files: list[FileResult]) -> None:
    ingest(db, batch_of(files[:10], LINE_1))
    ingest(db, batch_of(files[6:], LINE_1, protocol=1))
    ingest(db, batch_of(files[:4], LINE_2))

    expected: dict[tuple[str, str, date], Counter[str]] = defaultdict(Counter)
    for station, sent in ((LINE_1, files), (LINE_2, files[:4])):
        for r in sent:
            key = (station, r.model or "", (r.test_date or r.analysed_at).date())
            counts = expected[key]
            counts["results"] += 1
            counts[r.status.value] += 1
            counts["tracks"] += len(r.tracks)
            counts["near_misses"] += sum(t.near_miss for t in r.tracks)
            counts["fail_points"] += sum(
                t.fail_points or 0 for t in r.tracks if t.status != Status.ERROR
            )
    with db.pool.connection() as conn:
        rows = conn.execute(
            "SELECT s.name, d.model, d.day, d.results, d.passes, d.warnings, d.fails, d.errors, "
            "d.tracks, d.near_misses, d.fail_points FROM rollup_daily d "
            "JOIN stations s ON s.id = d.station_pk"
        ).fetchall()
    got = {
        (name, model, day): Counter(
            {
                "results": results,
                "Pass": passes,
                "Warning": warnings,
                "Fail": fails,
                "Error": errors,
                "tracks": tracks,
                "near_misses": near,
                "fail_points": fp,
            }
        )
        for name, model, day, results, passes, warnings, fails, errors, tracks, near, fp in rows
    }
    assert {k: +v for k, v in got.items()} == {k: +v for k, v in expected.items()}


def test_sigma_and_linearity_sums_are_those_of_the_tracks(
    db: Database, files: list[FileResult]
) -> None:
    ingest(db, batch_of(files, LINE_1))
    analysed = [t for r in files for t in r.tracks if t.sigma_gradient is not None]
    with_spec = [t for t in analysed if t.linearity_spec and t.linearity_error is not None]
    with db.pool.connection() as conn:
        row = conn.execute(
            "SELECT SUM(sigma_n), SUM(sigma_sum), SUM(sigma_sumsq), SUM(lin_n), SUM(lin_sum), "
            "SUM(ratio_sum), SUM(ratio_sumsq) FROM rollup_daily"
        ).fetchone()
    assert row is not None
    sigma = np.array([t.sigma_gradient for t in analysed])
    ratios = np.array([t.linearity_error / t.linearity_spec for t in with_spec])  # type: ignore[operator]
    assert row[0] == sigma.size
    assert row[1] == pytest.approx(sigma.sum(), rel=1e-12)
    assert row[2] == pytest.approx((sigma**2).sum(), rel=1e-12)
    assert row[3] == len(with_spec)
    assert row[4] == pytest.approx(sum(t.linearity_error for t in with_spec), rel=1e-12)  # type: ignore[misc]
    assert row[5] == pytest.approx(ratios.sum(), rel=1e-12)
    assert row[6] == pytest.approx((ratios**2).sum(), rel=1e-12)


def _bins_from_the_analysis(result: FileResult) -> dict[str, tuple[int, ...]]:
    """Fail-position bins straight from the analysed curve (no blob, no database)."""
    found = {}
    for t in result.tracks:
        if not t.fail_points or t.curve is None or t.optimal_offset is None:
            continue
        positions = np.array(t.curve.positions)
        errors = np.array(t.curve.errors)
        upper = np.array(t.curve.upper, dtype=float)
        lower = np.array(t.curve.lower, dtype=float)
        # The verdict's arithmetic: c outside [lower - e - t*k, upper - e - t*k], and the
        # points the station ignores never fail.
        c = t.optimal_offset
        assert t.adjustment is not None and t.curve.theory is not None
        tilt = np.array(t.curve.theory) * t.adjustment.k
        with np.errstate(invalid="ignore"):
            outside = ((upper - errors) - tilt < c) | ((lower - errors) - tilt > c)
        outside[t.adjustment.excluded_points] = False
        failing = positions[outside]
        share = (failing - positions.min()) / (positions.max() - positions.min())
        index = np.minimum((share * rollups.FAIL_BINS).astype(int), rollups.FAIL_BINS - 1)
        found[t.track_id] = tuple(np.bincount(index, minlength=rollups.FAIL_BINS).tolist())
    return found


def test_fail_bins_hold_every_failing_point_where_the_curve_has_it(
    db: Database, files: list[FileResult]
) -> None:
    ingest(db, batch_of(files, LINE_1))
    expected = {}
    for r in files:
        assert r.sha256 is not None
        for track_id, bins in _bins_from_the_analysis(r).items():
            expected[(result_id(LINE_1, r.sha256), track_id)] = bins
    assert expected, "the files have failing tracks"
    with db.pool.connection() as conn:
        stored = {
            (str(rid), track_id): tuple(bins)
            for rid, track_id, bins in conn.execute(
                "SELECT result_id, track_id, bins FROM track_fail_bins"
            )
        }
        fails = {
            (str(rid), track_id): n
            for rid, track_id, n in conn.execute(
                "SELECT result_id, track_id, fail_points FROM tracks WHERE fail_points > 0"
            )
        }
        per_bin = conn.execute(
            "SELECT bin, SUM(points) FROM rollup_fail_bins GROUP BY bin ORDER BY bin"
        ).fetchall()
    assert stored == expected
    assert {key: sum(bins) for key, bins in stored.items()} == fails  # the verdict's own count
    totals = np.sum(list(expected.values()), axis=0)
    assert dict(per_bin) == {i + 1: int(n) for i, n in enumerate(totals) if n}


def test_rebuild_restores_rollups_that_were_damaged(db: Database, files: list[FileResult]) -> None:
    ingest(db, batch_of(files, LINE_1))
    before = stored_and_recomputed(db)[0]
    with db.pool.connection() as conn:
        conn.execute("UPDATE rollup_daily SET passes = passes + 7")
        conn.execute("DELETE FROM rollup_fail_bins WHERE bin % 2 = 0")
        conn.execute("UPDATE track_series SET sigma_gradient = 1 WHERE track_id = 'TRK1'")
        conn.commit()
        assert rollups.series_drift(conn) > 0
        rollups.rebuild(conn)
    after = stored_and_recomputed(db)[0]
    assert_rows_equal(after[0], before[0])
    assert_rows_equal(after[1], before[1])
    assert_consistent(db)


def test_values_no_instrument_gives_are_stored_and_kept_out_of_the_sums(
    db: Database, files: list[FileResult]
) -> None:
    good = next(r for r in files if r.tracks and r.tracks[0].sigma_gradient is not None)
    huge = renamed(
        good,
        "huge",
        tracks=[
            good.tracks[0].model_copy(update={"sigma_gradient": 1e300, "linearity_spec": 1e-310})
        ],
    )
    # Ingest now refuses such values (shared/protocol.py MAX_ABS_VALUE); built without
    # validation, as one stored before that limit, the rollups must still keep it out.
    assert huge.sha256 is not None
    forged = StationResult.model_construct(
        result_id=result_id(LINE_1, huge.sha256), result=huge, curves={}, pass_curves={}
    )
    batch = batch_of([good], LINE_1)
    response = ingest(db, batch.model_copy(update={"results": [*batch.results, forged]}))
    assert len(response.accepted) == 2
    assert_consistent(db)
    with db.pool.connection() as conn:
        row = conn.execute(
            "SELECT SUM(tracks), SUM(sigma_n), MAX(sigma_sum) FROM rollup_daily"
        ).fetchone()
    assert row is not None
    assert row[0] == len(good.tracks) + 1
    assert row[1] == sum(t.sigma_gradient is not None for t in good.tracks)
    assert row[2] < 1


def test_a_batch_the_database_refuses_changes_no_rollup(
    db: Database, files: list[FileResult]
) -> None:
    ingest(db, batch_of(files[:5], LINE_1))
    before = stored_and_recomputed(db)[0]
    with db.pool.connection() as conn:
        pk = conn.execute("SELECT id FROM stations WHERE name = %s", (LINE_1,)).fetchone()
    assert pk is not None
    # Built without validation: a model longer than an index row may be (and incompressible),
    # which the schema normally refuses first. The database refuses it mid-batch.
    too_long = "".join(hashlib.sha256(str(i).encode()).hexdigest() for i in range(100))
    fine = batch_of(files[5:9], LINE_1)
    broken = StationResult.model_construct(
        result_id=fine.results[1].result_id,
        result=fine.results[1].result.model_copy(update={"model": too_long}),
        curves=fine.results[1].curves,
        pass_curves=fine.results[1].pass_curves,
    )
    batch = IngestBatch.model_construct(
        **{**fine.__dict__, "results": [fine.results[0], broken, *fine.results[2:]]}
    )
    with pytest.raises(psycopg.errors.ProgramLimitExceeded):
        store_batch(db, int(pk[0]), LINE_1, batch)
    assert stored_and_recomputed(db)[0] == before


def test_concurrent_stations_each_keep_their_own_rows(
    db: Database, files: list[FileResult]
) -> None:
    """Two stations' batches in flight at once never wait on or overwrite each other's rows."""
    import threading

    owners = [token_owner(db, add_station(db, name)) for name in (LINE_1, LINE_2)]
    errors: list[BaseException] = []

    def send(station: str, pk: int) -> None:
        try:
            for start in range(0, len(files), 3):
                store_batch(db, pk, station, batch_of(files[start : start + 3], station))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(o.name, o.pk)) for o in owners if o is not None]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert_consistent(db)
    with db.pool.connection() as conn:
        per_station = dict(
            conn.execute(
                "SELECT s.name, SUM(d.results) FROM rollup_daily d "
                "JOIN stations s ON s.id = d.station_pk GROUP BY s.name"
            ).fetchall()
        )
    assert per_station == {LINE_1: len(files), LINE_2: len(files)}


def test_bin_failing_points_ignores_points_without_limits_and_empty_travel() -> None:
    x = np.linspace(0.0, 10.0, 11)
    errors = np.zeros(11)
    errors[[0, 10]] = 5.0  # outside a band of +/-1 at both ends
    upper, lower = np.ones(11), -np.ones(11)
    upper[10] = lower[10] = np.nan  # no spec at the last point: it cannot fail
    bins = rollups.bin_failing_points(x, errors, upper, lower, 0.0)
    assert bins is not None
    assert bins[0] == 1 and sum(bins) == 1
    assert rollups.bin_failing_points(x, errors - 5.0, upper, lower, 5.0) == bins  # offset added
    assert rollups.bin_failing_points(x, np.zeros(11), upper, lower, 0.0) is None  # none fail
    same = np.full(11, 3.0)
    assert rollups.bin_failing_points(same, errors, upper, lower, 0.0) is None  # no travel
    huge = np.array([-1e308] * 5 + [0.0] * 3 + [1e308] * 3)  # travel beyond float range
    assert rollups.bin_failing_points(huge, errors, upper, lower, 0.0) is None


def test_a_result_without_tracks_counts_as_a_unit_and_no_track(
    db: Database, files: list[FileResult]
) -> None:
    broken = next((r for r in files if r.status == Status.ERROR and not r.tracks), None)
    if broken is None:
        good = files[0]
        broken = renamed(
            good, "unreadable", status=Status.ERROR, tracks=[], system=None,
            analysed_at=datetime(2025, 3, 9, 12, tzinfo=UTC), test_date=None,
        )  # fmt: skip
    ingest(db, batch_of([broken], LINE_1))
    with db.pool.connection() as conn:
        row = conn.execute("SELECT results, errors, tracks, day FROM rollup_daily").fetchone()
    assert row is not None
    assert row[:3] == (1, 1, 0)
    assert row[3] == (broken.test_date or broken.analysed_at.astimezone(UTC)).date()


def test_removing_results_removes_their_series_rows(db: Database, files: list[FileResult]) -> None:
    ingest(db, batch_of(files, LINE_1))
    with db.pool.connection() as conn:
        conn.execute(
            "DELETE FROM results WHERE result_id IN (SELECT result_id FROM results LIMIT 3)"
        )
        assert rollups.series_drift(conn) == 0  # the tracks went by cascade, their rows too
        conn.execute("TRUNCATE results CASCADE")
        row = conn.execute("SELECT COUNT(*) FROM track_series").fetchone()
    assert row == (0,)
