"""`lta-agent doctor` against real folders, a real store and a real central on loopback."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.analysis import kernel_cache
from agent.analysis.file import analyse_file
from agent.analysis.warmup import warm_up
from agent.cli import main
from agent.doctor import Check, Level, check_kernel_cache, exit_code, run_doctor, source_kernels
from agent.runtime import Runtime, write_state
from agent.store import outbox
from agent.store.migrations import MIGRATIONS
from agent.store.store import Store
from central import stations
from central.db import Database
from tests.agent.test_disk_full import fill_disk, small_disk
from tests.agent.test_store_versions import legacy_store, newer_store
from tests.agent.test_sync import Central, serve
from tests.e2e.agent_process import free_port
from tests.real_truth import IN_REPO

STATION_ID = "trim-07"
__all__ = ["small_disk"]  # the tmpfs fixture, shared with the disk-full test


@pytest.fixture(scope="module", autouse=True)
def warm_kernels() -> None:
    """The kernels compiled beside the sources, as any earlier start would leave them."""
    warm_up()


@pytest.fixture
def central(central_db: Database) -> Iterator[Central]:
    running = serve(central_db)
    yield running
    running.stop()


@pytest.fixture
def station(tmp_path: Path) -> dict[str, Path]:
    """A station's folders with a store holding the real results (2 delivered)."""
    inbox, data = tmp_path / "trim-results", tmp_path / "data"
    inbox.mkdir()
    for path in sorted(IN_REPO.glob("*.xls")):
        shutil.copy(path, inbox / path.name)
    store = Store(data / "agent.sqlite")
    for path in sorted(inbox.iterdir()):
        store.record(analyse_file(path), STATION_ID, datetime.now(UTC), None)
    store.writer.call(lambda conn: outbox.settle(conn, [1, 2], [], datetime.now(UTC)))
    store.close()
    # The running service's view of itself, as it writes it every few seconds.
    runtime = Runtime(STATION_ID, "", [str(inbox)], account="lta-svc")
    write_state(data, runtime)
    return {"inbox": inbox, "data": data, "root": tmp_path}


def config_file(
    station: dict[str, Path],
    url: str | None = None,
    token: str | None = None,
    archive: Path | None = None,
    **extra: str,
) -> Path:
    """The station's config file; `extra` keys go in [storage]."""
    lines = [
        "[station]",
        f'id = "{STATION_ID}"',
        "[inbox]",
        f"paths = ['{station['inbox']}']",
        *([f"archive_dir = '{archive}'"] if archive else []),
        "[storage]",
        f"data_dir = '{station['data']}'",
        *(f"{key} = {value}" for key, value in extra.items()),
    ]
    if url is not None:
        lines += ["[central]", f'url = "{url}"']
        if token is not None:
            lines.append(f'token = "{token}"')
    path = station["root"] / "agent.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {check.name: check for check in checks}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_healthy_station_passes_every_check(
    station: dict[str, Path], central: Central, capsys: pytest.CaptureFixture[str]
) -> None:
    token = stations.add_station(central.db, STATION_ID)
    path = config_file(station, central.url, token)
    before = digest(station["data"] / "agent.sqlite")

    checks = run_doctor(path, environ={})
    assert [c.name for c in checks] == [
        "config", "inbox", "data folder", "service", "store", "retention",
        "central", "clock", "token", "kernels",
    ]  # fmt: skip
    assert all(c.level is Level.OK for c in checks), "\n".join(c.line() for c in checks)
    assert exit_code(checks) == 0
    found = by_name(checks)
    real = len(list(IN_REPO.glob("*.xls")))
    assert f"{real} result file(s)" in found["inbox"].message
    assert f"version {len(MIGRATIONS)}, {real} results" in found["store"].message
    assert f"{real - 2} waiting for central, 0 rejected" in found["store"].message
    assert re.search(r"\b\d+ kernels\b", found["kernels"].message)
    assert token not in "\n".join(c.line() for c in checks)
    assert digest(station["data"] / "agent.sqlite") == before  # read-only

    with central.db.pool.connection() as conn:  # checked for real, recorded nowhere
        beat = conn.execute(
            "SELECT count(*) FROM heartbeats h JOIN stations s ON s.id = h.station_pk "
            "WHERE s.name = %s",
            (STATION_ID,),
        ).fetchone()
        seen = conn.execute(
            "SELECT last_seen_at FROM stations WHERE name = %s", (STATION_ID,)
        ).fetchone()
    assert beat == (0,) and seen == (None,)  # central does not show the station alive

    assert main(["doctor", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "all checks passed"
    assert out.splitlines()[0].startswith("OK    config")


def test_without_central_results_stay_and_doctor_says_so(station: dict[str, Path]) -> None:
    checks = by_name(run_doctor(config_file(station), environ={}))
    assert checks["central"].level is Level.WARN
    assert "retention cannot prune" in checks["central"].message
    assert "token" not in checks
    assert exit_code(list(checks.values())) == 1


def test_an_unreachable_central_is_a_fail_with_what_to_check(station: dict[str, Path]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    checks = by_name(run_doctor(config_file(station, url, "a-token"), environ={}))
    assert checks["central"].level is Level.FAIL
    assert "cannot reach" in checks["central"].message and "firewall" in checks["central"].message
    assert checks["token"].message == "not checked: central is unreachable"
    assert checks["clock"].level is Level.WARN


def test_tokens_central_refuses_each_say_what_to_do(
    station: dict[str, Path], central: Central
) -> None:
    other = stations.add_station(central.db, "trim-08")
    revoked = stations.add_station(central.db, STATION_ID)
    stations.revoke_station(central.db, STATION_ID)
    cases = {
        "not-a-token-central-knows": "does not know this token",
        other: "belongs to 'trim-08'",
        revoked: "has been revoked",
    }
    for token, expected in cases.items():
        checks = by_name(run_doctor(config_file(station, central.url, token), environ={}))
        assert checks["central"].level is Level.OK
        assert checks["token"].level is Level.FAIL
        assert expected in checks["token"].message, checks["token"].message
    missing = by_name(run_doctor(config_file(station, central.url), environ={}))
    assert missing["token"].level is Level.FAIL and "not set" in missing["token"].message


def test_a_clock_far_from_centrals_is_a_warning(station: dict[str, Path], central: Central) -> None:
    token = stations.add_station(central.db, STATION_ID)
    ahead = by_name(
        run_doctor(
            config_file(station, central.url, token),
            environ={},
            wall_clock=lambda: datetime.now(UTC) + timedelta(minutes=2),
        )
    )
    assert ahead["clock"].level is Level.WARN
    assert re.search(r"\b(119|120|121) s ahead of central", ahead["clock"].message)


def test_folder_and_store_problems_are_named(station: dict[str, Path]) -> None:
    shutil.rmtree(station["inbox"])
    checks = by_name(
        run_doctor(config_file(station, retention_days="0"), environ={}, low_space_bytes=2**62)
    )
    assert checks["inbox"].level is Level.FAIL and "does not exist" in checks["inbox"].message
    assert checks["data folder"].level is Level.WARN
    assert "free space" in checks["data folder"].message.lower()
    assert checks["retention"].level is Level.WARN

    dead = Store(station["data"] / "agent.sqlite")
    ids = [r[0] for r in dead.read().execute("SELECT id FROM outbox WHERE state = 'pending'")]
    dead.writer.call(lambda conn: outbox.settle(conn, [], [(ids[0], "no")], datetime.now(UTC)))
    dead.close()
    store = by_name(run_doctor(config_file(station), environ={}))["store"]
    assert store.level is Level.WARN and "lta-agent outbox retry" in store.message


def test_a_store_newer_than_this_agent_fails_and_an_older_one_is_left_for_the_upgrade(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    station = {"inbox": data / "inbox", "data": data, "root": tmp_path}
    newer_store(data / "agent.sqlite")
    store = by_name(run_doctor(config_file(station), environ={}))["store"]
    assert store.level is Level.FAIL and "written by a newer agent" in store.message

    (data / "agent.sqlite").unlink()
    legacy_store(data / "agent.sqlite", 4, [analyse_file(next(IN_REPO.glob("*.xls")))])
    before = digest(data / "agent.sqlite")
    store = by_name(run_doctor(config_file(station), environ={}))["store"]
    assert store.level is Level.OK and "version 4" in store.message
    assert f"upgrades it to {len(MIGRATIONS)}" in store.message
    assert digest(data / "agent.sqlite") == before  # doctor never migrates


def test_a_config_mistake_is_one_fail_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "agent.toml"
    path.write_text('[storage]\nretention_days = "forever"\n', encoding="utf-8")
    checks = run_doctor(path, environ={})
    assert len(checks) == 1 and checks[0].level is Level.FAIL
    assert "storage.retention_days" in checks[0].message
    assert exit_code(checks) == 1


def test_the_installed_agents_kernel_cache_is_warm_once_a_worker_recorded_it(
    tmp_path: Path,
) -> None:
    cold = check_kernel_cache(tmp_path, frozen=True)
    assert cold.level is Level.WARN and "not compiled yet" in cold.message
    folder = kernel_cache.cache_dir(tmp_path)
    folder.mkdir(parents=True)
    kernel_cache.record_warm(folder, {"loaded": 21, "compiled": 0, "seconds": 0.8})
    warm = check_kernel_cache(tmp_path, frozen=True)
    assert warm.level is Level.OK and "loaded 21 and compiled 0" in warm.message


def test_kernels_from_source_are_found_by_numbas_own_index_names(tmp_path: Path) -> None:
    source = tmp_path / "kern.py"
    source.write_text(
        "from numba import njit\n\n\n@njit(cache=True)\ndef add(a, b):\n    return a + b\n\n\n"
        "@njit\ndef uncached(a):\n    return a\n",
        encoding="utf-8",
    )
    assert source_kernels(tmp_path) == {"kern.add": False}
    index = tmp_path / "__pycache__"
    index.mkdir()
    import sys

    tag = f"py{sys.version_info.major}{sys.version_info.minor}"
    (index / f"kern.add-4.{tag}.nbi").write_bytes(b"")
    assert source_kernels(tmp_path) == {"kern.add": True}


def test_a_full_data_disk_is_a_fail_and_a_missing_data_folder_is_made_at_start(
    small_disk: Path, tmp_path: Path
) -> None:
    data = small_disk / "data"
    data.mkdir()
    station = {"inbox": tmp_path / "inbox", "data": data, "root": tmp_path}
    station["inbox"].mkdir()
    filler = fill_disk(small_disk)
    folder = by_name(run_doctor(config_file(station), environ={}))["data folder"]
    assert folder.level is Level.FAIL and "the disk is full" in folder.message
    filler.unlink()
    almost = by_name(run_doctor(config_file(station), environ={}))["data folder"]
    assert almost.level is Level.FAIL and "only" in almost.message  # 8 MB: about to fill

    station["data"] = tmp_path / "not-yet" / "data"
    later = by_name(run_doctor(config_file(station), environ={}))["data folder"]
    assert later.level is Level.OK and "the agent creates it" in later.message


def test_an_archive_folder_needs_write_access_to_the_inbox(
    small_disk: Path, tmp_path: Path
) -> None:
    inbox = small_disk / "inbox"
    inbox.mkdir()
    shutil.copy(next(IN_REPO.glob("*.xls")), inbox)
    station = {"inbox": inbox, "data": tmp_path / "data", "root": tmp_path}
    remount = ["mount", "-o", "remount,ro", str(small_disk)]
    assert subprocess.run(remount, check=False).returncode == 0  # read-only even for root
    plain = by_name(run_doctor(config_file(station), environ={}))["inbox"]
    assert plain.level is Level.OK and "1 result file(s)" in plain.message
    archive = tmp_path / "archive"
    moving = by_name(run_doctor(config_file(station, archive=archive), environ={}))["inbox"]
    assert moving.level is Level.FAIL and "cannot move files out of it" in moving.message
