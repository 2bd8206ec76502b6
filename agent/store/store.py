"""The station store: open and migrate, one writer, per-thread readers."""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime
from pathlib import Path

from agent.store import writes
from agent.store.database import StoreError, connect
from agent.store.migrations import migrate
from agent.store.writer import StoreWriter
from shared.models import FileResult

DATABASE_NAME = "agent.sqlite"


def check_writable(folder: Path) -> None:
    """Fail at start, with a message IT can act on, rather than at the first verdict."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".lta-write-test"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        raise StoreError(
            f"The data folder {folder} is not writable ({exc.strerror or exc}). Give the "
            "agent's account write access or set LTA_AGENT_DATA_DIR / storage.data_dir."
        ) from exc


class Store:
    def __init__(self, path: Path) -> None:
        check_writable(path.parent)
        self.path = path
        self.writer = StoreWriter(path)
        self.schema_version = self.writer.call(migrate)
        self._local = threading.local()

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
        return self.writer.call(
            lambda conn: writes.record_file(conn, result, station_id, seen_at, mtime_ns, history)
        )

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
