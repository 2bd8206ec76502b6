"""Lock-out after repeated failed sign-ins, counted in PostgreSQL.

The counter lives in the database, not in a process, so several central
instances behind a load balancer enforce one limit together. It is kept per
user name whether or not the user exists: a locked name then says nothing
about which accounts are real. Each update is one statement, so concurrent
failures are all counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from central.config import LoginConfig
from central.db import Database


@dataclass(frozen=True)
class LockoutPolicy:
    """`max_failures` failed sign-ins within `window` lock the name for `duration`."""

    max_failures: int = LoginConfig.default_of("max_failures")
    window: timedelta = timedelta(minutes=LoginConfig.default_of("failure_window_minutes"))
    duration: timedelta = timedelta(minutes=LoginConfig.default_of("lockout_minutes"))


def locked_until(db: Database, name: str) -> datetime | None:
    """When the name's lock ends, or None if it is not locked now."""
    with db.pool.connection() as conn:
        row = conn.execute(
            "SELECT locked_until FROM login_failures WHERE name = %s AND locked_until > now()",
            (name,),
        ).fetchone()
    return None if row is None else row[0]


def record_failure(db: Database, name: str, policy: LockoutPolicy) -> datetime | None:
    """Count one failed sign-in; returns the lock's end if the name is now locked.

    A failure after the window has passed, or after a lock has ended, starts
    a new count: old mistakes do not add up forever.
    """
    with db.pool.connection() as conn:
        row = conn.execute(
            """
            INSERT INTO login_failures AS f (name, failures, window_started_at, locked_until)
            VALUES (%(name)s, 1, now(),
                    CASE WHEN %(max)s <= 1 THEN now() + %(duration)s END)
            ON CONFLICT (name) DO UPDATE SET
                failures = CASE WHEN f.window_started_at <= now() - %(window)s
                                  OR f.locked_until <= now() THEN 1
                                ELSE f.failures + 1 END,
                window_started_at = CASE WHEN f.window_started_at <= now() - %(window)s
                                           OR f.locked_until <= now() THEN now()
                                         ELSE f.window_started_at END,
                locked_until = CASE
                    WHEN f.locked_until > now() THEN f.locked_until
                    WHEN (CASE WHEN f.window_started_at <= now() - %(window)s
                                 OR f.locked_until <= now() THEN 1
                               ELSE f.failures + 1 END) >= %(max)s
                        THEN now() + %(duration)s
                    ELSE NULL END
            RETURNING locked_until
            """,
            {
                "name": name,
                "max": policy.max_failures,
                "window": policy.window,
                "duration": policy.duration,
            },
        ).fetchone()
    return None if row is None else row[0]


def clear_in(conn: psycopg.Connection, name: str) -> None:
    """Forget the name's failures (a successful sign-in, a new password)."""
    conn.execute("DELETE FROM login_failures WHERE name = %s", (name,))


def clear(db: Database, name: str) -> None:
    with db.pool.connection() as conn:
        clear_in(conn, name)
