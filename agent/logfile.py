"""The agent's rotating log file, which keeps every line when a rotation is refused.

loguru rotates by closing the file and renaming it. On Windows the rename
fails while any other program holds `agent.log` open (an editor, a log
shipper, an antivirus scan); loguru then reports an error for every later
message and writes none of them: years of silence in the one file IT sends
us. Here a refused rotation is tried again after a little more has been
written, and meanwhile the lines go on into the same file. When the file
cannot be opened at all, lines go to stderr (WinSW keeps that in its own log).
"""

from __future__ import annotations

import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from agent.seam import Platform, host

MAX_BYTES = 10 * 1024 * 1024
KEEP = 10
RETRY_AFTER_BYTES = 256 * 1024  # a refused rotation is tried again after this much more


class RotatingLog:
    """A loguru sink: `logger.add(RotatingLog(path))`. Thread-safe."""

    def __init__(
        self,
        path: Path,
        max_bytes: int = MAX_BYTES,
        keep: int = KEEP,
        platform: Platform | None = None,
        retry_after_bytes: int = RETRY_AFTER_BYTES,
    ) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.keep = keep
        self.platform = platform or host()
        self.rotate_at = max_bytes
        self.retry_after_bytes = retry_after_bytes
        self.refused = 0  # rotations refused so far, for the tests and the log
        self._lock = threading.Lock()
        self._handle: TextIO | None = None
        self._size = 0

    def __call__(self, message: Any) -> None:
        """loguru's formatted message (its default format, with any traceback)."""
        self.write(str(message))

    def write(self, line: str) -> None:
        with self._lock:
            handle = self._open()
            if handle is None:
                sys.stderr.write(line)
                return
            handle.write(line)
            handle.flush()
            self._size += len(line.encode("utf-8"))
            if self._size >= self.rotate_at:
                self._rotate()

    def _open(self) -> TextIO | None:
        if self._handle is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._handle = self.path.open("a", encoding="utf-8")
                self._size = self._handle.tell()
            except OSError:
                return None
        return self._handle

    def _rotate(self) -> None:
        assert self._handle is not None  # noqa: S101 - called after a write
        self._handle.close()
        self._handle = None
        stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S_%f")
        target = self.path.with_name(f"{self.path.stem}.{stamp}{self.path.suffix}")
        try:
            self.platform.move(self.path, target)
        except OSError as exc:
            # Held open elsewhere: keep writing to the same file and try again later.
            self.refused += 1
            self.rotate_at = self._size + self.retry_after_bytes
            handle = self._open()
            if handle is not None:
                handle.write(
                    f"{datetime.now():%Y-%m-%d %H:%M:%S.%f} | WARNING  | log rotation refused "
                    f"({exc.strerror or exc}): another program holds {self.path.name} open; "
                    "writing on and trying again\n"
                )
            return
        self.rotate_at = self.max_bytes
        self._prune()

    def _prune(self) -> None:
        old = sorted(self.path.parent.glob(f"{self.path.stem}.*{self.path.suffix}"))
        for path in old[: max(0, len(old) - self.keep)]:
            try:
                self.platform.remove(path)
            except OSError:
                continue  # held open too: pruned next time

    def close(self) -> None:
        with self._lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None
