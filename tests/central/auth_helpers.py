"""What the users, sign-in and admin tests share: one migrated database per module,
emptied before each test, real users, and a signed-in Flask test client.

Creating and migrating a database costs a third of a second, so each module
shares conftest.py's `module_db` (the `central_db` fixture here overrides
conftest.py's) and every test starts from its tables emptied. Nothing is
mocked: the app is central's real `create_app`, the database a real PostgreSQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from central.db import Database
from central.web import create_app
from central.web.context import AuthSettings, CentralContext, IngestLimits
from shared.protocol import PROTOCOL_VERSION, Heartbeat

ADMIN = "ada.admin"
VIEWER = "victor.viewer"
ADMIN_PASSWORD = "Trim-Admin-2025!"  # noqa: S105 - test accounts only
VIEWER_PASSWORD = "Viewer-Pass-7731"  # noqa: S105
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
NO_RATE_LIMIT = IngestLimits(rate_limit_per_minute=1_000_000, rate_burst=1_000_000)
#: Sign-in limits high enough that only the test about them ever meets them.
AUTH = AuthSettings(login_rate_per_minute=100_000, login_burst=100_000)


@dataclass(frozen=True)
class Accounts:
    admin: str = ADMIN
    viewer: str = VIEWER


def make_client(db: Database, auth: AuthSettings = AUTH) -> FlaskClient:
    app = create_app(CentralContext(db=db, limits=NO_RATE_LIMIT, auth=auth))
    app.config["TESTING"] = True
    return app.test_client()


def csrf_from(page: TestResponse) -> str:
    found = CSRF_INPUT.search(page.get_data(as_text=True))
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in(
    client: FlaskClient, name: str, password: str, next_page: str | None = None
) -> TestResponse:
    """Open the sign-in page, then submit its form as a browser would."""
    form_page = client.get("/login")
    assert form_page.status_code == 200
    data = {"csrf_token": csrf_from(form_page), "name": name, "password": password}
    if next_page is not None:
        data["next"] = next_page
    return client.post("/login", data=data)


def signed_in(db: Database, name: str, password: str) -> FlaskClient:
    client = make_client(db)
    response = sign_in(client, name, password)
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


def page_csrf(client: FlaskClient, path: str = "/admin/stations") -> str:
    """The CSRF token of the signed-in session, as its pages carry it (a 403 page too:
    its top bar has the sign-out form)."""
    return csrf_from(client.get(path))


def is_login_redirect(response, target: str | None = None) -> bool:  # type: ignore[no-untyped-def]
    if response.status_code not in (302, 303):
        return False
    location = urlsplit(response.headers["Location"])
    if location.path != "/login":
        return False
    return target is None or parse_qs(location.query).get("next") == [target]


def heartbeat_body(station: str) -> bytes:
    beat = Heartbeat(
        protocol_version=PROTOCOL_VERSION,
        station_id=station,
        agent_version="0.1.0-test",
        sent_at=datetime(2025, 1, 6, 9, 0, tzinfo=UTC),
        outbox_pending=0,
        oldest_undelivered_age_s=None,
        dead_letters=0,
        last_error=None,
    )
    return beat.model_dump_json().encode()


def audit_rows(db: Database) -> list[tuple[str, str, str | None, str | None, str | None]]:
    """(actor, action, target, source_ip, detail), oldest first."""
    with db.pool.connection() as conn:
        return conn.execute(
            "SELECT actor, action, target, source_ip, detail FROM audit_log ORDER BY id"
        ).fetchall()
