"""Signing in to the dashboard, through HTTP against a real PostgreSQL.

Sign-in and refusal, the session cookie, lock-out and its end, CSRF on every
form, station tokens and user sessions kept apart, sign-out, sessions shared
by several central instances, expiry, the proxy flag. Every request goes
through central's real app (Flask test client); every check reads back what
the database holds.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from central.auth import lockout
from central.auth.lockout import LockoutPolicy
from central.auth.users import check_login, list_users
from central.db import Database
from central.stations import add_station
from central.web.auth import SESSION_COOKIE, safe_next
from central.web.context import AuthSettings
from shared.protocol import HEARTBEAT_PATH, RESULTS_PATH
from tests.central.auth_helpers import (
    ADMIN,
    ADMIN_PASSWORD,
    AUTH,
    VIEWER,
    VIEWER_PASSWORD,
    Accounts,
    audit_rows,
    csrf_from,
    heartbeat_body,
    is_login_redirect,
    make_client,
    page_csrf,
    sign_in,
    signed_in,
)

WRONG = "Wrong user name or password."
ADMIN_PAGE = "/admin/stations"


def session_rows(db: Database) -> list[tuple[str, str]]:
    with db.pool.connection() as conn:
        return conn.execute(
            "SELECT s.token_hash, u.name FROM sessions s JOIN users u ON u.id = s.user_id"
        ).fetchall()


# --------------------------------------------------------------------------- sign in


def test_a_page_sends_strangers_to_sign_in_and_back(
    client: FlaskClient, central_db: Database, accounts: Accounts
) -> None:
    first = client.get(f"{ADMIN_PAGE}?sort=name")
    assert is_login_redirect(first, f"{ADMIN_PAGE}?sort=name")
    form = client.get(first.headers["Location"])
    assert form.status_code == 200
    assert f'name="next" value="{ADMIN_PAGE}?sort=name"' in form.get_data(as_text=True)

    done = sign_in(client, " Ada.Admin ", ADMIN_PASSWORD, next_page=f"{ADMIN_PAGE}?sort=name")
    assert done.status_code == 303
    assert done.headers["Location"] == f"{ADMIN_PAGE}?sort=name"
    cookie = next(h for h in done.headers.getlist("Set-Cookie") if h.startswith(SESSION_COOKIE))
    flags = [part.strip() for part in cookie.split(";")]
    assert "HttpOnly" in flags and "SameSite=Lax" in flags and "Path=/" in flags
    assert "Secure" not in flags  # plain http unless web.behind_tls_proxy says otherwise
    token = cookie.split(";")[0].split("=", 1)[1]
    # Only the token's hash is stored.
    assert session_rows(central_db) == [(hashlib.sha256(token.encode()).hexdigest(), ADMIN)]

    page = client.get(f"{ADMIN_PAGE}?sort=name")
    assert page.status_code == 200
    assert f'id="signed-in-user">{ADMIN}<' in page.get_data(as_text=True)
    assert audit_rows(central_db)[-1] == (ADMIN, "login", None, "127.0.0.1", "role admin")
    # Signed in, the sign-in page sends the user on.
    assert client.get("/login?next=/admin/users").headers["Location"] == "/admin/users"


@pytest.mark.parametrize(
    ("name", "password", "why"),
    [
        (ADMIN, VIEWER_PASSWORD, "wrong password"),
        (ADMIN, ADMIN_PASSWORD.lower(), "wrong password"),
        ("nobody", ADMIN_PASSWORD, "unknown user"),
    ],
)
def test_a_wrong_password_is_refused(
    client: FlaskClient,
    central_db: Database,
    accounts: Accounts,
    name: str,
    password: str,
    why: str,
) -> None:
    refused = sign_in(client, name, password, next_page=ADMIN_PAGE)
    assert refused.status_code == 401
    text = refused.get_data(as_text=True)
    assert WRONG in text
    assert 'id="lock-notice"' not in text
    assert not any(h.startswith(SESSION_COOKIE) for h in refused.headers.getlist("Set-Cookie"))
    assert client.get_cookie(SESSION_COOKIE) is None
    assert session_rows(central_db) == []
    assert is_login_redirect(client.get(ADMIN_PAGE))
    assert audit_rows(central_db)[-1] == (name, "login_failed", None, "127.0.0.1", why)
    assert password not in json.dumps(audit_rows(central_db))


def test_a_disabled_user_is_refused_like_a_wrong_password(
    central_db: Database, accounts: Accounts
) -> None:
    admin = signed_in(central_db, ADMIN, ADMIN_PASSWORD)
    token = page_csrf(admin, "/admin/users")
    assert (
        admin.post(f"/admin/users/{VIEWER}/disable", data={"csrf_token": token}).status_code == 303
    )
    refused = sign_in(make_client(central_db), VIEWER, VIEWER_PASSWORD)
    assert refused.status_code == 401 and WRONG in refused.get_data(as_text=True)
    assert audit_rows(central_db)[-1][1:] == ("login_failed", None, "127.0.0.1", "account disabled")


def test_an_empty_form_is_refused(client: FlaskClient, accounts: Accounts) -> None:
    refused = sign_in(client, "", "")
    assert refused.status_code == 400
    assert "Enter your user name and password" in refused.get_data(as_text=True)


@pytest.mark.parametrize(
    "target",
    ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", ""],
)
def test_next_never_leaves_the_site(target: str) -> None:
    assert safe_next(target) == "/"


def test_next_keeps_paths_of_this_site() -> None:
    assert safe_next("/models/8340-1?days=90") == "/models/8340-1?days=90"


def test_sign_in_does_not_follow_next_off_site(client: FlaskClient, accounts: Accounts) -> None:
    done = sign_in(client, ADMIN, ADMIN_PASSWORD, next_page="//evil.example/phish")
    assert done.status_code == 303 and done.headers["Location"] == "/"


def test_a_planted_session_cookie_is_replaced_at_sign_in(
    client: FlaskClient, central_db: Database, accounts: Accounts
) -> None:
    client.set_cookie(SESSION_COOKIE, "planted-by-someone-else-0123456789")
    sign_in(client, VIEWER, VIEWER_PASSWORD)
    cookie = client.get_cookie(SESSION_COOKIE)
    assert cookie is not None and cookie.value != "planted-by-someone-else-0123456789"
    assert len(session_rows(central_db)) == 1


# --------------------------------------------------------------------------- your own account


def test_the_account_page_is_for_signed_in_users(
    client: FlaskClient, central_db: Database, accounts: Accounts
) -> None:
    assert is_login_redirect(client.get("/account"), "/account")
    refused = client.post("/account/password", data={"csrf_token": csrf_from(client.get("/login"))})
    assert refused.status_code == 403  # no session: no session token either
    viewer = signed_in(central_db, VIEWER, VIEWER_PASSWORD)
    page = viewer.get("/account")
    assert page.status_code == 200
    assert '<td class="mono">victor.viewer</td>' in page.get_data(as_text=True)


def test_users_change_their_own_password(central_db: Database, accounts: Accounts) -> None:
    viewer = signed_in(central_db, VIEWER, VIEWER_PASSWORD)
    other_device = signed_in(central_db, VIEWER, VIEWER_PASSWORD)
    new = "A-New-Viewer-Pass-2"
    token = page_csrf(viewer, "/account")
    for current, password, again, message in (
        (VIEWER_PASSWORD, new, new + "x", "The two new passwords differ"),
        ("not-it-at-all", new, new, "The current password is wrong"),
        (VIEWER_PASSWORD, "short", "short", "use at least 10"),
    ):
        form = {"current_password": current, "new_password": password, "confirm_password": again}
        refused = viewer.post("/account/password", data={"csrf_token": token, **form})
        assert refused.status_code == 400, message
        assert message in refused.get_data(as_text=True), message
    assert check_login_ok(central_db, VIEWER, VIEWER_PASSWORD)
    assert audit_rows(central_db)[-1][1:] == (
        "login_failed",
        None,
        "127.0.0.1",
        "wrong current password",
    )

    done = viewer.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": VIEWER_PASSWORD,
            "new_password": new,
            "confirm_password": new,
        },
    )
    assert done.status_code == 303
    notice = viewer.get(done.headers["Location"])
    assert 'id="password-changed"' in notice.get_data(as_text=True)
    assert is_login_redirect(viewer.get("/account"))
    assert is_login_redirect(other_device.get("/account"))  # signed out everywhere
    assert not check_login_ok(central_db, VIEWER, VIEWER_PASSWORD)
    assert check_login_ok(central_db, VIEWER, new)
    assert audit_rows(central_db)[-1][:3] == (VIEWER, "user.password", VIEWER)


def check_login_ok(db: Database, name: str, password: str) -> bool:
    return check_login(db, name, password).user is not None


# --------------------------------------------------------------------------- lock-out


def test_lockout_after_repeated_failures_then_unlock_after_the_window(
    central_db: Database, accounts: Accounts
) -> None:
    lock = timedelta(seconds=3)
    auth = AuthSettings(
        lockout=LockoutPolicy(max_failures=3, window=timedelta(minutes=5), duration=lock),
        login_rate_per_minute=100_000,
        login_burst=100_000,
    )
    client = make_client(central_db, auth)
    for attempt in range(1, 4):
        refused = sign_in(client, VIEWER, f"guess-number-{attempt}")
        assert refused.status_code == 401
        assert WRONG in refused.get_data(as_text=True)
        assert ('id="lock-notice"' in refused.get_data(as_text=True)) == (attempt == 3)
    locked_at = time.monotonic()

    # The right password is refused now, with the same words plus the notice, on every
    # instance: the count is in PostgreSQL.
    for instance in (client, make_client(central_db, auth)):
        refused = sign_in(instance, VIEWER, VIEWER_PASSWORD)
        text = refused.get_data(as_text=True)
        assert refused.status_code == 401 and WRONG in text
        assert "Too many failed sign-ins: this account is locked for 1 more minute" in text
        assert instance.get_cookie(SESSION_COOKIE) is None
    assert session_rows(central_db) == []
    rows = audit_rows(central_db)
    assert [r[1] for r in rows[-5:]] == [
        "login_failed",
        "login_failed",
        "login_failed",
        "login_locked",
        "login_locked",
    ]
    assert rows[-3][4] == "wrong password; now locked"
    # Other accounts are not affected.
    assert sign_in(make_client(central_db, auth), ADMIN, ADMIN_PASSWORD).status_code == 303

    # The lock ends by itself.
    time.sleep(max(0.0, lock.total_seconds() - (time.monotonic() - locked_at)) + 0.3)
    done = sign_in(client, VIEWER, VIEWER_PASSWORD)
    assert done.status_code == 303
    assert client.get(ADMIN_PAGE).status_code == 403  # signed in (a viewer), not redirected
    assert lockout.locked_until(central_db, VIEWER) is None
    with central_db.pool.connection() as conn:
        assert conn.execute("SELECT count(*) FROM login_failures").fetchone() == (0,)


def test_failures_outside_the_window_do_not_add_up(central_db: Database) -> None:
    policy = LockoutPolicy(max_failures=3, window=timedelta(seconds=1), duration=timedelta(hours=1))
    assert lockout.record_failure(central_db, VIEWER, policy) is None
    assert lockout.record_failure(central_db, VIEWER, policy) is None
    time.sleep(1.2)
    assert lockout.record_failure(central_db, VIEWER, policy) is None  # a new count: 1
    assert lockout.record_failure(central_db, VIEWER, policy) is None
    until = lockout.record_failure(central_db, VIEWER, policy)
    assert until is not None and until > datetime.now(UTC) + timedelta(minutes=59)
    assert lockout.locked_until(central_db, VIEWER) == until
    assert lockout.record_failure(central_db, VIEWER, policy) == until  # not extended


def test_unknown_names_lock_too_so_a_lock_reveals_no_account(
    central_db: Database, accounts: Accounts
) -> None:
    auth = AuthSettings(
        lockout=LockoutPolicy(max_failures=2), login_rate_per_minute=10_000, login_burst=10_000
    )
    for name in ("ghost", VIEWER):
        client = make_client(central_db, auth)
        sign_in(client, name, "not-the-password-1")
        second = sign_in(client, name, "not-the-password-2").get_data(as_text=True)
        assert 'id="lock-notice"' in second and "15 more minutes" in second


def test_sign_in_attempts_per_address_are_limited(central_db: Database, accounts: Accounts) -> None:
    client = make_client(central_db, AuthSettings(login_rate_per_minute=1, login_burst=2))
    assert sign_in(client, "nobody", "wrong-password-1").status_code == 401
    assert sign_in(client, "nobody", "wrong-password-2").status_code == 401
    limited = sign_in(client, ADMIN, ADMIN_PASSWORD)
    assert limited.status_code == 429
    assert "Too many sign-in attempts from this computer" in limited.get_data(as_text=True)
    assert session_rows(central_db) == []


# --------------------------------------------------------------------------- CSRF


@pytest.mark.parametrize("token", [None, "", "forged-token-0123456789abcdef"])
def test_sign_in_without_its_form_token_is_refused(
    client: FlaskClient, central_db: Database, accounts: Accounts, token: str | None
) -> None:
    client.get("/login")  # the browser has its cookie; the forged form lacks the token
    data = {"name": ADMIN, "password": ADMIN_PASSWORD}
    if token is not None:
        data["csrf_token"] = token
    refused = client.post("/login", data=data)
    assert refused.status_code == 403
    assert "nothing was changed" in refused.get_data(as_text=True)
    assert session_rows(central_db) == []
    assert audit_rows(central_db)[-1][1] == "user.add"  # no sign-in was even attempted


def test_sign_in_form_token_must_match_the_browsers_cookie(
    central_db: Database, accounts: Accounts
) -> None:
    attacker, victim = make_client(central_db), make_client(central_db)
    attackers_token = csrf_from(attacker.get("/login"))
    victim.get("/login")
    refused = victim.post(
        "/login", data={"csrf_token": attackers_token, "name": ADMIN, "password": ADMIN_PASSWORD}
    )
    assert refused.status_code == 403
    assert session_rows(central_db) == []


@pytest.mark.parametrize("token", [None, "", "wrong-token-0123456789abcdef"])
def test_an_admin_post_without_the_right_token_changes_nothing(
    central_db: Database, accounts: Accounts, token: str | None
) -> None:
    admin = signed_in(central_db, ADMIN, ADMIN_PASSWORD)
    before = audit_rows(central_db)
    data = {"name": "mallory", "role": "admin", "password": "Mallory-Pass-123"}
    if token is not None:
        data["csrf_token"] = token
    for path, form in (
        ("/admin/users", data),
        (f"/admin/users/{VIEWER}/role", {**data, "role": "admin"}),
        (f"/admin/users/{VIEWER}/disable", data),
        ("/admin/stations", {**data, "name": "line-77"}),
    ):
        refused = admin.post(path, data=form)
        assert refused.status_code == 403, path
        assert "did not come from this dashboard" in refused.get_data(as_text=True)
    assert [(u.name, u.role, u.active) for u in list_users(central_db)] == [
        (ADMIN, "admin", True),
        (VIEWER, "viewer", True),
    ]
    with central_db.pool.connection() as conn:
        assert conn.execute("SELECT count(*) FROM stations").fetchone() == (0,)
    assert audit_rows(central_db) == before


def test_another_sessions_token_is_refused_and_the_header_works(
    central_db: Database, accounts: Accounts
) -> None:
    first = signed_in(central_db, ADMIN, ADMIN_PASSWORD)
    second = signed_in(central_db, ADMIN, ADMIN_PASSWORD)
    foreign = page_csrf(first)
    own = page_csrf(second)
    assert foreign != own  # one token per session
    form = {"name": "line-5"}
    assert second.post("/admin/stations", data={**form, "csrf_token": foreign}).status_code == 403
    sent = second.post("/admin/stations", data=form, headers={"X-CSRF-Token": own})
    assert sent.status_code == 200 and 'id="station-token"' in sent.get_data(as_text=True)


def test_sign_out_needs_the_token_then_ends_the_session_everywhere(
    central_db: Database, accounts: Accounts
) -> None:
    here = signed_in(central_db, VIEWER, VIEWER_PASSWORD)
    cookie = here.get_cookie(SESSION_COOKIE)
    assert cookie is not None
    there = make_client(central_db)  # another central instance behind the load balancer
    there.set_cookie(SESSION_COOKIE, cookie.value)
    assert there.get(ADMIN_PAGE).status_code == 403  # signed in there too (a viewer)

    assert here.post("/logout").status_code == 403  # a forged sign-out does nothing
    assert there.get(ADMIN_PAGE).status_code == 403

    token = csrf_from(there.get("/admin/audit"))  # the error page's sign-out form carries it
    done = there.post("/logout", data={"csrf_token": token})
    assert done.status_code == 303 and urlsplit(done.headers["Location"]).path == "/login"
    assert there.get_cookie(SESSION_COOKIE) is None
    assert is_login_redirect(here.get(ADMIN_PAGE))  # the same cookie no longer works
    assert session_rows(central_db) == []
    assert audit_rows(central_db)[-1][:2] == (VIEWER, "logout")


# --------------------------------------------------------------------------- tokens vs sessions


def test_a_station_token_never_opens_the_dashboard(
    client: FlaskClient, central_db: Database, accounts: Accounts
) -> None:
    token = add_station(central_db, "line-1")
    bearer = {"Authorization": f"Bearer {token}"}
    for path in (ADMIN_PAGE, "/admin/users", "/admin/audit"):
        assert is_login_redirect(client.get(path, headers=bearer), path)
    refused = client.post("/admin/stations", data={"name": "line-2"}, headers=bearer)
    assert refused.status_code == 403  # no session, so no form token either
    client.set_cookie(SESSION_COOKIE, token)  # the token as a session cookie: still nobody
    assert is_login_redirect(client.get(ADMIN_PAGE))
    # The token itself is fine for what it is for.
    sent = client.post(
        HEARTBEAT_PATH,
        data=heartbeat_body("line-1"),
        headers={**bearer, "Content-Type": "application/json"},
    )
    assert sent.status_code == 200


def test_a_user_session_never_reaches_ingest(central_db: Database, accounts: Accounts) -> None:
    admin = signed_in(central_db, ADMIN, ADMIN_PASSWORD)
    add_station(central_db, "line-1")
    csrf = page_csrf(admin)
    for path in (RESULTS_PATH, HEARTBEAT_PATH):
        refused = admin.post(
            path,
            data=heartbeat_body("line-1"),
            headers={"Content-Type": "application/json", "X-CSRF-Token": csrf},
        )
        assert refused.status_code == 401, path
        assert refused.get_json()["error"]["code"] == "unauthorized"
    with central_db.pool.connection() as conn:
        assert conn.execute("SELECT count(*) FROM heartbeats").fetchone() == (0,)


def test_ingest_needs_no_form_token(client: FlaskClient, central_db: Database) -> None:
    """Stations send no cookies and no CSRF token: the bearer token is the whole story."""
    token = add_station(central_db, "line-3")
    sent = client.post(
        HEARTBEAT_PATH,
        data=heartbeat_body("line-3"),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert sent.status_code == 200
    assert client.get_cookie(SESSION_COOKIE) is None
    assert "Set-Cookie" not in sent.headers


# --------------------------------------------------------------------------- sessions


def test_a_session_expires(central_db: Database, accounts: Accounts) -> None:
    client = make_client(
        central_db,
        AuthSettings(
            session_lifetime=timedelta(seconds=1), login_burst=100, login_rate_per_minute=100
        ),
    )
    sign_in(client, ADMIN, ADMIN_PASSWORD)
    assert client.get(ADMIN_PAGE).status_code == 200
    time.sleep(1.2)
    assert is_login_redirect(client.get(ADMIN_PAGE))


def test_a_disabled_users_open_session_stops_at_once(
    central_db: Database, accounts: Accounts
) -> None:
    viewer = signed_in(central_db, VIEWER, VIEWER_PASSWORD)
    assert viewer.get(ADMIN_PAGE).status_code == 403
    admin = signed_in(central_db, ADMIN, ADMIN_PASSWORD)
    admin.post(f"/admin/users/{VIEWER}/disable", data={"csrf_token": page_csrf(admin)})
    assert is_login_redirect(viewer.get(ADMIN_PAGE))


def test_behind_a_tls_proxy_cookies_are_secure_and_the_forwarded_address_is_logged(
    central_db: Database, accounts: Accounts
) -> None:
    forwarded = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    proxied = make_client(central_db, AuthSettings(behind_tls_proxy=True))
    form = proxied.get("/login", headers=forwarded)
    assert "Secure" in form.headers["Set-Cookie"]
    done = proxied.post(
        "/login",
        data={"csrf_token": csrf_from(form), "name": ADMIN, "password": ADMIN_PASSWORD},
        headers=forwarded,
    )
    cookie = next(h for h in done.headers.getlist("Set-Cookie") if h.startswith(SESSION_COOKIE))
    assert "Secure" in [part.strip() for part in cookie.split(";")]
    assert audit_rows(central_db)[-1][:4] == (ADMIN, "login", None, "203.0.113.7")

    direct = make_client(central_db, AUTH)  # not behind a proxy: the header is anyone's
    form = direct.get("/login")
    assert "Secure" not in form.headers["Set-Cookie"]
    direct.post(
        "/login",
        data={"csrf_token": csrf_from(form), "name": ADMIN, "password": ADMIN_PASSWORD},
        headers=forwarded,
    )
    assert audit_rows(central_db)[-1][:4] == (ADMIN, "login", None, "127.0.0.1")


def test_dashboard_pages_refuse_framing_and_errors_are_pages(
    client: FlaskClient, accounts: Accounts
) -> None:
    page = client.get("/login")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "text/html" in missing.headers["Content-Type"]
    assert "404 · Not Found" in missing.get_data(as_text=True)
    wrong_method = client.get("/logout")
    assert wrong_method.status_code == 405 and "POST" in wrong_method.headers["Allow"]
    api = client.get("/api/v1/nothing")
    assert api.status_code == 404 and api.get_json()["error"]["code"] == "not_found"
    assert "X-Frame-Options" not in api.headers
