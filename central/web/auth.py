"""Signing in and out of the dashboard, and the decorators that guard its pages.

Other blueprints protect their views with these, nothing else:

    from central.web.auth import login_required, role_required

    @bp.get("/models")
    @login_required
    def models() -> str: ...

    @bp.post("/alarms/<int:alarm_id>/ack")
    @role_required("viewer")   # any signed-in user; role_required("admin") for admins only
    def acknowledge(alarm_id: int) -> Response: ...

`current_user()` gives the signed-in user (name, role) to views, and to
templates as `current_user`.

Only the session cookie signs a browser in: a station's bearer token on a
dashboard page gets the sign-in page, and the ingest API never reads the
cookie. Sign-in failures are counted per name in PostgreSQL (central/auth/lockout.py)
and every attempt is in the audit log with the source address.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, abort, g, redirect, render_template, request, url_for

from central.auth import audit, lockout, sessions, users
from central.auth.audit import Action, Actor
from central.auth.sessions import SessionInfo
from central.auth.users import Role
from central.web.context import context

bp = Blueprint("auth", __name__)

SESSION_COOKIE = "lta_session"
WRONG = "Wrong user name or password."
DEFAULT_NEXT = "/"
P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class CurrentUser:
    name: str
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.context_processor(lambda: {"current_user": current_user()})


# --------------------------------------------------------------------------- who is signed in


def current_session() -> SessionInfo | None:
    """The request's live session, looked up once per request and only when asked."""
    if "lta_session" not in g:
        token = request.cookies.get(SESSION_COOKIE)
        g.lta_session = sessions.load_session(context().db, token) if token else None
    session: SessionInfo | None = g.lta_session
    return session


def current_user() -> CurrentUser | None:
    session = current_session()
    return None if session is None else CurrentUser(session.user_name, Role(session.role))


def actor() -> Actor:
    """Who the audit log names for this request: the user, or "anonymous"."""
    user = current_user()
    return Actor(user.name if user else "anonymous", request.remote_addr)


def _to_login() -> Response:
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.login", next=target), 303)  # type: ignore[return-value]


def login_required(view: Callable[P, R]) -> Callable[P, R | Response]:
    """Signed-in users only; others are sent to /login?next=<this page>."""

    @wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        if current_session() is None:
            return _to_login()
        return view(*args, **kwargs)

    return guarded


def role_required(role: Role | str) -> Callable[[Callable[P, R]], Callable[P, R | Response]]:
    """Signed-in users with at least this role; a signed-in user without it gets 403."""
    required = role if isinstance(role, Role) else Role(role)

    def decorate(view: Callable[P, R]) -> Callable[P, R | Response]:
        @wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R | Response:
            user = current_user()
            if user is None:
                return _to_login()
            if not user.role.allows(required):
                abort(
                    403,
                    description=(
                        f"This page is for {required} accounts; {user.name!r} is a {user.role}. "
                        "Ask an admin if you need it."
                    ),
                )
            return view(*args, **kwargs)

        return guarded

    return decorate


# --------------------------------------------------------------------------- sign in / out


def safe_next(target: str | None) -> str:
    """Only paths on this site: `next` must not send a fresh sign-in to another host."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return DEFAULT_NEXT
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ch in target for ch in "\r\n\\"):
        return DEFAULT_NEXT
    return target


def _minutes_left(until: datetime) -> int:
    return max(1, math.ceil((until - datetime.now(UTC)).total_seconds() / 60))


def _lock_notice(until: datetime) -> str:
    minutes = _minutes_left(until)
    return (
        f"Too many failed sign-ins: this account is locked for {minutes} more "
        f"minute{'s' if minutes != 1 else ''} (until {until.astimezone(UTC):%H:%M} UTC). "
        "Try again then, or ask an admin to set a new password."
    )


def _form(error: str | None, notice: str | None, name: str, status: int) -> tuple[str, int]:
    page = render_template(
        "login.html",
        error=error,
        lock_notice=notice,
        changed=request.args.get("changed") == "1",
        name=name,
        next=safe_next(request.values.get("next")),
    )
    return page, status


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        if current_session() is not None:
            return redirect(safe_next(request.args.get("next")), 303)
        return _form(None, None, "", 200)
    return _sign_in()


def _sign_in() -> Any:
    ctx = context()
    name = request.form.get("name", "")[:200]
    password = request.form.get("password", "")
    key = users.normalise_name(name)
    source = request.remote_addr
    wait = ctx.login_limiter.acquire(source or "?")
    if wait > 0:
        return _form(
            f"Too many sign-in attempts from this computer; wait {int(wait) + 1} s and try again.",
            None,
            name,
            429,
        )
    if not key or not password:
        return _form("Enter your user name and password.", None, name, 400)
    if not users.NAME_PATTERN.fullmatch(key):  # no account has it: nothing to count or look up
        invalid = Actor("(invalid name)", source)
        audit.record(ctx.db, invalid, Action.LOGIN_FAILED, detail="not a possible user name")
        return _form(WRONG, None, name, 401)
    until = lockout.locked_until(ctx.db, key)
    if until is not None:
        audit.record(ctx.db, Actor(key, source), Action.LOGIN_LOCKED, detail="account locked")
        return _form(WRONG, _lock_notice(until), name, 401)
    check = users.check_login(ctx.db, key, password)
    if check.user is None:
        until = lockout.record_failure(ctx.db, key, ctx.auth.lockout)
        detail = check.refusal or "refused"
        if until is not None:
            detail += "; now locked"
        audit.record(ctx.db, Actor(key, source), Action.LOGIN_FAILED, detail=detail)
        return _form(WRONG, _lock_notice(until) if until else None, name, 401)
    user = check.user
    lockout.clear(ctx.db, user.name)
    created = sessions.create_session(ctx.db, user.pk, ctx.auth.session_lifetime, source)
    users.mark_login(ctx.db, user)
    audit.record(ctx.db, Actor(user.name, source), Action.LOGIN, detail=f"role {user.role}")
    response = redirect(safe_next(request.form.get("next")), 303)
    response.set_cookie(
        SESSION_COOKIE,
        created.token,
        expires=created.expires_at,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=ctx.auth.behind_tls_proxy,
    )
    return response


@bp.get("/account")
@login_required
def account() -> Any:
    return _account_page(None, 200)


def _account_page(error: str | None, status: int) -> tuple[str, int]:
    user = current_user()
    assert user is not None  # noqa: S101 - behind login_required
    details = users.get_user(context().db, user.name)
    return render_template("account.html", account=details, error=error), status


@bp.post("/account/password")
@login_required
def change_password() -> Any:
    """Users change their own password; the current one is asked for first, and a wrong
    one counts towards the lock-out like a failed sign-in."""
    ctx = context()
    user = current_user()
    assert user is not None  # noqa: S101 - behind login_required
    new = request.form.get("new_password", "")
    if new != request.form.get("confirm_password", ""):
        return _account_page("The two new passwords differ; nothing was changed.", 400)
    # The same guards as the sign-in: a stolen session must not be a way to guess the
    # password (or to lift a lock by changing it).
    wait = ctx.login_limiter.acquire(request.remote_addr or "?")
    if wait > 0:
        return _account_page(
            f"Too many password checks from this computer; wait {int(wait) + 1} s and try "
            "again. Nothing was changed.",
            429,
        )
    until = lockout.locked_until(ctx.db, user.name)
    if until is not None:
        audit.record(ctx.db, actor(), Action.LOGIN_LOCKED, detail="password change while locked")
        return _account_page(_lock_notice(until) + " Nothing was changed.", 403)
    if users.check_login(ctx.db, user.name, request.form.get("current_password", "")).user is None:
        until = lockout.record_failure(ctx.db, user.name, ctx.auth.lockout)
        detail = "wrong current password" + ("; now locked" if until else "")
        audit.record(ctx.db, actor(), Action.LOGIN_FAILED, detail=detail)
        notice = f" {_lock_notice(until)}" if until else ""
        return _account_page(f"The current password is wrong; nothing was changed.{notice}", 400)
    try:
        users.set_password(ctx.db, user.name, new, actor())
    except users.UserError as exc:
        return _account_page(exc.message, 400)
    # Every session of the user has ended, this one too: sign in again with the new password.
    response = redirect(url_for("auth.login", changed=1), 303)
    response.delete_cookie(SESSION_COOKIE, path="/", samesite="Lax", httponly=True)
    return response


@bp.post("/logout")
def logout() -> Any:
    session = current_session()
    token = request.cookies.get(SESSION_COOKIE, "")
    if session is not None and sessions.end_session(context().db, token):
        audit.record(context().db, actor(), Action.LOGOUT)
    response = redirect(url_for("auth.login"), 303)
    response.delete_cookie(SESSION_COOKIE, path="/", samesite="Lax", httponly=True)
    return response
