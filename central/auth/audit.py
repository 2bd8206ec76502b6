"""The audit log: who signed in (or failed to), who signed out, every admin action and
every acknowledged alarm.

Entries are only ever added. A change and its entry are written in the same
transaction when the caller passes its connection, so the log never shows
an action that did not happen, nor misses one that did.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import psycopg

from central.db import Database

#: Who the command line acts as: it runs on the central machine, by someone who can
#: already read the database URL, so there is no user to name.
CLI_ACTOR = "command line"
PAGE_SIZE = 50
MAX_TEXT = 500


class Action(StrEnum):
    """What happened; stable strings, since admins filter and scripts key on them."""

    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGIN_LOCKED = "login_locked"
    LOGOUT = "logout"
    USER_ADD = "user.add"
    USER_DISABLE = "user.disable"
    USER_ENABLE = "user.enable"
    USER_ROLE = "user.role"
    USER_PASSWORD = "user.password"  # noqa: S105 - an action name, not a password
    STATION_ADD = "station.add"
    STATION_REVOKE = "station.revoke"
    READ_TOKEN_ADD = "read_token.add"  # noqa: S105 - an action name, not a token
    READ_TOKEN_REVOKE = "read_token.revoke"  # noqa: S105 - an action name, not a token
    ALARM_ACKNOWLEDGE = "alarm.acknowledge"
    SPEC_CHANGE = "spec.change"  # one model's spec edited (central/specs)
    SPEC_IMPORT = "spec.import"  # one model's spec changed by a file import
    SIGMA_DECISION = "spec.sigma"  # a learned sigma threshold accepted or rejected
    MODEL_COST = "model.cost"  # a model's cost per failing unit set or cleared (priorities)


@dataclass(frozen=True)
class Actor:
    """Who acts, and from where (None for the command line)."""

    name: str
    source_ip: str | None = None


#: The actor of `lta-central` commands.
CLI = Actor(CLI_ACTOR)


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    target: str | None
    source_ip: str | None
    detail: str | None


def _clip(text: str | None) -> str | None:
    """Bounded, so a hostile user name cannot bloat the log."""
    return None if text is None else text[:MAX_TEXT]


def record_in(
    conn: psycopg.Connection,
    actor: Actor,
    action: Action,
    target: str | None = None,
    detail: str | None = None,
) -> None:
    """Add an entry inside the caller's transaction."""
    conn.execute(
        "INSERT INTO audit_log (actor, action, target, source_ip, detail) "
        "VALUES (%s, %s, %s, %s, %s)",
        (_clip(actor.name), str(action), _clip(target), actor.source_ip, _clip(detail)),
    )


def record(
    db: Database,
    actor: Actor,
    action: Action,
    target: str | None = None,
    detail: str | None = None,
) -> None:
    """Add an entry on its own (for events that change nothing else, like a failed sign-in)."""
    with db.pool.connection() as conn:
        record_in(conn, actor, action, target, detail)


def entries(db: Database, before: int | None = None, limit: int = PAGE_SIZE) -> list[AuditEntry]:
    """Newest first; `before` is the id of the last entry of the previous page.

    Paging by id rather than by offset keeps every page as cheap as the first
    however long the log grows.
    """
    columns = "SELECT id, at, actor, action, target, source_ip, detail FROM audit_log"
    with db.pool.connection() as conn:
        if before is None:
            cursor = conn.execute(f"{columns} ORDER BY id DESC LIMIT %s", (limit,))
        else:
            cursor = conn.execute(
                f"{columns} WHERE id < %s ORDER BY id DESC LIMIT %s", (before, limit)
            )
        rows = cursor.fetchall()
    return [AuditEntry(*row) for row in rows]
