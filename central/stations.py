"""Stations and their bearer tokens.

A token is 256 random bits shown once at `station add`; central keeps only its
SHA-256. A slow password hash buys nothing for a random token this long, and a
fast one keeps authentication off the ingest hot path.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from central.db import Database
from shared.errors import ErrorCode, LtaError

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


class StationError(LtaError):
    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.STATION_INVALID, message)


@dataclass(frozen=True)
class Station:
    pk: int
    name: str
    created_at: datetime
    revoked_at: datetime | None
    last_seen_at: datetime | None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_station(db: Database, name: str) -> str:
    """Register a station; returns its token (the only time it exists in clear)."""
    if not NAME_PATTERN.fullmatch(name):
        raise StationError(
            f"Station name {name!r} is not allowed: use the agent's station id (lower-case "
            "letters, digits, '.', '_', '-', at most 64 characters)."
        )
    token = secrets.token_urlsafe(32)
    with db.pool.connection() as conn:
        # A revoked station gets a fresh token and keeps its history; an active one is refused.
        row = conn.execute(
            "INSERT INTO stations (name, token_hash) VALUES (%s, %s) "
            "ON CONFLICT (name) DO UPDATE SET token_hash = EXCLUDED.token_hash, "
            "revoked_at = NULL, created_at = now() WHERE stations.revoked_at IS NOT NULL "
            "RETURNING id",
            (name, hash_token(token)),
        ).fetchone()
    if row is None:
        raise StationError(
            f"Station {name!r} already exists. Revoke it first to issue a new token."
        )
    return token


def list_stations(db: Database) -> list[Station]:
    with db.pool.connection() as conn:
        rows = conn.execute(
            "SELECT id, name, created_at, revoked_at, last_seen_at FROM stations ORDER BY name"
        ).fetchall()
    return [Station(*row) for row in rows]


def revoke_station(db: Database, name: str) -> None:
    """Refuse the station's token from now on; its results stay."""
    with db.pool.connection() as conn:
        done = conn.execute(
            "UPDATE stations SET revoked_at = now() WHERE name = %s AND revoked_at IS NULL",
            (name,),
        )
        if done.rowcount == 0:
            raise StationError(f"No active station named {name!r}.")


@dataclass(frozen=True)
class TokenOwner:
    pk: int
    name: str
    revoked: bool


def token_owner(db: Database, token: str) -> TokenOwner | None:
    """Whose token this is (revoked or not), or None for a token central never issued."""
    with db.pool.connection() as conn:
        row = conn.execute(
            "SELECT id, name, revoked_at IS NOT NULL FROM stations WHERE token_hash = %s",
            (hash_token(token),),
        ).fetchone()
    return None if row is None else TokenOwner(pk=int(row[0]), name=str(row[1]), revoked=row[2])
