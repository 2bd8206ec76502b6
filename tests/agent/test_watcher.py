"""The inbox watcher against a real folder and a real store (clock driven by the test)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from agent.analysis.file import analyse_content
from agent.runtime import Runtime
from agent.simulate import simulate_station
from agent.store import outbox, reads
from agent.store.store import Store
from agent.watcher import Watcher
from shared.models import FileResult
from tests.factories import system_a_file

REAL_SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "real-samples"
needs_samples = pytest.mark.skipif(
    not any(REAL_SAMPLES.glob("*.xls")), reason=f"real station files not at {REAL_SAMPLES}"
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_watcher(
    inbox: Path, store: Store, runtime: Runtime, clock: Clock, **options: Any
) -> Watcher:
    """A watcher on the real analysis, driven by the test's clock."""
    options.setdefault(
        "analyse", lambda path, content, sha256: analyse_content(path, content, None, sha256)
    )
    return Watcher(
        inboxes=[inbox],
        store=store,
        runtime=runtime,
        settle_s=0.3,
        poll_interval_s=1.0,
        clock=clock,
        **options,
    )


@pytest.fixture
def watcher(inbox: Path, store: Store, runtime: Runtime, clock: Clock) -> Watcher:
    return make_watcher(inbox, store, runtime, clock)


def settle(watcher: Watcher, clock: Clock) -> int:
    """A scan, then a tick after the settle time: what one real cycle does."""
    recorded = watcher.tick()
    clock.advance(1.0)
    return recorded + watcher.tick()


def test_new_files_are_analysed_once_they_settle(
    watcher: Watcher, inbox: Path, store: Store, clock: Clock
) -> None:
    simulate_station(inbox, count=3, seed=1)
    assert watcher.tick() == 0  # just seen: not settled yet
    assert watcher.waiting == 3
    clock.advance(0.5)
    assert watcher.tick() == 3
    assert reads.count_results(store.read()) == 3
    clock.advance(2.0)
    assert watcher.tick() == 0  # nothing new


def test_lock_temp_and_other_files_are_ignored(
    watcher: Watcher, inbox: Path, store: Store, clock: Clock
) -> None:
    (inbox / "~$8340-1_SN1.xlsx").write_bytes(b"office lock")
    (inbox / "notes.txt").write_text("hello")
    (inbox / "8340-1_SN2.xlsx.tmp").write_bytes(b"partial")
    assert settle(watcher, clock) == 0
    assert watcher.waiting == 0


def test_same_content_is_never_recorded_twice(
    watcher: Watcher, inbox: Path, store: Store, clock: Clock
) -> None:
    [original] = simulate_station(inbox, count=1, seed=2)
    assert settle(watcher, clock) == 1
    shutil.copy(original, inbox / f"copy of {original.name}")
    clock.advance(1.0)
    assert settle(watcher, clock) == 0
    assert reads.count_results(store.read()) == 1


def test_a_rewritten_file_with_the_same_name_is_analysed_again(
    watcher: Watcher, inbox: Path, store: Store, clock: Clock, tmp_path: Path
) -> None:
    [first] = simulate_station(inbox, count=1, seed=3)
    assert settle(watcher, clock) == 1
    [other] = simulate_station(tmp_path / "other", count=1, seed=4)
    first.write_bytes(other.read_bytes())
    os.utime(first, ns=(1, 2))  # a different mtime, as a real rewrite gives
    clock.advance(1.0)
    assert settle(watcher, clock) == 1
    assert reads.count_results(store.read()) == 2


def test_a_file_still_growing_waits(watcher: Watcher, inbox: Path, clock: Clock) -> None:
    growing = inbox / "8340-1_SN5.xlsx"
    growing.write_bytes(b"PK\x03\x04 partial")
    watcher.tick()
    clock.advance(0.2)
    with growing.open("ab") as handle:
        handle.write(b"more")
    clock.advance(0.2)
    watcher.tick()
    assert watcher.waiting == 1


def test_locked_files_back_off_then_succeed(
    inbox: Path, store: Store, clock: Clock, runtime: Runtime
) -> None:
    simulate_station(inbox, count=1, seed=5)
    locked_reads = 3

    def station_holds_the_lock(target: Path) -> bytes:
        nonlocal locked_reads
        if locked_reads:
            locked_reads -= 1
            raise PermissionError(13, "The process cannot access the file")
        return target.read_bytes()

    watcher = make_watcher(inbox, store, runtime, clock, read_bytes=station_holds_the_lock)
    assert settle(watcher, clock) == 0
    assert runtime.last_error is not None and "retrying" in runtime.last_error
    assert watcher.waiting == 1
    assert watcher.tick() == 0  # backing off: not even tried
    for _ in range(4):
        clock.advance(8.0)
        watcher.tick()
    assert reads.count_results(store.read()) == 1
    assert runtime.metrics.read_retries._value.get() == 3


def test_restart_does_not_reread_known_files(
    inbox: Path, store: Store, runtime: Runtime, clock: Clock
) -> None:
    simulate_station(inbox, count=2, seed=6)
    calls: list[Path] = []

    def counting(path: Path, content: bytes, sha256: str) -> FileResult:
        calls.append(path)
        return analyse_content(path, content, sha256=sha256)

    first = make_watcher(inbox, store, runtime, clock, analyse=counting)
    assert settle(first, clock) == 2
    second = make_watcher(inbox, store, runtime, clock, analyse=counting)  # a restarted agent
    assert settle(second, clock) == 0
    assert len(calls) == 2


def test_the_watchers_digest_is_the_results_and_is_taken_once(
    inbox: Path, store: Store, runtime: Runtime, clock: Clock
) -> None:
    simulate_station(inbox, count=2, seed=7)
    handed: dict[str, str] = {}

    def recording(path: Path, content: bytes, sha256: str) -> FileResult:
        handed[path.name] = sha256
        assert sha256 == hashlib.sha256(content).hexdigest()  # of exactly these bytes
        return analyse_content(path, content, sha256=sha256)

    watcher = make_watcher(inbox, store, runtime, clock, analyse=recording)
    assert settle(watcher, clock) == 2
    rows = store.read().execute("SELECT file_name, sha256 FROM files").fetchall()
    stored = dict(rows)
    assert stored == handed


def test_bad_files_are_recorded_as_errors_once_old_enough(
    watcher: Watcher, inbox: Path, store: Store, clock: Clock
) -> None:
    bad = inbox / "8340-1_SN9.xlsx"
    bad.write_text("not a workbook")
    os.utime(bad, (1_000_000, 1_000_000))  # written long ago: not "still being written"
    assert settle(watcher, clock) == 1
    [item] = reads.recent(store.read())
    assert item["status"] == "Error" and item["error"]["code"] == "unreadable_file"


def test_archive_moves_files_after_recording(
    inbox: Path, store: Store, runtime: Runtime, clock: Clock, tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    (inbox / "line2").mkdir()
    simulate_station(inbox / "line2", count=2, seed=7)
    watcher = make_watcher(inbox, store, runtime, clock, archive_dir=archive)
    assert settle(watcher, clock) == 2
    assert len(list((archive / "line2").iterdir())) == 2
    assert not list((inbox / "line2").iterdir())


# --- history: a folder of old results on first start -------------------------------------


def copy_real_samples(inbox: Path, count: int, start: int = 0) -> list[Path]:
    """Real station files (tested 2022-2025): history under any sensible window."""
    sources = sorted(REAL_SAMPLES.glob("*.xls"))[start : start + count]
    assert len(sources) == count
    copies = [inbox / source.name for source in sources]
    for source, copy in zip(sources, copies, strict=True):
        shutil.copyfile(source, copy)
    return copies


def age_files(paths: list[Path], first_days_ago: float) -> None:
    """Old modification times, one hour apart in the order given (as an archive has them)."""
    oldest = datetime.now().timestamp() - first_days_ago * 86400
    for n, path in enumerate(paths):
        os.utime(path, (oldest + n * 3600, oldest + n * 3600))


def new_unit(folder: Path, name: str = "8340-1_SN900.xls") -> Path:
    """A unit tested just now, as the station saves it during the shift."""
    now_serial = (datetime.now() - datetime(1899, 12, 30)).total_seconds() / 86400
    return system_a_file(folder / name, date_serial=now_serial)


def page_import_text(client: FlaskClient) -> str | None:
    """The page's "importing history" text, or None while it is hidden."""
    html = client.get("/").get_data(as_text=True)
    match = re.search(r'<span id="history-import"[^>]*?( hidden)?>([^<]*)<', html)
    assert match, "no #history-import on the page"
    return None if match.group(1) else match.group(2)


@needs_samples
def test_history_is_stored_but_neither_counted_nor_latest(
    watcher: Watcher, inbox: Path, store: Store, clock: Clock, client: FlaskClient
) -> None:
    copy_real_samples(inbox, 12)
    assert settle(watcher, clock) == 12
    status = client.get("/api/status").get_json()
    assert status["latest"] is None
    assert sum(status["counts"].values()) == 0
    assert status["history_import"] is None  # done: nothing left to import

    fresh = new_unit(inbox)
    clock.advance(1.0)
    assert settle(watcher, clock) == 1
    status = client.get("/api/status").get_json()
    assert status["latest"]["file_name"] == fresh.name
    assert sum(status["counts"].values()) == 1
    listed = client.get("/api/results?limit=50").get_json()["results"]
    assert len(listed) == 13
    assert [r["file_name"] for r in listed if not r["history"]] == [fresh.name]
    recent = client.get("/partials/recent").get_data(as_text=True)
    assert recent.count('class="recent-row') == 1


@needs_samples
def test_a_backlog_is_analysed_and_queued_oldest_first(
    inbox: Path, store: Store, runtime: Runtime, clock: Clock
) -> None:
    copies = copy_real_samples(inbox, 12)
    by_age = [copies[i] for i in (7, 2, 11, 0, 5, 9, 1, 4, 10, 3, 8, 6)]
    age_files(by_age, first_days_ago=400)
    calls: list[str] = []

    def counting(path: Path, content: bytes, sha256: str) -> FileResult:
        calls.append(path.name)
        return analyse_content(path, content, sha256=sha256)

    watcher = make_watcher(inbox, store, runtime, clock, analyse=counting)
    assert settle(watcher, clock) == 12
    expected = [p.name for p in by_age]
    assert calls == expected
    queued = outbox.pending(store.read(), 100)  # the sync job sends in this order
    assert [item.station.result.file_name for item in queued] == expected


@needs_samples
def test_a_unit_saved_during_an_import_is_analysed_before_the_rest_of_it(
    inbox: Path, store: Store, runtime: Runtime, clock: Clock
) -> None:
    age_files(copy_real_samples(inbox, 20), first_days_ago=400)
    calls: list[str] = []

    def slow(path: Path, content: bytes, sha256: str) -> FileResult:
        calls.append(path.name)
        clock.advance(0.4)  # each file takes a while: a round ends after one poll interval
        return analyse_content(path, content, sha256=sha256)

    watcher = make_watcher(inbox, store, runtime, clock, analyse=slow)
    settle(watcher, clock)
    assert 0 < len(calls) < 20  # the round ended early, the backlog goes on
    fresh = new_unit(inbox)
    while len(calls) < 21:
        watcher.tick()
    position = calls.index(fresh.name)
    assert position <= len(calls) - 10  # well before the rest of the backlog
    latest = reads.latest(store.read())
    assert latest is not None and latest["file_name"] == fresh.name


def test_a_backlog_of_recent_units_keeps_their_order_so_the_newest_is_latest(
    inbox: Path, store: Store, runtime: Runtime, clock: Clock
) -> None:
    """Units saved while the agent was down are this shift's: oldest first, and one saved
    meanwhile waits for them, so the unit shown last is the one on the machine."""
    waiting = simulate_station(inbox, count=6, seed=8, start=datetime.now())
    stamp = datetime.now().timestamp() - 3600
    for n, path in enumerate(waiting):
        os.utime(path, (stamp + 60 * n, stamp + 60 * n))
    calls: list[str] = []

    def slow(path: Path, content: bytes, sha256: str) -> FileResult:
        calls.append(path.name)
        clock.advance(0.4)
        return analyse_content(path, content, sha256=sha256)

    watcher = make_watcher(inbox, store, runtime, clock, analyse=slow)
    settle(watcher, clock)
    assert 0 < len(calls) < 6
    fresh = new_unit(inbox)
    while len(calls) < 7:
        watcher.tick()
    assert calls == [p.name for p in waiting] + [fresh.name]
    latest = reads.latest(store.read())
    assert latest is not None and latest["file_name"] == fresh.name
    assert sum(reads.counts_since(store.read(), datetime(2000, 1, 1).astimezone()).values()) == 7


@needs_samples
def test_import_progress_counts_the_backlog_and_files_found_meanwhile(
    inbox: Path, store: Store, runtime: Runtime, clock: Clock, client: FlaskClient
) -> None:
    age_files(copy_real_samples(inbox, 10), first_days_ago=400)
    seen: list[dict[str, int] | None] = []
    texts: list[str | None] = []

    def watched(path: Path, content: bytes, sha256: str) -> FileResult:
        seen.append(client.get("/api/status").get_json()["history_import"])
        texts.append(page_import_text(client))
        if len(seen) == 3:  # more old files land while the import runs
            age_files(copy_real_samples(inbox, 2, start=10), first_days_ago=500)
        clock.advance(0.5)
        return analyse_content(path, content, sha256=sha256)

    watcher = make_watcher(inbox, store, runtime, clock, analyse=watched)
    assert page_import_text(client) is None
    while len(seen) < 12:
        clock.advance(0.2)
        watcher.tick()
    assert seen[0] == {"done": 0, "found": 10}
    assert texts[0] == "importing history: 0 of 10"
    assert [s["done"] for s in seen if s] == list(range(12))
    found = [s["found"] for s in seen if s]
    assert found == sorted(found) and found[-1] == 12 and found.count(10) >= 3
    assert texts[-1] == "importing history: 11 of 12"
    assert client.get("/api/status").get_json()["history_import"] is None
    assert page_import_text(client) is None


@needs_samples
def test_test_dates_reveal_history_when_the_files_look_new(
    inbox: Path, store: Store, runtime: Runtime, clock: Clock, client: FlaskClient
) -> None:
    """Files copied without their times (fresh mtimes): the first history result shows it."""
    copy_real_samples(inbox, 4)
    seen: list[dict[str, int] | None] = []

    def watched(path: Path, content: bytes, sha256: str) -> FileResult:
        seen.append(client.get("/api/status").get_json()["history_import"])
        return analyse_content(path, content, sha256=sha256)

    watcher = make_watcher(inbox, store, runtime, clock, analyse=watched)
    assert settle(watcher, clock) == 4
    assert seen == [None, {"done": 1, "found": 4}, {"done": 2, "found": 4}, {"done": 3, "found": 4}]
    assert reads.latest(store.read()) is None


def test_a_new_unit_alone_is_no_import(
    watcher: Watcher, inbox: Path, store: Store, runtime: Runtime, clock: Clock
) -> None:
    new_unit(inbox)
    watcher.tick()
    assert runtime.history_import.snapshot() is None
    clock.advance(1.0)
    assert watcher.tick() == 1
    assert runtime.history_import.snapshot() is None
    assert sum(reads.counts_since(store.read(), datetime(2000, 1, 1).astimezone()).values()) == 1
