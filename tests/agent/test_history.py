"""Which results are history, and how an import's progress is counted (agent.history)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agent.history import HistoryImport, HistoryWindow
from shared.models import FileResult, Status

NOW = datetime(2026, 3, 2, 14, 0)  # naive local, like a station's test date


def result(test_date: datetime | None) -> FileResult:
    return FileResult(
        path="/inbox/x.xls",
        file_name="x.xls",
        status=Status.PASS,
        test_date=test_date,
        analysed_at=datetime.now(UTC),
    )


def ns(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000_000)


def test_the_test_date_decides_against_the_window() -> None:
    window = HistoryWindow(12)
    assert window.is_history(result(NOW - timedelta(hours=12, minutes=1)), None, NOW)
    assert not window.is_history(result(NOW - timedelta(hours=11, minutes=59)), None, NOW)
    assert not window.is_history(result(NOW + timedelta(hours=3)), None, NOW)  # clock ahead
    # the file's own date wins over a fresh mtime (files copied without their times)
    assert window.is_history(result(datetime(2024, 9, 13, 5, 47)), ns(NOW), NOW)


def test_without_a_test_date_the_mtime_decides() -> None:
    window = HistoryWindow(12)
    assert window.is_history(result(None), ns(NOW - timedelta(days=3)), NOW)
    assert not window.is_history(result(None), ns(NOW - timedelta(hours=1)), NOW)
    assert not window.is_history(result(None), None, NOW)  # nothing known: it counts


def test_a_zero_window_turns_history_off() -> None:
    window = HistoryWindow(0)
    assert window.cutoff(NOW) is None
    assert not window.is_history(result(datetime(2019, 1, 1)), ns(datetime(2019, 1, 1)), NOW)
    assert not window.mtime_is_old(ns(datetime(2019, 1, 1)), NOW)


def test_progress_grows_with_files_found_and_ends_when_none_waits() -> None:
    progress = HistoryImport()
    progress.update({"a", "b", "c"}, any_old=True)
    assert progress.snapshot() == {"done": 0, "found": 3}
    progress.finished_one(history=True)
    progress.update({"b", "c", "d"}, any_old=False)  # d turned up meanwhile
    assert progress.snapshot() == {"done": 1, "found": 4}
    progress.update({"c", "d"}, any_old=False)  # b vanished from the folder: not waiting
    assert progress.snapshot() == {"done": 2, "found": 4}
    progress.finished_one(history=True)
    progress.finished_one(history=False)
    assert progress.snapshot() is None
    assert progress.found == 0  # the next backlog counts from scratch


def test_a_backlog_without_history_is_not_shown() -> None:
    progress = HistoryImport()
    progress.update({"a", "b"}, any_old=False)
    assert progress.snapshot() is None  # files waiting, nothing known to be history
    progress.finished_one(history=True)
    assert progress.snapshot() == {"done": 1, "found": 2}
