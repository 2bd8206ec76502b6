"""Watch the inbox folder(s) by polling: network shares send no change events.

A file is analysed once its size and mtime have stayed the same for
`settle_s` (the station has finished writing it). Its SHA-256 decides whether
it was already analysed, so restarts and copies never produce a second
result, while a file rewritten under the same name gets a new one. A file
that cannot be read yet (locked by the station, vanished) is retried with
backoff, never marked failed on the spot. Station files are never moved or
deleted unless an archive folder is configured.

A backlog (many files ready at once, as when the agent is first pointed at a
folder of old results) is analysed oldest first by mtime, so results are
stored and synced in the order they were made, except that files last saved
before the history window wait until the recent ones are done: a unit the
station saves during the import never waits behind years of history. Each
round works for at most one poll interval, so a scan comes round while a long
backlog is imported. Old results are recorded as history (agent.history) and
the import's progress is shown on the page.

When the disk holding the store is full, a file whose result could not be
stored stays pending (it is never marked seen), scanning goes on, and analysis
pauses until the store finds room again (agent.store.space); then every file
that arrived meanwhile is analysed and recorded, oldest first.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from loguru import logger

from agent.history import HistoryWindow
from agent.parsing.filenames import is_candidate
from agent.runtime import Runtime
from agent.store import reads
from agent.store.database import StoreFullError
from agent.store.store import Store
from shared.errors import ErrorCode
from shared.models import FileResult, Status

Analyse = Callable[[Path, bytes], FileResult]

MAX_BACKOFF_S = 60.0
# A freshly written file that does not parse may still be in the station's
# hands (slow network share); give it this long before recording it as corrupt.
YOUNG_FILE_S = 5.0


@dataclass
class _Tracked:
    size: int
    mtime_ns: int
    changed_at: float  # monotonic time the current size/mtime was first observed
    old: bool = False  # last written before the history window: likely history
    done: bool = False
    attempts: int = 0
    retry_at: float = 0.0


@dataclass
class Watcher:
    inboxes: list[Path]
    store: Store
    analyse: Analyse
    runtime: Runtime
    recursive: bool = True
    poll_interval_s: float = 1.0
    settle_s: float = 0.3
    archive_dir: Path | None = None
    history_window: HistoryWindow = field(default_factory=HistoryWindow)
    on_recorded: Callable[[FileResult], None] | None = None
    clock: Callable[[], float] = time.monotonic
    # Local wall clock for the history window (naive, like a station's test date).
    local_now: Callable[[], datetime] = datetime.now
    # Windows stations hold an exclusive lock while writing; reads then raise
    # PermissionError. Tests pass a reader that does the same on Linux.
    read_bytes: Callable[[Path], bytes] = Path.read_bytes
    _files: dict[Path, _Tracked] = field(default_factory=dict)
    _pending: set[Path] = field(default_factory=set)  # tracked and not done: kept small to walk
    _last_scan: float = float("-inf")

    def _candidates(self) -> Iterator[tuple[Path, os.stat_result]]:
        for inbox in self.inboxes:
            yield from self._walk(inbox)

    def _walk(self, folder: Path) -> Iterator[tuple[Path, os.stat_result]]:
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            self.runtime.report_error(f"Cannot list {folder}: {exc.strerror or exc}")
            return
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if self.recursive and not entry.name.startswith((".", "~$")):
                        yield from self._walk(Path(entry.path))
                elif entry.is_file() and is_candidate(Path(entry.name)):
                    yield Path(entry.path), entry.stat()
            except OSError:
                continue  # vanished between listing and stat: the next scan decides

    def scan(self) -> None:
        """Refresh what is in the inbox; new or changed files start settling.

        A file this path already recorded with the same size and mtime is done at
        once (a restart over a folder of known files reads none of them again).
        """
        now = self.clock()
        local_now = self.local_now()
        present: dict[Path, os.stat_result] = dict(self._candidates())
        for path in list(self._files):
            if path not in present:
                del self._files[path]
                self._pending.discard(path)
        conn = self.store.read()
        for path, st in present.items():
            tracked = self._files.get(path)
            if tracked is None or (tracked.size, tracked.mtime_ns) != (st.st_size, st.st_mtime_ns):
                tracked = _Tracked(
                    st.st_size,
                    st.st_mtime_ns,
                    changed_at=now,
                    old=self.history_window.mtime_is_old(st.st_mtime_ns, local_now),
                )
                tracked.done = reads.known_by_stat(conn, str(path), st.st_size, st.st_mtime_ns)
                self._files[path] = tracked
                self._track(path, tracked)
        self._last_scan = now
        self._note_backlog()

    def _track(self, path: Path, tracked: _Tracked) -> None:
        if tracked.done:
            self._pending.discard(path)
        else:
            self._pending.add(path)

    def _finish(self, path: Path, tracked: _Tracked, history: bool = False) -> None:
        """The file needs nothing more: recorded, known already, or not a new result."""
        tracked.done = True
        self._pending.discard(path)
        self.runtime.history_import.finished_one(history)

    def _note_backlog(self) -> None:
        """Tell the import progress which files wait now (the first waiting file begins one)."""
        self.runtime.history_import.update(
            {str(p) for p in self._pending},
            any(self._files[p].old for p in self._pending),
        )

    def _restat(self, path: Path, tracked: _Tracked, now: float) -> bool:
        """True when the file is unchanged since it was last observed."""
        try:
            st = path.stat()
        except OSError:
            return False
        if (st.st_size, st.st_mtime_ns) != (tracked.size, tracked.mtime_ns):
            tracked.size, tracked.mtime_ns, tracked.changed_at = st.st_size, st.st_mtime_ns, now
            tracked.old = self.history_window.mtime_is_old(st.st_mtime_ns, self.local_now())
            tracked.done = False
            self._track(path, tracked)
            return False
        return True

    @staticmethod
    def _order(item: tuple[Path, _Tracked]) -> tuple[bool, int, str]:
        """Files saved within the history window first, then older ones; oldest first in each.

        Oldest first keeps the store and the outbox in the order units were made,
        and the newest unit analysed last, so it is the latest one shown. Old
        files (history) go after the recent ones: a unit the station saves during
        an import of years of files waits only for the recent ones, not the years.
        """
        path, tracked = item
        return (tracked.old, tracked.mtime_ns, str(path))

    def ready(self) -> list[Path]:
        """Settled files not yet analysed, in the order they should be analysed."""
        now = self.clock()
        settled = [
            (path, self._files[path])
            for path in self._pending
            if now - self._files[path].changed_at >= self.settle_s
            and now >= self._files[path].retry_at
        ]
        return [path for path, _ in sorted(settled, key=self._order)]

    @property
    def waiting(self) -> int:
        return len(self._pending)

    def tick(self, stop: threading.Event | None = None) -> int:
        """One round: scan when due, then process settled files. Returns files recorded.

        A round ends after one poll interval of work, so the next one scans again
        and a file saved meanwhile is analysed next, not after the whole backlog.
        """
        now = self.clock()
        if now - self._last_scan >= self.poll_interval_s:
            self.scan()
        if not self.store.space.has_room():  # disk full: files wait in the inbox
            self.runtime.report_scan(self.waiting)
            return 0
        recorded = attempted = 0
        until = self.clock() + self.poll_interval_s
        for path in self.ready():
            if stop is not None and stop.is_set():
                break
            if attempted and self.clock() >= until:
                break  # at least one file per round, so a slow scan cannot starve the work
            tracked = self._files.get(path)
            if tracked is None or tracked.done or not self._restat(path, tracked, self.clock()):
                continue
            attempted += 1
            recorded += self._process(path, tracked)
            if self.store.disk_full:
                break  # the next files would fail the same way; has_room() says when
        self.runtime.report_scan(self.waiting)
        return recorded

    def _backoff(self, tracked: _Tracked, reason: str) -> None:
        tracked.attempts += 1
        delay = min(MAX_BACKOFF_S, 0.5 * 2 ** (tracked.attempts - 1))
        tracked.retry_at = self.clock() + delay
        self.runtime.metrics.read_retries.inc()
        self.runtime.report_error(reason)

    def _process(self, path: Path, tracked: _Tracked) -> int:
        try:
            content = self.read_bytes(path)
        except OSError as exc:
            self._backoff(
                tracked, f"Cannot read {path.name} yet ({exc.strerror or exc}); retrying."
            )
            return 0
        if len(content) != tracked.size:  # still being written after all
            tracked.changed_at = self.clock()
            return 0
        if reads.is_known(self.store.read(), hashlib.sha256(content).hexdigest()):
            self._finish(path, tracked)
            return 0
        started = time.perf_counter()
        result = self.analyse(path, content)
        if self._looks_unfinished(result, tracked):
            self._backoff(tracked, f"{path.name} does not parse yet; waiting for the station.")
            return 0
        seen_at = datetime.now(UTC)
        history = self.history_window.is_history(result, tracked.mtime_ns, self.local_now())
        try:
            recorded = self.store.record(
                result, self.runtime.station_id, seen_at, tracked.mtime_ns, history
            )
        except StoreFullError as exc:  # rolled back: the file stays pending, tried again later
            self.runtime.report_error(exc.message)
            return 0
        self._finish(path, tracked, history)
        if not recorded.new:
            return 0
        self._count(result, time.perf_counter() - started)
        self._archive(path)
        if self.on_recorded is not None:
            self.on_recorded(result)
        return 1

    def _looks_unfinished(self, result: FileResult, tracked: _Tracked) -> bool:
        if result.error is None or result.error.code != ErrorCode.UNREADABLE_FILE:
            return False
        age_s = time.time() - tracked.mtime_ns / 1e9
        return age_s < YOUNG_FILE_S

    def _count(self, result: FileResult, elapsed_s: float) -> None:
        metrics = self.runtime.metrics
        metrics.files.labels(status=result.status.value).inc()
        metrics.latency.observe(elapsed_s)
        if result.status is Status.ERROR and result.error is not None:
            metrics.errors.labels(code=result.error.code).inc()
            self.runtime.report_error(f"{result.file_name}: {result.error.message}")
        logger.info("{} {} {}", result.status.value.upper(), result.file_name, result.model or "")

    def _archive(self, path: Path) -> None:
        if self.archive_dir is None:
            return
        target_dir = self.archive_dir
        for inbox in self.inboxes:
            if path.is_relative_to(inbox):
                target_dir = self.archive_dir / path.parent.relative_to(inbox)
                break
        try:
            target_dir.mkdir(parents=True, exist_ok=True)
            target = target_dir / path.name
            n = 1
            while target.exists():
                n += 1
                target = target_dir / f"{path.stem} ({n}){path.suffix}"
            shutil.move(str(path), str(target))
            self._files.pop(path, None)
            self._pending.discard(path)
        except OSError as exc:
            self.runtime.report_error(f"Could not archive {path.name}: {exc.strerror or exc}")
