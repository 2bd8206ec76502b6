"""Read tokens: a viewer's own tool reading the dashboard's figures from /api/v1.

A plant pulls quality data into Minitab, JMP, Power BI or its MES; those tools
cannot sign in through a form, so an admin issues them a token. A token is
256 random bits behind a fixed prefix (`ltar_`), shown once; central keeps
only its SHA-256, as for station tokens (central/stations.py says why a fast
hash is right for a random token this long).

The two kinds never stand in for each other: a read token is looked up only
here (never in `stations`), and the ingest API looks station tokens up only
in `stations`, so a station token cannot read the dashboard and a read token
cannot send results. The prefix lets the API say which kind it was given
without looking anything up. Every issue and revocation is in the audit log,
in the same transaction as the change.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from central.auth import audit
from central.auth.audit import Action, Actor
from central.db import Database
from central.stations import hash_token
from shared.errors import LtaError

PREFIX = "ltar_"
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}")
MAX_TOKEN = 200  # characters; the tokens issued here are 48
MAX_LISTED = 500


class ReadTokenErrorCode(StrEnum):
    INVALID_NAME = "read_token_invalid_name"
    NAME_IN_USE = "read_token_name_in_use"
    NOT_FOUND = "read_token_not_found"


class ReadTokenError(LtaError, ValueError):
    """An admin's request about read tokens that cannot be done; the message says why."""

    code: ReadTokenErrorCode

    def __init__(self, code: ReadTokenErrorCode, message: str) -> None:
        super().__init__(code, message)


@dataclass(frozen=True)
class ReadToken:
    pk: int
    name: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True)
class Issued:
    token: ReadToken
    secret: str  # the only time it exists in clear


def looks_like_read_token(text: str) -> bool:
    return text.startswith(PREFIX)


def issue(db: Database, name: str, by: Actor) -> Issued:
    """A new read token named `name` (what it is for: "JMP on QA-PC-3")."""
    name = name.strip()
    if not NAME_PATTERN.fullmatch(name):
        raise ReadTokenError(
            ReadTokenErrorCode.INVALID_NAME,
            "Name the token after the tool or person that uses it: 1 to 64 letters, digits, "
            "spaces, '.', '_' or '-', starting with a letter or digit (e.g. 'JMP on QA-PC-3').",
        )
    secret = PREFIX + secrets.token_urlsafe(32)
    with db.pool.connection() as conn, conn.transaction():
        row = conn.execute(
            "INSERT INTO read_tokens (name, token_hash, created_by) VALUES (%s, %s, %s) "
            "ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING "
            "RETURNING id, name, created_by, created_at, revoked_at, last_used_at",
            (name, hash_token(secret), by.name),
        ).fetchone()
        if row is None:
            raise ReadTokenError(
                ReadTokenErrorCode.NAME_IN_USE,
                f"A live read token is already named {name!r}: revoke it first, or pick "
                "another name.",
            )
        audit.record_in(conn, by, Action.READ_TOKEN_ADD, name, "read token issued")
    return Issued(ReadToken(*row), secret)


def list_tokens(db: Database) -> list[ReadToken]:
    """Live tokens first, then revoked ones, newest first within each."""
    with db.pool.connection() as conn:
        rows = conn.execute(
            "SELECT id, name, created_by, created_at, revoked_at, last_used_at FROM read_tokens "
            "ORDER BY revoked_at IS NOT NULL, created_at DESC, id DESC LIMIT %s",
            (MAX_LISTED,),
        ).fetchall()
    return [ReadToken(*row) for row in rows]


def revoke(db: Database, pk: int, by: Actor) -> ReadToken:
    """Refuse the token from now on; it stays listed as revoked."""
    with db.pool.connection() as conn, conn.transaction():
        row = conn.execute(
            "UPDATE read_tokens SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL "
            "RETURNING id, name, created_by, created_at, revoked_at, last_used_at",
            (pk,),
        ).fetchone()
        if row is None:
            raise ReadTokenError(
                ReadTokenErrorCode.NOT_FOUND,
                f"No live read token has the id {pk}; it may have been revoked already.",
            )
        token = ReadToken(*row)
        audit.record_in(conn, by, Action.READ_TOKEN_REVOKE, token.name)
    return token


@dataclass(frozen=True)
class Holder:
    """Whose read token a request carries."""

    pk: int
    name: str
    revoked: bool


def holder(db: Database, secret: str) -> Holder | None:
    """The token's holder (revoked or not), or None for a token central never issued.

    A live token's last use is noted, at most once a minute, so admins see which
    tokens are still used before revoking them.
    """
    if not looks_like_read_token(secret) or len(secret) > MAX_TOKEN:
        return None
    with db.pool.connection() as conn:
        row = conn.execute(
            "WITH touched AS (UPDATE read_tokens SET last_used_at = now() "
            "WHERE token_hash = %(hash)s AND revoked_at IS NULL "
            "AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')) "
            "SELECT id, name, revoked_at IS NOT NULL FROM read_tokens WHERE token_hash = %(hash)s",
            {"hash": hash_token(secret)},
        ).fetchone()
    return None if row is None else Holder(int(row[0]), str(row[1]), bool(row[2]))
