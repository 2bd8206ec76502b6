"""Opening the station database: WAL, durable commits, foreign keys, busy waits."""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from shared.errors import ErrorCode, LtaError

BUSY_TIMEOUT_MS = 5000
# errno values that mean "no room": a full disk, or the account's disk quota used up.
NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})


class StoreError(LtaError):
    """The station database cannot be opened or written."""

    def __init__(self, message: str, code: ErrorCode = ErrorCode.STORE_FAILED) -> None:
        super().__init__(code, message)


class StoreFullError(StoreError):
    """A write failed because the disk holding the data folder is full.

    SQLite rolled the transaction back, so nothing already stored changed; the
    caller keeps what it wanted to write (the inbox file) and tries again later.
    """

    def __init__(self, folder: Path) -> None:
        super().__init__(
            f"The disk holding the data folder {folder} is full: new results are not being "
            "stored (the ones already stored are safe and still shown). Free space on that "
            "disk; the agent stores the waiting files by itself once there is room.",
            ErrorCode.DISK_FULL,
        )
        self.folder = folder


class StoreTooNewError(StoreError):
    """The database was written by a newer agent: this one must not touch it."""

    def __init__(self, path: Path | None, found: int, known: int) -> None:
        where = f"The station database {path}" if path else "The station database"
        super().__init__(
            f"{where} has store version {found}, written by a newer agent; this agent knows "
            f"versions up to {known}. It was not changed. Install the newer agent again (or a "
            "later one), or restore the data folder from a backup made before the upgrade.",
            ErrorCode.STORE_TOO_NEW,
        )
        self.found, self.known = found, known


def is_disk_full(exc: BaseException) -> bool:
    """True when an error means "no space left" (SQLITE_FULL, ENOSPC or a used-up quota)."""
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        return (code is not None and code & 0xFF == sqlite3.SQLITE_FULL) or (
            "database or disk is full" in str(exc)
        )
    return isinstance(exc, OSError) and exc.errno in NO_SPACE_ERRNOS


def readonly_uri(path: Path) -> str:
    """The `file:` URI that opens `path` read-only, whatever characters its folders hold.

    Built by pathlib, which percent-encodes "#", "?" and "%": formatted into the URI by
    hand, a data folder named "line#2" made SQLite open (and create) "line" instead.
    """
    return f"{path.absolute().as_uri()}?mode=ro"


def connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
    """A connection with the pragmas every user of the store relies on.

    WAL lets the page read while the writer commits; synchronous=FULL makes a
    committed verdict survive a power cut (the station PC may just be switched off).
    auto_vacuum=INCREMENTAL takes effect only on a new, empty database (it must
    precede the first table and the switch to WAL); it lets the retention job give
    pruned space back to the disk in small steps (agent.store.pruning).
    """
    try:
        if readonly:
            conn = sqlite3.connect(readonly_uri(path), uri=True, check_same_thread=False, timeout=5)
        else:
            conn = sqlite3.connect(path, check_same_thread=False, timeout=5, isolation_level=None)
            conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
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
    transactions are exactly the ones written here, DDL included. SQLite rolls a
    transaction back by itself on some errors (a full disk), and a COMMIT can fail
    too; either way the original error is what the caller sees, and the connection
    is left with no transaction open, ready for the next one.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            with suppress(sqlite3.Error):  # the first error is the one worth reporting
                conn.execute("ROLLBACK")
        raise
