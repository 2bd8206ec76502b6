"""Whether the disk holding the data folder has room: the "disk full" state.

A station PC left alone for years will one day fill its disk (a log folder
gone wild, another program's files). SQLite then refuses to commit, rolls the
transaction back and raises "database or disk is full": what was stored stays
intact and readable, so the page keeps showing it. This object remembers that
state so the page and /healthz can say "disk full", and finds out when space
has returned by writing a small probe file now and then (SQLite's own writes
may still succeed into space its WAL file already holds, so they prove little).

Opening a WAL database needs a little room of its own (its -shm index file), so
after a restart on a full disk SQLite could not even read what it stored. The
data folder therefore keeps a 1 MiB reserve file, made while there is room and
given up only to open the store on a full disk.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loguru import logger

PROBE_NAME = ".lta-space-probe"
# Room for a few results with their curves (~21 KB each) and the WAL pages they need.
PROBE_BYTES = 256 * 1024
PROBE_EVERY_S = 5.0
RESERVE_NAME = ".lta-reserve"
RESERVE_BYTES = 1024 * 1024
# The reserve is only made when it leaves at least this much free: it must never be
# what fills the disk.
RESERVE_FREE_AFTER = 2 * 1024 * 1024


class DiskSpace:
    def __init__(
        self,
        folder: Path,
        probe_every_s: float = PROBE_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.folder = folder
        self.probe_every_s = probe_every_s
        self.clock = clock
        self._full_since: datetime | None = None
        self._last_probe = float("-inf")
        self._lock = threading.Lock()

    @property
    def full(self) -> bool:
        return self._full_since is not None

    def mark_full(self) -> None:
        """A write failed for lack of space (called by the store writer)."""
        with self._lock:
            if self._full_since is not None:
                return
            self._full_since = datetime.now(UTC)
            self._last_probe = self.clock()
        logger.error(
            "Disk full: the data folder {} has no room; new results wait in the inbox until "
            "space is freed",
            self.folder,
        )

    def mark_ok(self) -> None:
        """A write needing new space succeeded: there is room again."""
        with self._lock:
            if self._full_since is None:
                return
            since, self._full_since = self._full_since, None
        logger.info("Disk space is back after {:.0f} s; storing results again", _age_s(since))
        self.keep_reserve()

    def keep_reserve(self) -> bool:
        """Make the reserve file if it is missing and there is room; True if it exists."""
        path = self.folder / RESERVE_NAME
        if path.exists():
            return True
        try:
            if shutil.disk_usage(self.folder).free < RESERVE_BYTES + RESERVE_FREE_AFTER:
                return False
            temporary = path.with_suffix(".tmp")
            with temporary.open("wb") as handle:
                handle.write(b"\0" * RESERVE_BYTES)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except OSError:
            with contextlib.suppress(OSError):
                path.with_suffix(".tmp").unlink(missing_ok=True)
            return False
        return True

    def release_reserve(self) -> bool:
        """Give the reserve's room to the store (to open it on a full disk); True if freed."""
        try:
            (self.folder / RESERVE_NAME).unlink()
        except OSError:
            return False
        logger.warning("Disk full: used the data folder's reserve to open the store")
        return True

    def nearly_full(self) -> bool:
        try:
            return shutil.disk_usage(self.folder).free < RESERVE_BYTES
        except OSError:
            return False

    def has_room(self) -> bool:
        """False while the disk is full; probes (at most every probe_every_s) to find out.

        Room again means the probe file fits and the reserve file could be made again
        (so about 3 MB are free).

        Cheap to call on every watcher round: without a known problem it only reads
        a flag.
        """
        if self._full_since is None:
            return True
        now = self.clock()
        if now - self._last_probe < self.probe_every_s:
            return False
        self._last_probe = now
        # Room means the reserve is back in place with room to spare, not only that the
        # probe fits: a store opened with the reserve's room must not use it up.
        if probe_write(self.folder) and self.keep_reserve():
            self.mark_ok()
            return True
        return False

    def snapshot(self) -> dict[str, Any] | None:
        """For /api/status and /healthz: since when the disk is full, or None."""
        since = self._full_since
        if since is None:
            return None
        return {
            "since": since.isoformat(),
            "folder": str(self.folder),
            "message": (
                f"disk full: new results are not being stored; free space on the disk of "
                f"{self.folder}"
            ),
        }


def probe_write(folder: Path, size: int = PROBE_BYTES, name: str = PROBE_NAME) -> bool:
    """Write (and fsync) `size` bytes in `folder`, then remove them: True if it fitted."""
    path = folder / name
    try:
        with path.open("wb") as handle:
            handle.write(b"\0" * size)
            handle.flush()
            os.fsync(handle.fileno())
        return True
    except OSError:
        return False
    finally:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            logger.debug("could not remove the space probe {}", path)


def _age_s(since: datetime) -> float:
    return (datetime.now(UTC) - since).total_seconds()
