"""History: results too old to belong to the operator's shift, and the import of a backlog.

IT may point the agent at a folder that already holds years of results. Those
files are analysed, stored and synced like any other, but they must not swell
the shift's counts nor replace the unit on the machine as "the latest". A
result is history when its test time is older than the history window; the
test time is the file's own test date (the station's local clock), or the
file's modification time when the file carries no date (unreadable files,
layouts without one).

While the watcher works through a backlog that holds history, the page says
"importing history: n of m" (`HistoryImport`): m counts every file that waited
to be analysed since the backlog began (files found later are added), n is m
minus the files still waiting. See docs/operator.md.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from agent.config import InboxConfig
from agent.seam import Platform, host
from shared.models import FileResult


def local_from_ns(mtime_ns: int, platform: Platform | None = None) -> datetime:
    """A file's mtime as a naive local time, comparable with a station's test date.

    Any mtime converts, 1960 included: on Windows `datetime.fromtimestamp` raises
    for times before 1970, and one such file used to fail every scan (agent.seam).
    """
    return (platform or host()).local_time(mtime_ns)


@dataclass(frozen=True)
class HistoryWindow:
    """Which test times are history; `hours == 0` turns history off (everything counts)."""

    hours: float = InboxConfig.default_of("history_window_hours")
    platform: Platform = field(default_factory=host, compare=False, repr=False)

    def cutoff(self, now: datetime) -> datetime | None:
        """Test times before this (naive local) are history; None when history is off."""
        if self.hours <= 0:
            return None
        return now - timedelta(hours=self.hours)

    def is_old(self, tested_at: datetime | None, now: datetime) -> bool:
        cutoff = self.cutoff(now)
        if cutoff is None or tested_at is None:
            return False
        if tested_at.tzinfo is not None:  # test dates are naive; be safe with aware ones
            tested_at = tested_at.astimezone().replace(tzinfo=None)
        return tested_at < cutoff

    def is_history(self, result: FileResult, mtime_ns: int | None, now: datetime) -> bool:
        """The result's test date decides; without one, the file's modification time does."""
        tested_at = result.test_date
        if tested_at is None and mtime_ns is not None:
            tested_at = local_from_ns(mtime_ns, self.platform)
        return self.is_old(tested_at, now)

    def mtime_is_old(self, mtime_ns: int, now: datetime) -> bool:
        """A file last written before the window: almost surely history, before analysing it."""
        return self.is_old(local_from_ns(mtime_ns, self.platform), now)


@dataclass
class HistoryImport:
    """Progress through a backlog of waiting files, shown while the backlog holds history.

    The watcher thread writes; web threads read `snapshot()`. A backlog begins
    when files are waiting with none waiting before, and ends when none waits.
    It is shown once it is known to hold history: a waiting file last written
    before the window, or a recorded result classified as history.
    """

    found: int = 0  # m: files that waited since the backlog began
    waiting: int = 0  # files of the backlog not yet finished
    holds_history: bool = False
    _counted: set[str] = field(default_factory=set, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def active(self) -> bool:
        return self.waiting > 0

    @property
    def done(self) -> int:
        """n: files of the backlog analysed (or gone from the folder) so far."""
        return self.found - self.waiting

    def update(self, waiting: set[str], any_old: bool) -> None:
        """The files waiting now (after a scan); new ones extend the backlog."""
        with self._lock:
            if not waiting:
                self._reset()
                return
            fresh = waiting - self._counted
            self._counted |= fresh
            self.found += len(fresh)
            self.waiting = len(waiting)
            self.holds_history = self.holds_history or any_old

    def finished_one(self, history: bool) -> None:
        """One waiting file is done (recorded, or found to be known already)."""
        with self._lock:
            if self.waiting > 0:
                self.waiting -= 1
            self.holds_history = self.holds_history or history
            if self.waiting == 0:
                self._reset()

    def _reset(self) -> None:
        self.found = self.waiting = 0
        self.holds_history = False
        self._counted = set()

    def snapshot(self) -> dict[str, int] | None:
        """{"done": n, "found": m} while a history import runs, else None (nothing to show)."""
        with self._lock:
            if not (self.active and self.holds_history):
                return None
            return {"done": self.done, "found": self.found}
