"""PostgreSQL for central: a psycopg 3 pool, or an embedded server when no URL is set.

PostgreSQL is the store at every size. On a fresh machine (evaluation, tests)
no database URL is configured, so central starts a private PostgreSQL in its
data folder (the pgserver package ships the binaries) and says so in the log.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg
from loguru import logger
from psycopg_pool import ConnectionPool

from shared.errors import ErrorCode, LtaError

MIGRATION_LOCK_KEY = 0x4C54_4143  # "LTAC": one migrator at a time across instances


class DatabaseError(LtaError):
    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.STORE_FAILED, message)


@dataclass
class Database:
    url: str
    pool: ConnectionPool
    embedded: Any = None  # the pgserver handle when central runs its own PostgreSQL
    _closed: bool = field(default=False, repr=False)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.pool.close()
        if self.embedded is not None:
            self.embedded.cleanup()


def start_embedded(pg_dir: Path) -> tuple[str, Any]:
    """A private PostgreSQL in pg_dir (created on first use); returns (url, handle)."""
    import pgserver
    from pgserver.postgres_server import PostgresServer

    from central.embedded_pg import embedded_url, forget_dead_users

    pg_dir.mkdir(parents=True, exist_ok=True)
    try:
        with warnings.catch_warnings():  # platformdirs complains about XDG_RUNTIME_DIR on servers
            warnings.simplefilter("ignore")
            with PostgresServer._lock:  # pgserver's own lock over the user list
                dropped = forget_dead_users(pg_dir)
            if dropped:
                logger.info("Embedded PostgreSQL: forgot users that are gone: {}", dropped)
            server = pgserver.get_server(pg_dir, cleanup_mode="stop")  # type: ignore[attr-defined]
    except Exception as exc:
        raise DatabaseError(
            f"Could not start the embedded PostgreSQL in {pg_dir} ({exc}). Set "
            "LTA_CENTRAL_DATABASE_URL to a PostgreSQL server instead."
        ) from exc
    url = embedded_url(server.get_postmaster_info())
    logger.info(
        "No database URL configured: using the embedded PostgreSQL in {} (for evaluation; "
        "production should set LTA_CENTRAL_DATABASE_URL)",
        pg_dir,
    )
    return url, server


def open_database(
    url: str | None, embedded_dir: Path, min_size: int = 1, max_size: int = 10
) -> Database:
    handle = None
    if url is None:
        url, handle = start_embedded(embedded_dir)
    pool = ConnectionPool(
        url, min_size=min_size, max_size=max_size, open=False, kwargs={"autocommit": False}
    )
    try:
        pool.open(wait=True, timeout=30)
    except Exception as exc:
        pool.close()
        if handle is not None:
            handle.cleanup()
        raise DatabaseError(
            f"Cannot connect to PostgreSQL ({_without_password(exc)}). Check "
            "LTA_CENTRAL_DATABASE_URL, that the server runs and accepts this user."
        ) from exc
    return Database(url=url, pool=pool, embedded=handle)


def _without_password(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


def migration_scripts() -> list[tuple[int, str]]:
    folder = resources.files("central") / "migrations"
    scripts = []
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:3].isdigit():
            scripts.append((int(name[:3]), entry.read_text(encoding="utf-8")))
    return sorted(scripts)


def migrate(db: Database) -> int:
    try:
        return _migrate(db)
    except psycopg.Error as exc:
        raise DatabaseError(
            f"Could not migrate the database schema ({_without_password(exc)}). Check that the "
            "user may create tables, then run `lta-central migrate`."
        ) from exc


def _migrate(db: Database) -> int:
    """Apply pending migrations in order, in one transaction under an advisory lock.

    Several central instances may start together; the lock makes one of them
    migrate while the others wait and then find nothing to do.
    """
    with db.pool.connection() as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            "version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
        current = int(row[0]) if row else 0
        for number, script in migration_scripts():
            if number <= current:
                continue
            conn.execute(script.encode())  # packaged SQL, several statements, no parameters
            conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (number,))
            logger.info("Applied database migration {:03d}", number)
            current = number
    return current


def ping(db: Database) -> bool:
    try:
        with db.pool.connection(timeout=2) as conn:
            conn.execute("SELECT 1")
    except (psycopg.Error, Exception):
        return False
    return True
