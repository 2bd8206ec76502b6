"""The admin pages through HTTP against a real PostgreSQL: stations and their one-time
token (which then works for ingest), users and roles, the audit log, and the
decorators that keep viewers and strangers out of all of it."""

from __future__ import annotations

import html
import re

import pytest
from flask.testing import FlaskClient

from central.auth import audit
from central.auth.audit import Action, Actor
from central.auth.users import Role, check_login, get_user, list_users
from central.db import Database
from central.stations import list_stations
from shared.protocol import HEARTBEAT_PATH
from tests.central.auth_helpers import (
    ADMIN,
    ADMIN_PASSWORD,
    VIEWER,
    VIEWER_PASSWORD,
    Accounts,
    audit_rows,
    heartbeat_body,
    is_login_redirect,
    make_client,
    page_csrf,
    signed_in,
)

TOKEN = re.compile(r'<code class="token" id="station-token">([A-Za-z0-9_-]{43})</code>')
ADMIN_GETS = ["/admin/", "/admin/stations", "/admin/users", "/admin/audit"]
NEW_PASSWORD = "Fresh-Viewer-Pass-1"  # noqa: S105 - test password


@pytest.fixture
def admin(central_db: Database, accounts: Accounts) -> FlaskClient:
    return signed_in(central_db, ADMIN, ADMIN_PASSWORD)


@pytest.fixture
def viewer(central_db: Database, accounts: Accounts) -> FlaskClient:
    return signed_in(central_db, VIEWER, VIEWER_PASSWORD)


def post(client: FlaskClient, path: str, **form: str):  # type: ignore[no-untyped-def]
    """Submit a form the way its page does: with the session's CSRF token."""
    return client.post(path, data={"csrf_token": page_csrf(client), **form})


def text(response) -> str:  # type: ignore[no-untyped-def]
    """The page as a reader sees it: entities such as &#39; turned back into characters."""
    return html.unescape(response.get_data(as_text=True))


# --------------------------------------------------------------------------- who may enter


@pytest.mark.parametrize("path", ADMIN_GETS)
def test_strangers_are_sent_to_sign_in(central_db: Database, path: str) -> None:
    assert is_login_redirect(make_client(central_db).get(path), path)


@pytest.mark.parametrize("path", ADMIN_GETS)
def test_viewers_cannot_open_admin_pages(viewer: FlaskClient, path: str) -> None:
    refused = viewer.get(path)
    assert refused.status_code == 403
    assert "This page is for admin accounts; 'victor.viewer' is a viewer" in text(refused)


def test_viewers_cannot_perform_admin_actions(
    central_db: Database, viewer: FlaskClient, admin: FlaskClient
) -> None:
    added = post(admin, "/admin/stations", name="line-1")
    assert added.status_code == 200
    before = audit_rows(central_db)
    token = page_csrf(viewer)  # a valid token of the viewer's own session
    for path, form in (
        ("/admin/stations", {"name": "line-2"}),
        ("/admin/stations/line-1/revoke", {}),
        ("/admin/users", {"name": "mallory", "role": "admin", "password": "Mallory-Pass-123"}),
        (f"/admin/users/{VIEWER}/role", {"role": "admin"}),
        (f"/admin/users/{ADMIN}/disable", {}),
        (f"/admin/users/{ADMIN}/enable", {}),
    ):
        refused = viewer.post(path, data={"csrf_token": token, **form})
        assert refused.status_code == 403, path
    assert [s.name for s in list_stations(central_db)] == ["line-1"]
    assert list_stations(central_db)[0].revoked_at is None
    assert [(u.name, u.role, u.active) for u in list_users(central_db)] == [
        (ADMIN, Role.ADMIN, True),
        (VIEWER, Role.VIEWER, True),
    ]
    assert audit_rows(central_db) == before


def test_the_top_bar_shows_admin_only_to_admins(admin: FlaskClient, viewer: FlaskClient) -> None:
    page = text(admin.get("/admin/stations"))
    for link in ('href="/"', 'href="/models"', 'href="/units"', 'href="/admin/"'):
        assert link in page
    assert 'id="signed-in-user">ada.admin<' in page and 'id="logout"' in page
    assert 'href="/static/dashboard.css"' in page
    refused = text(viewer.get("/admin/stations"))
    assert 'href="/models"' in refused and 'href="/admin/"' not in refused


def test_the_stylesheet_ships_inside_the_package(central_db: Database) -> None:
    css = make_client(central_db).get("/static/dashboard.css")
    assert css.status_code == 200 and ".topbar" in text(css)


# --------------------------------------------------------------------------- stations


def test_station_add_shows_the_token_once_and_it_works_for_ingest(
    central_db: Database, admin: FlaskClient
) -> None:
    added = post(admin, "/admin/stations", name="line-4")
    assert added.status_code == 200
    assert added.headers["Cache-Control"] == "no-store"
    found = TOKEN.search(text(added))
    assert found, text(added)
    token = found.group(1)
    assert token not in text(admin.get("/admin/stations"))  # never shown again
    with central_db.pool.connection() as conn:
        stored = conn.execute("SELECT token_hash FROM stations WHERE name = 'line-4'").fetchone()
    assert stored is not None and token not in stored[0]

    sent = make_client(central_db).post(
        HEARTBEAT_PATH,
        data=heartbeat_body("line-4"),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert sent.status_code == 200, sent.get_json()
    listed = text(admin.get("/admin/stations"))
    assert 'data-station="line-4"' in listed and " s ago" in listed  # last contact shown

    revoked = post(admin, "/admin/stations/line-4/revoke")
    assert revoked.status_code == 303
    after = admin.get(revoked.headers["Location"])
    assert "Station line-4 revoked" in text(after)
    again = make_client(central_db).post(
        HEARTBEAT_PATH,
        data=heartbeat_body("line-4"),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert again.status_code == 403 and again.get_json()["error"]["code"] == "token_revoked"
    assert [(a, action, t) for a, action, t, _, _ in audit_rows(central_db)][-2:] == [
        (ADMIN, "station.add", "line-4"),
        (ADMIN, "station.revoke", "line-4"),
    ]


@pytest.mark.parametrize(
    ("name", "message"),
    [("Line 1", "is not allowed"), ("", "is not allowed"), ("line-1", "already exists")],
)
def test_a_refused_station_changes_nothing(
    central_db: Database, admin: FlaskClient, name: str, message: str
) -> None:
    post(admin, "/admin/stations", name="line-1")
    before = (list_stations(central_db), audit_rows(central_db))
    refused = post(admin, "/admin/stations", name=name)
    assert refused.status_code == 400
    assert message in text(refused) and 'id="form-error"' in text(refused)
    assert 'id="station-token"' not in text(refused)
    assert (list_stations(central_db), audit_rows(central_db)) == before


def test_revoking_an_unknown_station_is_refused(central_db: Database, admin: FlaskClient) -> None:
    refused = post(admin, "/admin/stations/ghost/revoke")
    assert refused.status_code == 400 and "No active station named 'ghost'" in text(refused)


# --------------------------------------------------------------------------- users


def test_users_add_change_role_disable_enable(central_db: Database, admin: FlaskClient) -> None:
    added = post(admin, "/admin/users", name="Q.Engineer", role="viewer", password=NEW_PASSWORD)
    assert added.status_code == 303
    assert "User q.engineer added." in text(admin.get(added.headers["Location"]))
    assert check_login(central_db, "q.engineer", NEW_PASSWORD).user is not None

    assert post(admin, "/admin/users/q.engineer/role", role="admin").status_code == 303
    promoted = get_user(central_db, "q.engineer")
    assert promoted is not None and promoted.role is Role.ADMIN
    newcomer = signed_in(central_db, "q.engineer", NEW_PASSWORD)
    assert newcomer.get("/admin/users").status_code == 200  # the role counts at once

    assert post(admin, "/admin/users/q.engineer/disable").status_code == 303
    assert is_login_redirect(newcomer.get("/admin/users"))  # signed out everywhere
    listed = text(admin.get("/admin/users"))
    assert re.search(r'data-user="q.engineer">.*?disabled', listed, re.S)
    assert post(admin, "/admin/users/q.engineer/enable").status_code == 303
    assert get_user(central_db, "q.engineer").active  # type: ignore[union-attr]

    actions = [(a, action, t, d) for a, action, t, _, d in audit_rows(central_db)]
    assert [row for row in actions if row[1].startswith("user.")][-4:] == [
        (ADMIN, "user.add", "q.engineer", "role viewer"),
        (ADMIN, "user.role", "q.engineer", "viewer -> admin"),
        (ADMIN, "user.disable", "q.engineer", "1 session(s) ended"),
        (ADMIN, "user.enable", "q.engineer", None),
    ]
    assert NEW_PASSWORD not in str(audit_rows(central_db))


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "new.one", "role": "viewer", "password": "short"}, "use at least 10"),
        ({"name": "new.one", "role": "viewer", "password": "password123"}, "guessing list"),
        ({"name": "new one", "role": "viewer", "password": NEW_PASSWORD}, "is not allowed"),
        ({"name": "new.one", "role": "root", "password": NEW_PASSWORD}, "Role 'root' is unknown"),
        ({"name": VIEWER, "role": "admin", "password": NEW_PASSWORD}, "already exists"),
    ],
)
def test_a_refused_user_form_changes_nothing(
    central_db: Database, admin: FlaskClient, form: dict[str, str], message: str
) -> None:
    before = (list_users(central_db), audit_rows(central_db))
    refused = post(admin, "/admin/users", **form)
    assert refused.status_code == 400
    assert message in text(refused)
    assert f'value="{form["name"]}"' in text(refused)  # the form keeps what was typed
    assert form["password"] not in text(refused)  # but never the password
    assert (list_users(central_db), audit_rows(central_db)) == before


def test_admins_cannot_lock_themselves_out(central_db: Database, admin: FlaskClient) -> None:
    for path, form in (
        (f"/admin/users/{ADMIN}/disable", {}),
        (f"/admin/users/{ADMIN}/role", {"role": "viewer"}),
    ):
        refused = post(admin, path, **form)
        assert refused.status_code == 400
        assert "your own account" in text(refused)
    user = get_user(central_db, ADMIN)
    assert user is not None and user.active and user.role is Role.ADMIN


def test_unknown_users_and_roles_are_refused(admin: FlaskClient) -> None:
    for path, form, message in (
        ("/admin/users/ghost/disable", {}, "No user named 'ghost'"),
        ("/admin/users/ghost/enable", {}, "No user named 'ghost'"),
        (f"/admin/users/{VIEWER}/role", {"role": "owner"}, "Role 'owner' is unknown"),
    ):
        refused = post(admin, path, **form)
        assert refused.status_code == 400 and message in text(refused), path


def test_the_last_admin_cannot_be_demoted_by_another_way(
    central_db: Database, admin: FlaskClient
) -> None:
    """A second admin disabled first; then the first cannot be removed by that second one."""
    post(admin, f"/admin/users/{VIEWER}/role", role="admin")
    other = signed_in(central_db, VIEWER, VIEWER_PASSWORD)
    assert post(other, f"/admin/users/{ADMIN}/disable").status_code == 303
    refused = post(other, f"/admin/users/{VIEWER}/role", role="viewer")
    assert refused.status_code == 400  # own account; and the only admin left anyway
    user = get_user(central_db, VIEWER)
    assert user is not None and user.role is Role.ADMIN


# --------------------------------------------------------------------------- audit log


def test_the_audit_log_lists_every_action_newest_first(
    central_db: Database, admin: FlaskClient
) -> None:
    post(admin, "/admin/stations", name="line-8")
    post(admin, "/admin/users", name="qa.two", role="viewer", password=NEW_PASSWORD)
    page = text(admin.get("/admin/audit"))
    actions = re.findall(r'<tr data-action="([^"]+)">', page)
    assert actions[:3] == ["user.add", "station.add", "login"]
    assert actions[-2:] == ["user.add", "user.add"]  # the fixture's accounts, oldest last
    assert "127.0.0.1" in page and "role viewer" in page
    assert admin.get("/admin/audit").headers["Cache-Control"] == "no-store"


def test_the_audit_log_pages_back_through_many_entries(
    central_db: Database, admin: FlaskClient
) -> None:
    for number in range(120):
        audit.record(
            central_db, Actor("script", "10.0.0.1"), Action.LOGIN_FAILED, detail=str(number)
        )
    first = text(admin.get("/admin/audit"))
    details = re.findall(r"<td>(\d+)</td>", first)
    assert details[:2] == ["119", "118"] and len(details) == 50
    older = re.search(r'href="(/admin/audit\?before=\d+)" id="older"', first)
    assert older
    second = text(admin.get(older.group(1).replace("&amp;", "&")))
    assert re.findall(r"<td>(\d+)</td>", second)[:1] == ["69"]
    assert 'href="/admin/audit">Newest' in second
    last = second
    while (link := re.search(r'href="(/admin/audit\?before=\d+)" id="older"', last)) is not None:
        last = text(admin.get(link.group(1)))
    assert "user.add" in last and 'id="older"' not in last  # the oldest entries end the log
