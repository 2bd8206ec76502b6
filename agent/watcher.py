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

The scan costs what the folders cost, not what the files in them cost (a
station folder holds years of files): each folder's listing is kept with the
folder's mtime, and an unchanged folder is not listed again; adding, removing
or renaming a file changes it. Two slow sweeps catch what a folder's mtime
does not show: a bounded slice of known files is re-stat'ed each scan (a file
rewritten in place under its name), and every folder is listed again every
`relist_s` (file systems such as FAT that keep no folder mtime). Everything
touching the disk goes through agent.seam, so the Windows behaviour (files held
open, share blips, long paths) is the same in the tests as on a station.

When the disk holding the store is full, a file whose result could not be
stored stays pending (it is never marked seen), scanning goes on, and analysis
pauses until the store finds room again (agent.store.space); then every file
that arrived meanwhile is analysed and recorded, oldest first.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from loguru import logger

from agent.config import InboxConfig
from agent.history import HistoryWindow
from agent.isolation import AnalysisCannotStart
from agent.parsing.filenames import is_candidate
from agent.runtime import Runtime
from agent.seam import ErrorKind, Platform, host
from agent.store import reads
from agent.store.database import StoreFullError
from agent.store.store import Store
from shared.errors import ErrorCode
from shared.models import FileResult, Status

# (path, its bytes, their SHA-256 as the watcher took it): the analysis does not hash again.
Analyse = Callable[[Path, bytes, str], FileResult]

MAX_BACKOFF_S = 60.0
# A freshly written file that does not parse may still be in the station's
# hands (slow network share); give it this long before recording it as corrupt.
YOUNG_FILE_S = 5.0
# Known files re-stat'ed per scan, round-robin: a file rewritten in place (its folder's
# mtime unchanged) is found within (known files / SWEEP_FILES) scans.
SWEEP_FILES = 500
# Every folder is listed again this often, whatever its mtime says.
RELIST_S = 300.0
# A folder changed this close to its listing may change again within the same mtime
# tick (coarse file-system clocks): it is listed again until it is older than this.
RACY_NS = 2 * 1_000_000_000


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
class _Folder:
    """One folder's last listing: its candidate files and sub-folders, and its mtime then."""

    mtime_ns: int
    listed_ns: int  # wall clock just before the listing
    files: set[Path]
    folders: set[Path]

    def unchanged(self, st: os.stat_result) -> bool:
        return st.st_mtime_ns == self.mtime_ns and self.mtime_ns < self.listed_ns - RACY_NS


@dataclass
class Watcher:
    inboxes: list[Path]
    store: Store
    analyse: Analyse
    runtime: Runtime
    # Defaults as in `[inbox]` (agent.config), where they are written once.
    recursive: bool = InboxConfig.default_of("recursive")
    poll_interval_s: float = InboxConfig.default_of("poll_interval_s")
    settle_s: float = InboxConfig.default_of("settle_s")
    archive_dir: Path | None = None
    history_window: HistoryWindow = field(default_factory=HistoryWindow)
    on_recorded: Callable[[FileResult], None] | None = None
    clock: Callable[[], float] = time.monotonic
    # Local wall clock for the history window (naive, like a station's test date).
    local_now: Callable[[], datetime] = datetime.now
    # The file system, processes and time as the station's OS gives them (agent.seam).
    platform: Platform = field(default_factory=host)
    # Reads the bytes of an inbox file; None: the platform's. Windows stations hold an
    # exclusive lock while writing, and reads then raise a sharing violation.
    read_bytes: Callable[[Path], bytes] | None = None
    sweep_files: int = SWEEP_FILES
    relist_s: float = RELIST_S
    wall_ns: Callable[[], int] = time.time_ns
    _files: dict[Path, _Tracked] = field(default_factory=dict)
    _pending: set[Path] = field(default_factory=set)  # tracked and not done: kept small to walk
    _folders: dict[Path, _Folder] = field(default_factory=dict)
    _sweep: deque[Path] = field(default_factory=deque)  # known files, round-robin
    _to_archive: dict[Path, tuple[float, int]] = field(default_factory=dict)  # retry_at, tries
    _last_scan: float = float("-inf")
    _last_relist: float = float("-inf")

    def scan(self) -> None:
        """Refresh what is in the inbox; new or changed files start settling.

        Only folders whose mtime changed are listed; a file this path already
        recorded with the same size and mtime is done at once (a restart over a
        folder of known files reads none of them again).
        """
        now = self.clock()
        relist = now - self._last_relist >= self.relist_s
        for inbox in self.inboxes:
            self._visit(inbox, relist, now)
        if relist:
            self._last_relist = now
        self._sweep_known(now)
        for path in list(self._pending):  # few: the files still settling or waiting
            tracked = self._files.get(path)
            if tracked is not None:
                self._restat(path, tracked, now)
        self._last_scan = now
        self._note_backlog()

    def _visit(self, folder: Path, relist: bool, now: float) -> None:
        """List `folder` if it changed (or `relist`), then its known sub-folders."""
        index = self._folders.get(folder)
        try:
            st = self.platform.stat(folder)
        except OSError as exc:
            self._cannot_list(folder, exc)  # what is known of it stays known
            return
        if index is None or relist or not index.unchanged(st):
            listed_ns = self.wall_ns()
            try:
                entries = self.platform.scandir(folder)
            except OSError as exc:
                self._cannot_list(folder, exc)
                return
            files = {e.path for e in entries if e.is_file and is_candidate(Path(e.name))}
            folders = {
                e.path
                for e in entries
                if e.is_dir and self.recursive and not e.name.startswith((".", "~$"))
            }
            before = index or _Folder(0, 0, set(), set())
            for gone in before.files - files:
                self._forget(gone)
            for gone in before.folders - folders:
                self._forget_folder(gone)
            for path in files - before.files:
                self._observe(path, now)
            index = _Folder(st.st_mtime_ns, listed_ns, files, folders)
            self._folders[folder] = index
        for sub in sorted(index.folders):
            self._visit(sub, relist, now)

    def _cannot_list(self, folder: Path, exc: OSError) -> None:
        kind = self.platform.classify(exc)
        reason = exc.strerror or str(exc)
        if kind is ErrorKind.DENIED:
            reason += f"; {self.platform.account()} has no read access to it"
        elif kind is ErrorKind.UNREACHABLE:
            reason += "; the share or drive is not reachable, retrying"
        self.runtime.report_error(f"Cannot list {folder}: {reason}")

    def _forget(self, path: Path) -> None:
        self._files.pop(path, None)
        self._pending.discard(path)

    def _forget_folder(self, folder: Path) -> None:
        index = self._folders.pop(folder, None)
        if index is None:
            return
        for path in index.files:
            self._forget(path)
        for sub in index.folders:
            self._forget_folder(sub)

    def _observe(self, path: Path, now: float) -> None:
        """A file name not seen before in its folder: track it from its stat."""
        try:
            st = self.platform.stat(path)
        except OSError:
            return  # vanished already; a relisting decides
        tracked = _Tracked(
            st.st_size,
            st.st_mtime_ns,
            changed_at=now,
            old=self.history_window.mtime_is_old(st.st_mtime_ns, self.local_now()),
        )
        tracked.done = reads.known_by_stat(self.store.read(), str(path), st.st_size, st.st_mtime_ns)
        self._files[path] = tracked
        self._track(path, tracked)
        self._sweep.append(path)

    def _sweep_known(self, now: float) -> None:
        """Re-stat the next slice of known files: a rewrite in place shows up here."""
        for _ in range(min(self.sweep_files, len(self._sweep))):
            path = self._sweep.popleft()
            tracked = self._files.get(path)
            if tracked is None:
                continue  # forgotten: leaves the round
            self._sweep.append(path)
            if tracked.done:
                self._restat(path, tracked, now)

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
            st = self.platform.stat(path)
        except OSError:
            return False
        if (st.st_size, st.st_mtime_ns) != (tracked.size, tracked.mtime_ns):
            tracked.size, tracked.mtime_ns, tracked.changed_at = st.st_size, st.st_mtime_ns, now
            tracked.old = self.history_window.mtime_is_old(st.st_mtime_ns, self.local_now())
            tracked.done = False
            tracked.attempts, tracked.retry_at = 0, 0.0
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
        self._archive_waiting(now)
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
            try:
                recorded += self._process(path, tracked)
            except AnalysisCannotStart as exc:  # the file waits; the worker backs off
                self.runtime.report_analysis_error(exc.message)
                break
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

    def _read(self, path: Path) -> bytes:
        return (
            self.read_bytes(path) if self.read_bytes is not None else self.platform.read_bytes(path)
        )

    def _process(self, path: Path, tracked: _Tracked) -> int:
        try:
            content = self._read(path)
        except OSError as exc:
            self._read_failed(path, tracked, exc)
            return 0
        if len(content) != tracked.size:  # still being written after all
            tracked.changed_at = self.clock()
            return 0
        digest = hashlib.sha256(content).hexdigest()
        if reads.is_known(self.store.read(), digest):
            self._finish(path, tracked)
            return 0
        started = time.perf_counter()
        result = self.analyse(path, content, digest)
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

    def _read_failed(self, path: Path, tracked: _Tracked, exc: OSError) -> None:
        """Retry what time can fix (a lock, a share blip); say once what it cannot."""
        kind = self.platform.classify(exc)
        reason = exc.strerror or str(exc)
        if kind is ErrorKind.TOO_LONG:
            self._finish(path, tracked)  # retrying would fail the same way forever
            self.runtime.report_error(
                f"{ErrorCode.PATH_TOO_LONG}: cannot read {path} ({len(str(path))} characters: "
                f"{reason}). Shorten the folder names above it, or enable long paths "
                "(docs/install.md)."
            )
            return
        if kind is ErrorKind.LOCKED:
            reason = f"held open by another program ({reason})"
        elif kind is ErrorKind.DENIED:
            reason = f"{reason}; {self.platform.account()} may lack read access"
        self._backoff(tracked, f"Cannot read {path.name} yet ({reason}); retrying.")

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
            self.platform.move(path, target)
            self._forget(path)
            self._to_archive.pop(path, None)
        except OSError as exc:
            # Still held open by the station (or a share blip): it stays known by its
            # stat, so it is not analysed again, and the move is tried again later.
            _, tries = self._to_archive.get(path, (0.0, 0))
            delay = min(MAX_BACKOFF_S, 2.0 * 2**tries)
            self._to_archive[path] = (self.clock() + delay, tries + 1)
            self.runtime.report_error(
                f"Could not archive {path.name} yet ({exc.strerror or exc}); retrying."
            )

    def _archive_waiting(self, now: float) -> None:
        """Move the recorded files whose archiving failed, once their retry time comes."""
        for path, (retry_at, _) in list(self._to_archive.items()):
            if now < retry_at:
                continue
            if path not in self._files:  # gone from the inbox meanwhile
                self._to_archive.pop(path, None)
                continue
            self._archive(path)
