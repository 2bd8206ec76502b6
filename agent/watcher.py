"""Watch the inbox folder(s) by polling: network shares send no change events.

A file is analysed once its size and mtime have stayed the same for
`settle_s` (the station has finished writing it). Its SHA-256 decides whether
it was already analysed, so restarts and copies never produce a second
result, while a file rewritten under the same name gets a new one. A file
that cannot be read yet (locked by the station, vanished) is retried with
backoff, never marked failed on the spot. Station files are never moved or
deleted unless an archive folder is configured.
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

from agent.parsing.filenames import is_candidate
from agent.runtime import Runtime
from agent.store import reads
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
    on_recorded: Callable[[FileResult], None] | None = None
    clock: Callable[[], float] = time.monotonic
    # Windows stations hold an exclusive lock while writing; reads then raise
    # PermissionError. Tests pass a reader that does the same on Linux.
    read_bytes: Callable[[Path], bytes] = Path.read_bytes
    _files: dict[Path, _Tracked] = field(default_factory=dict)
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
        """Refresh what is in the inbox; new or changed files start settling."""
        now = self.clock()
        present: dict[Path, os.stat_result] = dict(self._candidates())
        for path in list(self._files):
            if path not in present:
                del self._files[path]
        for path, st in present.items():
            tracked = self._files.get(path)
            if tracked is None or (tracked.size, tracked.mtime_ns) != (st.st_size, st.st_mtime_ns):
                self._files[path] = _Tracked(st.st_size, st.st_mtime_ns, changed_at=now)
        self._last_scan = now

    def _restat(self, path: Path, tracked: _Tracked, now: float) -> bool:
        """True when the file is unchanged since it was last observed."""
        try:
            st = path.stat()
        except OSError:
            return False
        if (st.st_size, st.st_mtime_ns) != (tracked.size, tracked.mtime_ns):
            tracked.size, tracked.mtime_ns, tracked.changed_at = st.st_size, st.st_mtime_ns, now
            tracked.done = False
            return False
        return True

    def ready(self) -> list[Path]:
        now = self.clock()
        return [
            path
            for path, tracked in sorted(self._files.items(), key=lambda kv: kv[1].changed_at)
            if not tracked.done
            and now - tracked.changed_at >= self.settle_s
            and now >= tracked.retry_at
        ]

    @property
    def waiting(self) -> int:
        return sum(1 for tracked in self._files.values() if not tracked.done)

    def tick(self, stop: threading.Event | None = None) -> int:
        """One round: scan when due, then process every settled file. Returns files recorded."""
        now = self.clock()
        if now - self._last_scan >= self.poll_interval_s:
            self.scan()
        recorded = 0
        for path in self.ready():
            if stop is not None and stop.is_set():
                break
            tracked = self._files.get(path)
            if tracked is None or not self._restat(path, tracked, self.clock()):
                continue
            recorded += self._process(path, tracked)
        self.runtime.report_scan(self.waiting)
        return recorded

    def _backoff(self, tracked: _Tracked, reason: str) -> None:
        tracked.attempts += 1
        delay = min(MAX_BACKOFF_S, 0.5 * 2 ** (tracked.attempts - 1))
        tracked.retry_at = self.clock() + delay
        self.runtime.metrics.read_retries.inc()
        self.runtime.report_error(reason)

    def _process(self, path: Path, tracked: _Tracked) -> int:
        key = str(path)
        if reads.known_by_stat(self.store.read(), key, tracked.size, tracked.mtime_ns):
            tracked.done = True
            return 0
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
            tracked.done = True
            return 0
        started = time.perf_counter()
        result = self.analyse(path, content)
        if self._looks_unfinished(result, tracked):
            self._backoff(tracked, f"{path.name} does not parse yet; waiting for the station.")
            return 0
        seen_at = datetime.now(UTC)
        recorded = self.store.record(result, self.runtime.station_id, seen_at, tracked.mtime_ns)
        tracked.done = True
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
        except OSError as exc:
            self.runtime.report_error(f"Could not archive {path.name}: {exc.strerror or exc}")
