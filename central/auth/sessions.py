"""Server-side dashboard sessions in PostgreSQL.

The browser holds a random token (256 bits) in a cookie; the database holds
only its SHA-256, so neither a copy of the table nor a log line signs anyone
in. Because the sessions live in the database, any central instance behind
a load balancer serves any signed-in user, and signing out, disabling a user
or changing a password ends sessions everywhere at once.

Each session carries its own CSRF token (central/web/csrf.py).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from central.db import Database

TOKEN_BYTES = 32


@dataclass(frozen=True)
class NewSession:
    token: str  # for the cookie only; never stored
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True)
class SessionInfo:
    """A live session and the user it belongs to, as the database has them now."""

    user_pk: int
    user_name: str
    role: str
    csrf_token: str
    expires_at: datetime


def hash_session_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_session(
    db: Database, user_pk: int, lifetime: timedelta, source_ip: str | None
) -> NewSession:
    """A fresh session: a new token at every sign-in, so a planted cookie is worthless."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    csrf = secrets.token_urlsafe(TOKEN_BYTES)
    with db.pool.connection() as conn:
        # Expired sessions of anyone go here, on the rare sign-in path, not on every page.
        conn.execute("DELETE FROM sessions WHERE expires_at <= now()")
        row = conn.execute(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at, source_ip) "
            "VALUES (%s, %s, %s, now() + %s, %s) RETURNING expires_at",
            (hash_session_token(token), user_pk, csrf, lifetime, source_ip),
        ).fetchone()
    assert row is not None  # noqa: S101 - INSERT ... RETURNING always returns the row
    return NewSession(token=token, csrf_token=csrf, expires_at=row[0])


def load_session(db: Database, token: str) -> SessionInfo | None:
    """The live session for a cookie value, or None (unknown, expired, user disabled)."""
    if not token or len(token) > 128:
        return None
    with db.pool.connection() as conn:
        row = conn.execute(
            "SELECT u.id, u.name, u.role, s.csrf_token, s.expires_at "
            "FROM sessions s JOIN users u ON u.id = s.user_id "
            "WHERE s.token_hash = %s AND s.expires_at > now() AND u.disabled_at IS NULL",
            (hash_session_token(token),),
        ).fetchone()
    if row is None:
        return None
    return SessionInfo(
        user_pk=int(row[0]),
        user_name=str(row[1]),
        role=str(row[2]),
        csrf_token=str(row[3]),
        expires_at=row[4],
    )


def end_session(db: Database, token: str) -> bool:
    """Sign out: the token stops working on every instance. True if it was live."""
    with db.pool.connection() as conn:
        done = conn.execute(
            "DELETE FROM sessions WHERE token_hash = %s", (hash_session_token(token),)
        )
        return done.rowcount > 0


def end_user_sessions(conn: psycopg.Connection, user_pk: int) -> int:
    """End every session of a user inside the caller's transaction; returns how many."""
    done = conn.execute("DELETE FROM sessions WHERE user_id = %s", (user_pk,))
    return done.rowcount
