"""Admin pages: stations and their tokens, users and their roles, the audit log.

Every page and form here is for admins only (`role_required("admin")`), every
form carries the CSRF token (checked before any view runs), and every change
is written to the audit log. A refused form changes nothing and shows why.
Successful changes redirect back to the list (so a reload does not repeat
them), except adding a station: its token is shown on that one response and
never again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for

from central import stations
from central.auth import audit, read_tokens, users
from central.auth.audit import Action
from central.auth.users import Role, UserError
from central.stations import StationError
from central.web.auth import actor, current_user, role_required
from central.web.context import context

bp = Blueprint("admin", __name__, url_prefix="/admin")

#: What the list pages say after a change; keyed so a crafted link cannot show other text.
DONE = {
    "revoked": "Station {name} revoked: its token is refused from now on; its results stay.",
    "user_added": "User {name} added.",
    "role": "Role of {name} changed.",
    "disabled": "User {name} disabled: signed out everywhere and cannot sign in.",
    "enabled": "User {name} enabled.",
    "token_revoked": "Read token {name} revoked: tools that use it are refused from now on.",
}


@bp.after_request
def _no_store(response: Response) -> Response:
    """Admin pages hold tokens and user lists: never keep them in a browser or proxy cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _done_message() -> str | None:
    template = DONE.get(request.args.get("done", ""))
    return template.format(name=request.args.get("name", "")[:64]) if template else None


def _back(endpoint: str, done: str, name: str) -> Any:
    return redirect(url_for(endpoint, done=done, name=name), 303)


@bp.get("/")
@role_required(Role.ADMIN)
def index() -> Any:
    return redirect(url_for("admin.station_list"), 303)


# --------------------------------------------------------------------------- stations


def _stations_page(error: str | None = None, name: str = "", status: int = 200) -> tuple[str, int]:
    page = render_template(
        "admin/stations.html",
        stations=stations.list_stations(context().db),
        message=_done_message(),
        error=error,
        name=name,
    )
    return page, status


@bp.get("/stations")
@role_required(Role.ADMIN)
def station_list() -> Any:
    return _stations_page()


@bp.post("/stations")
@role_required(Role.ADMIN)
def station_add() -> Any:
    name = request.form.get("name", "").strip()
    try:
        token = stations.add_station(context().db, name)
    except StationError as exc:
        return _stations_page(exc.message, name, 400)
    audit.record(context().db, actor(), Action.STATION_ADD, name, "token issued")
    return render_template("admin/station_token.html", name=name, token=token)


@bp.post("/stations/<name>/revoke")
@role_required(Role.ADMIN)
def station_revoke(name: str) -> Any:
    try:
        stations.revoke_station(context().db, name)
    except StationError as exc:
        return _stations_page(exc.message, status=400)
    audit.record(context().db, actor(), Action.STATION_REVOKE, name)
    return _back("admin.station_list", "revoked", name)


# --------------------------------------------------------------------------- read tokens


def _read_tokens_page(
    error: str | None = None, name: str = "", status: int = 200
) -> tuple[str, int]:
    page = render_template(
        "admin/read_tokens.html",
        tokens=read_tokens.list_tokens(context().db),
        message=_done_message(),
        error=error,
        name=name,
    )
    return page, status


@bp.get("/read-tokens")
@role_required(Role.ADMIN)
def read_token_list() -> Any:
    return _read_tokens_page()


@bp.post("/read-tokens")
@role_required(Role.ADMIN)
def read_token_add() -> Any:
    """Issue a read token (audited with it); shown on this one response, never again."""
    name = request.form.get("name", "")[:200]
    try:
        issued = read_tokens.issue(context().db, name, actor())
    except read_tokens.ReadTokenError as exc:
        return _read_tokens_page(exc.message, name, 400)
    return render_template("admin/read_token.html", token=issued.token, secret=issued.secret)


@bp.post("/read-tokens/<int:pk>/revoke")
@role_required(Role.ADMIN)
def read_token_revoke(pk: int) -> Any:
    try:
        revoked = read_tokens.revoke(context().db, pk, actor())
    except read_tokens.ReadTokenError as exc:
        return _read_tokens_page(exc.message, status=400)
    return _back("admin.read_token_list", "token_revoked", revoked.name)


# --------------------------------------------------------------------------- users


def _users_page(
    error: str | None = None, form: dict[str, str] | None = None, status: int = 200
) -> tuple[str, int]:
    page = render_template(
        "admin/users.html",
        users=users.list_users(context().db),
        roles=list(Role),
        message=_done_message(),
        error=error,
        form=form or {},
    )
    return page, status


@bp.get("/users")
@role_required(Role.ADMIN)
def user_list() -> Any:
    return _users_page()


@bp.post("/users")
@role_required(Role.ADMIN)
def user_add() -> Any:
    name = request.form.get("name", "")
    role = request.form.get("role", "")
    try:
        added = users.add_user(context().db, name, role, request.form.get("password", ""), actor())
    except UserError as exc:
        return _users_page(exc.message, {"name": name, "role": role}, 400)
    return _back("admin.user_list", "user_added", added.name)


def _not_yourself(name: str, what: str) -> str | None:
    user = current_user()
    if user is not None and users.normalise_name(name) == user.name:
        return f"You cannot {what} your own account; ask another admin."
    return None


def _change_user(
    name: str, done: str, change: Callable[[], users.User], refuse_own: str | None = None
) -> Any:
    """One admin change to a user: refused for one's own account when `refuse_own` says
    what may not be done to it, refused with the reason on a UserError, else back to the list."""
    refusal = _not_yourself(name, refuse_own) if refuse_own else None
    if refusal:
        return _users_page(refusal, status=400)
    try:
        changed = change()
    except UserError as exc:
        return _users_page(exc.message, status=400)
    return _back("admin.user_list", done, changed.name)


@bp.post("/users/<name>/role")
@role_required(Role.ADMIN)
def user_role(name: str) -> Any:
    role = request.form.get("role", "")
    return _change_user(
        name,
        "role",
        lambda: users.set_role(context().db, name, role, actor()),
        "change the role of",
    )


@bp.post("/users/<name>/disable")
@role_required(Role.ADMIN)
def user_disable(name: str) -> Any:
    return _change_user(
        name, "disabled", lambda: users.disable_user(context().db, name, actor()), "disable"
    )


@bp.post("/users/<name>/enable")
@role_required(Role.ADMIN)
def user_enable(name: str) -> Any:
    return _change_user(name, "enabled", lambda: users.enable_user(context().db, name, actor()))


# --------------------------------------------------------------------------- audit log


@bp.get("/audit")
@role_required(Role.ADMIN)
def audit_log() -> Any:
    before = request.args.get("before", type=int)
    rows = audit.entries(context().db, before=before, limit=audit.PAGE_SIZE + 1)
    page, more = rows[: audit.PAGE_SIZE], len(rows) > audit.PAGE_SIZE
    return render_template(
        "admin/audit.html",
        entries=page,
        older=page[-1].id if more and page else None,
        first_page=before is None,
    )
