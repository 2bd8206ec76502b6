"""The inbox watcher against a real folder and a real store (clock driven by the test)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from agent.analysis.file import analyse_content
from agent.runtime import Runtime
from agent.simulate import simulate_station
from agent.store import reads
from agent.store.store import Store
from agent.watcher import Watcher
from shared.models import FileResult


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
    options.setdefault("analyse", lambda path, content: analyse_content(path, content))
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

    def counting(path: Path, content: bytes) -> FileResult:
        calls.append(path)
        return analyse_content(path, content)

    first = make_watcher(inbox, store, runtime, clock, analyse=counting)
    assert settle(first, clock) == 2
    second = make_watcher(inbox, store, runtime, clock, analyse=counting)  # a restarted agent
    assert settle(second, clock) == 0
    assert len(calls) == 2


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
