"""`lta-central seed` fills a real PostgreSQL with rows the ingest itself would have written.

Small plans (hundreds of tracks) against fresh databases: what was planned is
stored, the same seed gives the same results, every row passes the ingest's
own validation and agrees with its curve, and the rollups are those of a
from-scratch recomputation.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from loguru import logger

from central import rollups
from central.cli import EXIT_FAILED, EXIT_OK, main
from central.db import Database, open_database
from central.seed import STATION_PREFIX, SeedError, SeedPlan, seed
from central.stations import token_owner
from shared import band
from shared.curves import attach_passes, unpack_curve
from shared.models import FileResult, Status
from shared.protocol import StationResult
from tests.central.data_helpers import batch_of, ingest
from tests.conftest import migrated_database
from tests.real_truth import IN_REPO

UNTIL = datetime(2025, 3, 12, 15, 30)
PLAN = SeedPlan(tracks=400, stations=3, models=4, days=12, seed=3, until=UNTIL, batch_results=90)


def fingerprint(db: Database) -> set[tuple[Any, ...]]:
    with db.pool.connection() as conn:
        rows = conn.execute(
            "SELECT r.result_id, r.document::text, s.name, t.track_id, md5(t.curve), "
            "md5(t.pass_curves) FROM results r JOIN stations s ON s.id = r.station_pk "
            "LEFT JOIN tracks t ON t.result_id = r.result_id"
        ).fetchall()
    return set(rows)


@pytest.fixture
def seeded(central_db: Database) -> Database:
    report = seed(central_db, PLAN)
    assert report.tracks == PLAN.tracks
    return central_db


def test_seed_stores_the_planned_tracks_over_the_window(central_db: Database) -> None:
    calls: list[tuple[int, int]] = []
    report = seed(central_db, PLAN, progress=lambda done, planned: calls.append((done, planned)))

    with central_db.pool.connection() as conn:
        results, tracks, curves, first, last = conn.execute(
            "SELECT (SELECT COUNT(*) FROM results), COUNT(*), COUNT(curve), "
            "(SELECT MIN(made_at) FROM results), (SELECT MAX(made_at) FROM results) FROM tracks"
        ).fetchone()
        stations = [row[0] for row in conn.execute("SELECT name FROM stations ORDER BY name")]
        beats = conn.execute("SELECT COUNT(*) FROM heartbeats").fetchone()
        statuses = dict(conn.execute("SELECT status, COUNT(*) FROM results GROUP BY status"))
    assert (results, tracks, curves) == (report.results, PLAN.tracks, PLAN.tracks)
    assert stations == report.stations == [f"{STATION_PREFIX}{k:02d}" for k in (1, 2, 3)]
    assert beats == (3,)
    assert UNTIL - timedelta(days=PLAN.days) < first <= last <= UNTIL
    assert {"Pass", "Fail"} <= set(statuses)
    assert report.database_bytes > 1_000_000 and report.tracks_per_s > 0
    assert calls[-1] == (PLAN.tracks, PLAN.tracks)
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)


def test_the_same_seed_gives_the_same_results(
    seeded: Database, postgres_admin_url: str, tmp_path: Path
) -> None:
    for again in migrated_database(postgres_admin_url, tmp_path / "unused"):
        seed(again, PLAN)
        assert fingerprint(again) == fingerprint(seeded)
    for other in migrated_database(postgres_admin_url, tmp_path / "unused-2"):
        seed(other, SeedPlan(**{**PLAN.__dict__, "seed": 4}))
        assert fingerprint(other).isdisjoint(fingerprint(seeded))


def _stored(db: Database) -> list[tuple[Any, ...]]:
    with db.pool.connection() as conn:
        return conn.execute(
            "SELECT r.result_id, s.name, r.document, r.status, r.model, r.serial, r.test_date, "
            "r.sha256, r.file_name, "
            "COALESCE(json_agg(json_build_object('id', t.track_id, 'status', t.status, "
            "'sigma', t.sigma_gradient, 'lin', t.linearity_error, 'fails', t.fail_points, "
            "'near', t.near_miss)) FILTER (WHERE t.track_id IS NOT NULL), '[]'), "
            "array_agg(t.track_id), array_agg(t.curve), array_agg(t.pass_curves) "
            "FROM results r JOIN stations s ON s.id = r.station_pk "
            "LEFT JOIN tracks t ON t.result_id = r.result_id "
            "GROUP BY r.result_id, s.name"
        ).fetchall()


def test_seeded_rows_are_what_the_ingest_accepts_and_agree_with_their_curves(
    seeded: Database,
) -> None:
    rows = _stored(seeded)
    checked_fails = 0
    for (
        rid,
        station,
        document,
        status,
        model,
        serial,
        test_date,
        sha,
        name,
        columns,
        *blobs,
    ) in rows:
        result = FileResult.model_validate(document)
        curves = {t: bytes(c) for t, c in zip(blobs[0], blobs[1], strict=True) if c}
        passes = {t: bytes(p) for t, p in zip(blobs[0], blobs[2], strict=True) if p}
        item = StationResult.model_validate(
            {"result_id": str(rid), "result": result, "curves": curves, "pass_curves": passes}
        )  # the ingest's own validation: identity, blob formats, track ids
        assert item.matches(station)
        assert (status, model, serial, test_date, sha, name) == (
            result.status.value,
            result.model,
            result.serial,
            result.test_date,
            result.sha256,
            result.file_name,
        )
        by_id = {c["id"]: c for c in columns}
        assert set(by_id) == {t.track_id for t in result.tracks} == set(curves)
        for track in result.tracks:
            column = by_id[track.track_id]
            assert (column["status"], column["sigma"], column["lin"], column["fails"]) == (
                track.status.value,
                track.sigma_gradient,
                track.linearity_error,
                track.fail_points,
            )
            curve = unpack_curve(curves[track.track_id])
            assert track.optimal_offset is not None and track.fail_points is not None
            assert track.adjustment is not None and track.strict is not None
            # The station's verdict: e + t*k + c on the points it judges (shared/band.py).
            errors = np.array(curve.errors)
            upper = np.array(curve.upper, dtype=float)
            lower = np.array(curve.lower, dtype=float)
            theory = np.array(curve.theory)
            left_out = band.excluded_mask(errors.size, track.adjustment.excluded_points)
            k, c = track.adjustment.k, track.optimal_offset
            fails = int(
                np.count_nonzero(band.outside_mask(errors, upper, lower, c, theory, k, left_out))
            )
            raw_fails = int(np.count_nonzero(band.outside_mask(errors, upper, lower, 0.0)))
            adjusted = band.adjusted_errors(errors, c, theory, k)[~left_out]
            assert fails == track.fail_points
            assert raw_fails == track.raw_fail_points
            assert track.linearity_error == pytest.approx(float(np.max(np.abs(adjusted))))
            assert track.points == len(curve.positions)
            assert track.status == (
                Status.FAIL if fails else Status.WARNING if not track.sigma_pass else Status.PASS
            )
            assert track.near_miss == (
                track.margin_to_spec is not None and track.margin_to_spec < 20
            )
            full = attach_passes(
                track.model_copy(update={"curve": curve}), passes.get(track.track_id)
            )
            assert all(p.curve is not None for p in full.passes)
            assert full.passes[-1].final and full.passes[-1].curve.errors == curve.errors  # type: ignore[union-attr]
            checked_fails += fails
        assert result.status == (
            max((t.status for t in result.tracks), key=lambda s: s.severity)
            if result.tracks
            else result.status
        )
    assert checked_fails > 0


def test_seeded_rollups_equal_a_recomputation(seeded: Database) -> None:
    with seeded.pool.connection() as conn:
        daily, bins = rollups.stored(conn)
        daily_again, bins_again = rollups.recomputed(conn)
        binned = conn.execute(
            "SELECT COALESCE(SUM(t.fail_points), 0), (SELECT COALESCE(SUM(n), 0) FROM "
            "track_fail_bins f CROSS JOIN LATERAL unnest(f.bins) n) "
            "FROM tracks t WHERE t.fail_points > 0"
        ).fetchone()
    assert len(daily) == len(daily_again) and bins == bins_again
    for got, want in zip(daily, daily_again, strict=True):
        assert got[:14] == want[:14]
        assert got[14:] == pytest.approx(want[14:], rel=1e-12)
    assert binned is not None and binned[0] == binned[1] > 0
    with seeded.pool.connection() as conn:
        assert rollups.series_drift(conn) == 0


def test_seed_refuses_a_database_that_holds_results(central_db: Database, tmp_path: Path) -> None:
    from agent.analysis.file import analyse_file

    real = analyse_file(sorted(IN_REPO.glob("*.xls"))[0])
    ingest(central_db, batch_of([real], "line-1"))
    before = fingerprint(central_db)
    with pytest.raises(SeedError, match="only fills an empty database"):
        seed(central_db, PLAN)
    assert fingerprint(central_db) == before


@pytest.mark.parametrize(
    ("changes", "says"),
    [({"tracks": 0}, "--tracks"), ({"days": 0}, "--days"), ({"stations": 10_000}, "--stations")],
)
def test_a_plan_out_of_range_is_refused(changes: dict[str, int], says: str) -> None:
    with pytest.raises(SeedError, match=says):
        SeedPlan(**{**PLAN.__dict__, **changes})


@pytest.mark.parametrize(
    ("names", "says"),
    [(("line-a",), "one name per station"), (("line-a", "Line B!"), "is not allowed")],
)
def test_station_names_are_one_per_station_and_valid(names: tuple[str, ...], says: str) -> None:
    with pytest.raises(SeedError, match=says):
        SeedPlan(**{**PLAN.__dict__, "stations": 2, "station_names": names})


def test_named_stations_keep_their_token_and_get_no_made_up_heartbeat(
    cli_env: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`make run` adds its stations (their agents hold the tokens), then seeds them."""
    assert main(["station", "add", "line-a"]) == EXIT_OK
    token = capsys.readouterr().out.strip().splitlines()[-1]
    args = ["seed", "--tracks", "40", "--stations", "2", "--models", "2", "--days", "3"]
    assert main([*args, "--station-names", "line-a,line-b"]) == EXIT_OK
    assert "from 2 stations" in capsys.readouterr().out
    db = open_database(cli_env, tmp_path / "unused", 1, 2)
    try:
        with db.pool.connection() as conn:
            stations = dict(
                conn.execute(
                    "SELECT s.name, COUNT(r.result_id) FROM stations s "
                    "LEFT JOIN results r ON r.station_pk = s.id GROUP BY s.name"
                ).fetchall()
            )
            beats = conn.execute("SELECT COUNT(*) FROM heartbeats").fetchone()
            latest = conn.execute("SELECT max(made_at) FROM results").fetchone()
        owner = token_owner(db, token)
    finally:
        db.close()
    assert set(stations) == {"line-a", "line-b"} and all(stations.values())
    assert beats == (0,)
    assert latest is not None and latest[0] <= datetime.now()  # nothing made in the future
    assert owner is not None and owner.name == "line-a"


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Iterator[str]:
    for name in list(os.environ):
        if name.startswith("LTA_CENTRAL_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LTA_CENTRAL_DATABASE_URL", database_url)
    monkeypatch.setenv("LTA_CENTRAL_DATA_DIR", str(tmp_path / "central"))
    yield database_url
    logger.remove()  # the command pointed loguru at the captured stderr
    logger.add(sys.stderr)


def test_the_command_reports_rate_and_size(
    cli_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["seed", "--tracks", "60", "--stations", "2", "--models", "3", "--days", "5"]
    assert main(args) == EXIT_OK
    out, err = capsys.readouterr()
    assert "Seeded" in out and "60 tracks from 2 stations" in out
    assert "tracks/s" in out and "database size" in out and " GB" in out
    assert "60 of 60 tracks" in err
    assert main(args) == EXIT_FAILED  # a second run would mix seeds: refused
    assert "only fills an empty database" in capsys.readouterr().err
    assert main(["seed", "--tracks", "0"]) == EXIT_FAILED
    assert "--tracks must be between" in capsys.readouterr().err


def test_schedule_keeps_shifts_and_quiet_weekends(seeded: Database) -> None:
    with seeded.pool.connection() as conn:
        hours = [row[0] for row in conn.execute("SELECT EXTRACT(HOUR FROM made_at) FROM results")]
        weekdays = dict(
            conn.execute(
                "SELECT EXTRACT(ISODOW FROM made_at)::int, COUNT(*) FROM results GROUP BY 1"
            ).fetchall()
        )
    assert min(hours) >= 6 and max(hours) < 22
    weekday_mean = np.mean([weekdays.get(d, 0) for d in range(1, 6)])
    assert weekdays.get(7, 0) < weekday_mean / 3
