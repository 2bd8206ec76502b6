"""One thread owns every write to the station database (datasette's pattern).

The watcher, the sync job and the web app all hand their writes to this
thread as functions of a connection, so SQLite never sees two writers and
nobody meets "database is locked".

A write that fails because the disk is full reaches its caller as a
StoreFullError (SQLite already rolled it back) and is reported to `on_disk_full`,
so the whole agent knows, not only the caller.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from loguru import logger

from agent.store.database import StoreFullError, connect, is_disk_full

T = TypeVar("T")
_STOP = object()


class StoreWriter:
    def __init__(self, path: Path, on_disk_full: Callable[[], None] | None = None) -> None:
        self.path = path
        self.on_disk_full = on_disk_full
        self._queue: queue.Queue[Any] = queue.Queue()
        self._ready: Future[None] = Future()
        self._thread = threading.Thread(target=self._run, name="lta-store-writer", daemon=True)
        self._thread.start()
        self._ready.result()  # raises StoreError here, in the caller, if the file cannot open

    def _run(self) -> None:
        try:
            conn = connect(self.path)
        except BaseException as exc:
            self._ready.set_exception(exc)
            return
        self._ready.set_result(None)
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    break
                fn, future = item
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    future.set_result(fn(conn))
                except BaseException as exc:
                    logger.opt(exception=exc).debug("store write failed")
                    future.set_exception(self._translate(exc))
        finally:
            conn.close()

    def _translate(self, exc: BaseException) -> BaseException:
        if not is_disk_full(exc) or isinstance(exc, StoreFullError):
            return exc
        if self.on_disk_full is not None:
            self.on_disk_full()
        full = StoreFullError(self.path.parent)
        full.__cause__ = exc
        return full

    def submit(self, fn: Callable[[sqlite3.Connection], T]) -> Future[T]:
        future: Future[T] = Future()
        if not self._thread.is_alive():
            future.set_exception(RuntimeError("the store writer has stopped"))
            return future
        self._queue.put((fn, future))
        return future

    def call(self, fn: Callable[[sqlite3.Connection], T], timeout: float = 60.0) -> T:
        return self.submit(fn).result(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def backlog(self) -> int:
        return self._queue.qsize()

    def close(self) -> None:
        """Finish queued writes, then stop."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout=30)
