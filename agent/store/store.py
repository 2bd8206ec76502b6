"""The station store: open and migrate, one writer, per-thread readers."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from datetime import datetime
from pathlib import Path

from agent.store import writes
from agent.store.database import StoreError, connect, is_disk_full
from agent.store.migrations import ensure_incremental_vacuum, migrate
from agent.store.space import DiskSpace
from agent.store.writer import StoreWriter
from shared.models import FileResult

DATABASE_NAME = "agent.sqlite"


def check_writable(folder: Path) -> bool:
    """Fail at start, with a message IT can act on, rather than at the first verdict.

    A folder that is writable but on a full disk is not a reason to stop: the agent
    starts, shows what it stored and says "disk full" (returns False).
    """
    probe = folder / ".lta-write-test"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        if is_disk_full(exc):
            with contextlib.suppress(OSError):
                probe.unlink(missing_ok=True)
            return False
        raise StoreError(
            f"The data folder {folder} is not writable ({exc.strerror or exc}). Give the "
            "agent's account write access or set LTA_AGENT_DATA_DIR / storage.data_dir."
        ) from exc
    return True


class Store:
    def __init__(self, path: Path) -> None:
        room = check_writable(path.parent)
        self.path = path
        self.space = DiskSpace(path.parent)
        if not room:
            self.space.mark_full()
        self.writer = self._open_writer()
        try:
            self.schema_version = self.writer.call(migrate)
            self.incremental_vacuum = self.writer.call(ensure_incremental_vacuum)
        except BaseException:
            self.writer.close()
            raise
        if not self.space.full:
            self.space.keep_reserve()
        self._local = threading.local()

    def _open_writer(self) -> StoreWriter:
        """The writer; on a full disk SQLite cannot open the database at all, so the
        reserve file's room is given up for it (agent.store.space)."""
        try:
            return StoreWriter(self.path, on_disk_full=self.space.mark_full)
        except StoreError:
            if not (self.space.nearly_full() and self.space.release_reserve()):
                raise
        self.space.mark_full()
        return StoreWriter(self.path, on_disk_full=self.space.mark_full)

    def read(self) -> sqlite3.Connection:
        """This thread's read connection (WAL: reads never wait for the writer)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, readonly=True)
            self._local.conn = conn
        return conn

    def record(
        self,
        result: FileResult,
        station_id: str,
        seen_at: datetime,
        mtime_ns: int | None,
        history: bool = False,
    ) -> writes.Recorded:
        recorded = self.writer.call(
            lambda conn: writes.record_file(conn, result, station_id, seen_at, mtime_ns, history)
        )
        if recorded.new:
            self.space.mark_ok()  # a write that needed new room succeeded
        return recorded

    @property
    def disk_full(self) -> bool:
        return self.space.full

    def healthy(self) -> bool:
        if not self.writer.alive:
            return False
        try:
            self.read().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def close(self) -> None:
        self.writer.close()
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
