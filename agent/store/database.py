"""Opening the station database: WAL, durable commits, foreign keys, busy waits."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shared.errors import ErrorCode, LtaError

BUSY_TIMEOUT_MS = 5000


class StoreError(LtaError):
    """The station database cannot be opened or written."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.STORE_FAILED, message)


def connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
    """A connection with the pragmas every user of the store relies on.

    WAL lets the page read while the writer commits; synchronous=FULL makes a
    committed verdict survive a power cut (the station PC may just be switched off).
    """
    try:
        if readonly:
            conn = sqlite3.connect(
                f"file:{path}?mode=ro", uri=True, check_same_thread=False, timeout=5
            )
        else:
            conn = sqlite3.connect(path, check_same_thread=False, timeout=5, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys=ON")
    except sqlite3.Error as exc:
        raise StoreError(
            f"Cannot open the station database {path} ({exc}). Check that the data folder "
            "exists, is writable by the agent's account and the disk is not full."
        ) from exc
    conn.row_factory = sqlite3.Row
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error: all of a file's rows or none.

    The write connection runs in autocommit mode (isolation_level=None) so that
    transactions are exactly the ones written here, DDL included.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
