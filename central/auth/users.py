"""Dashboard users: who may sign in, with which role, and their password hashes.

Passwords are hashed with scrypt (hashlib, no extra dependency) and a random
salt per user; the cost parameters are stored with each hash so they can be
raised later without breaking existing accounts. Every change is written in
one transaction with its audit entry (central/auth/audit.py).

Two roles: a viewer sees the dashboard; an admin also manages stations and
users. The last active admin can be neither disabled nor demoted, so central
always has someone who can let people in.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import hmac
import re
import secrets
import sys
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import TextIO

import psycopg

from central.auth import lockout, sessions
from central.auth.audit import Action, Actor, record_in
from central.db import Database
from shared.errors import ErrorCode, LtaError

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
MIN_PASSWORD = 10
MAX_PASSWORD = 256  # scrypt reads all of it: an unbounded one is a cheap way to load the CPU
MIN_DISTINCT_CHARACTERS = 4
#: Passwords every guessing list starts with; refused whatever their length.
COMMON_PASSWORDS = frozenset(
    {
        "password",
        "password1",
        "password123",
        "passw0rd",
        "1234567890",
        "0123456789",
        "12345678910",
        "qwertyuiop",
        "qwerty1234",
        "qwerty123456",
        "1q2w3e4r5t",
        "iloveyou12",
        "letmein123",
        "welcome123",
        "administrator",
        "changeme123",
        "lasertrim123",
    }
)

SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
KEY_BYTES = 32
# Bounds on parameters read back from the database, so an edited row cannot make
# one sign-in allocate gigabytes.
MAX_N, MAX_R, MAX_P = 2**20, 32, 4


class Role(StrEnum):
    VIEWER = "viewer"
    ADMIN = "admin"

    def allows(self, required: Role) -> bool:
        """An admin may do everything a viewer may."""
        return self is Role.ADMIN or required is Role.VIEWER


class UserError(LtaError):
    """A user command or admin form that cannot be carried out; nothing was changed.

    `reason` is a stable word for scripts and tests (bad_name, exists, unknown_user,
    bad_role, weak_password, last_admin); the message says what to do.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(ErrorCode.USER_INVALID, message)
        self.reason = reason


class WeakPasswordError(UserError):
    def __init__(self, message: str) -> None:
        super().__init__("weak_password", message)


@dataclass(frozen=True)
class User:
    pk: int
    name: str
    role: Role
    created_at: datetime
    disabled_at: datetime | None
    last_login_at: datetime | None

    @property
    def active(self) -> bool:
        return self.disabled_at is None


def _user(row: tuple[object, ...]) -> User:
    pk, name, role, created, disabled, last_login = row
    return User(
        pk=int(pk),  # type: ignore[call-overload]
        name=str(name),
        role=Role(str(role)),
        created_at=created,  # type: ignore[arg-type]
        disabled_at=disabled,  # type: ignore[arg-type]
        last_login_at=last_login,  # type: ignore[arg-type]
    )


# --------------------------------------------------------------------------- checks


def normalise_name(name: str) -> str:
    """Names are compared without case or surrounding spaces: "J.Smith " is "j.smith"."""
    return name.strip().lower()


def check_name(name: str) -> str:
    clean = normalise_name(name)
    if not NAME_PATTERN.fullmatch(clean):
        raise UserError(
            "bad_name",
            f"User name {name!r} is not allowed: use letters, digits, '.', '_', '-' or '@', "
            "starting with a letter or digit, at most 64 characters.",
        )
    return clean


def parse_role(role: str) -> Role:
    try:
        return Role(role.strip().lower())
    except ValueError:
        raise UserError("bad_role", f"Role {role!r} is unknown: use viewer or admin.") from None


def check_password_strength(password: str, name: str) -> None:
    """Refuse passwords a guessing attack finds first; WeakPasswordError says why."""
    if not password:
        raise WeakPasswordError("The password is empty: choose one of at least 10 characters.")
    if len(password) < MIN_PASSWORD:
        raise WeakPasswordError(
            f"The password has {len(password)} characters: use at least {MIN_PASSWORD}."
        )
    if len(password) > MAX_PASSWORD:
        raise WeakPasswordError(f"The password is longer than {MAX_PASSWORD} characters.")
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        raise WeakPasswordError(
            "The password repeats too few characters: use at least "
            f"{MIN_DISTINCT_CHARACTERS} different ones."
        )
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS:
        raise WeakPasswordError("The password is on every guessing list: choose another.")
    if normalise_name(name) and normalise_name(name) in lowered:
        raise WeakPasswordError("The password contains the user name: choose another.")


# --------------------------------------------------------------------------- hashing


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    # scrypt needs 128 * n * r bytes per lane; OpenSSL's default ceiling (32 MiB) is just short.
    maxmem = 128 * n * r * p + 16 * 1024 * 1024
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=KEY_BYTES
    )


def hash_password(password: str, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """ "scrypt$n$r$p$salt$key" with a fresh random salt."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(password, salt, n, r, p)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(key)}"


def verify_password(stored: str, password: str) -> bool:
    """Constant-time comparison against a stored hash; a malformed hash never matches."""
    try:
        scheme, n_text, r_text, p_text, salt_text, key_text = stored.split("$")
        n, r, p = int(n_text), int(r_text), int(p_text)
        salt, key = base64.b64decode(salt_text), base64.b64decode(key_text)
    except ValueError:
        return False
    if scheme != "scrypt" or not (1 < n <= MAX_N and 0 < r <= MAX_R and 0 < p <= MAX_P):
        return False
    if len(password) > MAX_PASSWORD:
        return False
    return hmac.compare_digest(_scrypt(password, salt, n, r, p), key)


@cache
def _decoy_hash() -> str:
    """A hash to check against when the user does not exist, so the answer takes as long."""
    return hash_password(secrets.token_urlsafe(16))


# --------------------------------------------------------------------------- reading


def list_users(db: Database) -> list[User]:
    with db.pool.connection() as conn:
        rows = conn.execute(
            "SELECT id, name, role, created_at, disabled_at, last_login_at FROM users ORDER BY name"
        ).fetchall()
    return [_user(row) for row in rows]


def get_user(db: Database, name: str) -> User | None:
    with db.pool.connection() as conn:
        row = conn.execute(
            "SELECT id, name, role, created_at, disabled_at, last_login_at FROM users "
            "WHERE name = %s",
            (normalise_name(name),),
        ).fetchone()
    return None if row is None else _user(row)


@dataclass(frozen=True)
class PasswordCheck:
    """The outcome of checking a sign-in: the user, or why not (for the audit log only)."""

    user: User | None
    refusal: str | None  # "unknown user", "wrong password", "account disabled"


def check_login(db: Database, name: str, password: str) -> PasswordCheck:
    """Whether name and password sign in. Takes as long for unknown names as for known ones."""
    with db.pool.connection() as conn:
        row = conn.execute(
            "SELECT id, name, role, created_at, disabled_at, last_login_at, password_hash "
            "FROM users WHERE name = %s",
            (normalise_name(name),),
        ).fetchone()
    if row is None:
        verify_password(_decoy_hash(), password)
        return PasswordCheck(None, "unknown user")
    user = _user(row[:-1])
    if not verify_password(str(row[-1]), password):
        return PasswordCheck(None, "wrong password")
    if not user.active:
        return PasswordCheck(None, "account disabled")
    return PasswordCheck(user, None)


def mark_login(db: Database, user: User) -> None:
    with db.pool.connection() as conn:
        conn.execute("UPDATE users SET last_login_at = now() WHERE id = %s", (user.pk,))


# --------------------------------------------------------------------------- changing


def add_user(db: Database, name: str, role: Role | str, password: str, by: Actor) -> User:
    """Create an active user; UserError (nothing stored) on a bad name, role or password."""
    clean = check_name(name)
    chosen = role if isinstance(role, Role) else parse_role(role)
    check_password_strength(password, clean)
    hashed = hash_password(password)
    with db.pool.connection() as conn, conn.transaction():
        row = conn.execute(
            "INSERT INTO users (name, role, password_hash) VALUES (%s, %s, %s) "
            "ON CONFLICT (name) DO NOTHING "
            "RETURNING id, name, role, created_at, disabled_at, last_login_at",
            (clean, str(chosen), hashed),
        ).fetchone()
        if row is None:
            raise UserError(
                "exists", f"User {clean!r} already exists. Choose another name, or enable it."
            )
        record_in(conn, by, Action.USER_ADD, clean, f"role {chosen}")
    return _user(row)


def _locked_row(conn: psycopg.Connection, name: str) -> User:
    row = conn.execute(
        "SELECT id, name, role, created_at, disabled_at, last_login_at FROM users "
        "WHERE name = %s FOR UPDATE",
        (normalise_name(name),),
    ).fetchone()
    if row is None:
        raise UserError("unknown_user", f"No user named {normalise_name(name)!r}.")
    return _user(row)


def _keep_an_admin(conn: psycopg.Connection, user: User) -> None:
    """Refuse to remove the last active admin: nobody could manage central afterwards."""
    if user.role is not Role.ADMIN or not user.active:
        return
    admins = conn.execute(
        "SELECT id FROM users WHERE role = 'admin' AND disabled_at IS NULL FOR UPDATE"
    ).fetchall()
    if len(admins) <= 1:
        raise UserError(
            "last_admin",
            f"{user.name!r} is the only active admin. Make another user admin first.",
        )


def disable_user(db: Database, name: str, by: Actor) -> User:
    """Refuse the user's sign-ins from now on and end their sessions; history is kept."""
    with db.pool.connection() as conn, conn.transaction():
        user = _locked_row(conn, name)
        if not user.active:
            return user
        _keep_an_admin(conn, user)
        conn.execute("UPDATE users SET disabled_at = now() WHERE id = %s", (user.pk,))
        ended = sessions.end_user_sessions(conn, user.pk)
        record_in(conn, by, Action.USER_DISABLE, user.name, f"{ended} session(s) ended")
    return _reread(db, user.name)


def enable_user(db: Database, name: str, by: Actor) -> User:
    with db.pool.connection() as conn, conn.transaction():
        user = _locked_row(conn, name)
        if user.active:
            return user
        conn.execute("UPDATE users SET disabled_at = NULL WHERE id = %s", (user.pk,))
        record_in(conn, by, Action.USER_ENABLE, user.name)
    return _reread(db, user.name)


def set_role(db: Database, name: str, role: Role | str, by: Actor) -> User:
    """Takes effect on the user's next request: sessions look the role up each time."""
    chosen = role if isinstance(role, Role) else parse_role(role)
    with db.pool.connection() as conn, conn.transaction():
        user = _locked_row(conn, name)
        if user.role is chosen:
            return user
        if chosen is not Role.ADMIN:
            _keep_an_admin(conn, user)
        conn.execute("UPDATE users SET role = %s WHERE id = %s", (str(chosen), user.pk))
        record_in(conn, by, Action.USER_ROLE, user.name, f"{user.role} -> {chosen}")
    return _reread(db, user.name)


def set_password(db: Database, name: str, password: str, by: Actor) -> User:
    """A new password ends every session of the user and lifts a lock-out."""
    clean = normalise_name(name)
    check_password_strength(password, clean)
    hashed = hash_password(password)
    with db.pool.connection() as conn, conn.transaction():
        user = _locked_row(conn, clean)
        conn.execute(
            "UPDATE users SET password_hash = %s, password_changed_at = now() WHERE id = %s",
            (hashed, user.pk),
        )
        ended = sessions.end_user_sessions(conn, user.pk)
        lockout.clear_in(conn, user.name)
        record_in(conn, by, Action.USER_PASSWORD, user.name, f"{ended} session(s) ended")
    return user


def _reread(db: Database, name: str) -> User:
    user = get_user(db, name)
    assert user is not None  # noqa: S101 - the row was locked and updated, never deleted
    return user


# --------------------------------------------------------------------------- command line


def read_password(stream: TextIO | None = None, prompt: str = "Password: ") -> str:
    """The new password for `lta-central user add`: typed twice at a terminal, else one line.

    Reading a line (not an argument) keeps the password out of the process list
    and the shell history; scripts pipe it in.
    """
    source = sys.stdin if stream is None else stream
    if source.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("Same password again: ") != first:
            raise UserError("password_mismatch", "The two passwords differ; nothing was changed.")
        return first
    line = source.readline()
    return line.rstrip("\r\n")
