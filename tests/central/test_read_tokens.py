"""Read tokens: admins issue and revoke them on the admin pages; tools read the API with them.

Real HTTP through the Flask test client, a real PostgreSQL, real accounts
(tests/central/conftest.py). The token is on the issuing response only;
central keeps its hash; every issue and revocation is in the audit log.
"""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from central.auth import read_tokens
from central.db import Database
from central.stations import hash_token
from tests.central.auth_helpers import (
    ADMIN,
    ADMIN_PASSWORD,
    VIEWER,
    VIEWER_PASSWORD,
    Accounts,
    audit_rows,
    make_client,
    page_csrf,
    signed_in,
)

TOKEN = re.compile(r'id="read-token">(ltar_[A-Za-z0-9_-]+)<')


def issue(admin: FlaskClient, name: str) -> str:
    response = admin.post(
        "/admin/read-tokens",
        data={"csrf_token": page_csrf(admin, "/admin/read-tokens"), "name": name},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    found = TOKEN.search(response.get_data(as_text=True))
    assert found
    return found.group(1)


def test_an_admin_issues_a_token_shown_once_and_kept_as_a_hash(
    central_db: Database, accounts: Accounts
) -> None:
    admin = signed_in(central_db, ADMIN, ADMIN_PASSWORD)
    secret = issue(admin, "Power BI gateway")
    listing = admin.get("/admin/read-tokens").get_data(as_text=True)
    assert "Power BI gateway" in listing and secret not in listing
    with central_db.pool.connection() as conn:
        stored = conn.execute("SELECT token_hash, created_by FROM read_tokens").fetchall()
    assert stored == [(hash_token(secret), ADMIN)]
    assert (ADMIN, "read_token.add", "Power BI gateway") in [
        row[:3] for row in audit_rows(central_db)
    ]
    tool = make_client(central_db)
    answer = tool.get("/api/v1/overview", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 200


def test_a_revoked_token_is_refused_and_the_revocation_audited(
    central_db: Database, accounts: Accounts
) -> None:
    admin = signed_in(central_db, ADMIN, ADMIN_PASSWORD)
    secret = issue(admin, "old script")
    (token,) = read_tokens.list_tokens(central_db)
    response = admin.post(
        f"/admin/read-tokens/{token.pk}/revoke",
        data={"csrf_token": page_csrf(admin, "/admin/read-tokens")},
    )
    assert response.status_code == 303
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "Read token old script revoked" in page
    assert (ADMIN, "read_token.revoke", "old script") in [r[:3] for r in audit_rows(central_db)]
    tool = make_client(central_db)
    refused = tool.get("/api/v1/models", headers={"Authorization": f"Bearer {secret}"})
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "token_revoked"
    again = admin.post(
        f"/admin/read-tokens/{token.pk}/revoke",
        data={"csrf_token": page_csrf(admin, "/admin/read-tokens")},
    )
    assert again.status_code == 400
    # The name is free again for a new token.
    assert issue(admin, "old script") != secret


def test_names_are_checked_and_one_live_token_per_name(
    central_db: Database, accounts: Accounts
) -> None:
    admin = signed_in(central_db, ADMIN, ADMIN_PASSWORD)
    issue(admin, "JMP")
    for name in ("JMP", "", "=cmd|' /C calc'!A0", "x" * 65):
        response = admin.post(
            "/admin/read-tokens",
            data={"csrf_token": page_csrf(admin, "/admin/read-tokens"), "name": name},
        )
        assert response.status_code == 400
        assert "ltar_" not in response.get_data(as_text=True)
    assert [t.name for t in read_tokens.list_tokens(central_db)] == ["JMP"]


def test_viewers_cannot_issue_tokens(central_db: Database, accounts: Accounts) -> None:
    viewer = signed_in(central_db, VIEWER, VIEWER_PASSWORD)
    assert viewer.get("/admin/read-tokens").status_code == 403
    response = viewer.post(
        "/admin/read-tokens",
        data={"csrf_token": page_csrf(viewer, "/models"), "name": "mine"},
    )
    assert response.status_code == 403
    assert read_tokens.list_tokens(central_db) == []
