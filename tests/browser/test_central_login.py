"""Headless Chromium on a real `lta-central serve`: sign in through the real form.

The admin is added with `lta-central user add` (password on stdin), central
runs as its own process on loopback against PostgreSQL, and the browser
follows the redirect to the sign-in page, is refused with a wrong password,
then signs in, adds a station (its token shown once) and signs out.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser.central_helpers import add_user
from tests.browser.chromium import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, requires_chromium
from tests.e2e.central_process import CentralProcess

pytestmark = [pytest.mark.browser, requires_chromium]

ADMIN = "qa.admin"
PASSWORD = "Browser-Admin-2025"  # noqa: S105 - a test account


def test_sign_in_refused_then_accepted_in_a_real_browser(database_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    central = CentralProcess(database_url, tmp_path / "central")
    add_user(central, ADMIN, "admin", PASSWORD)
    with central.start(), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})

        page.goto(central.url + "/admin/stations")
        expect(page).to_have_url(f"{central.url}/login?next=/admin/stations")
        expect(page.locator("h1")).to_have_text("Sign in")

        page.fill("#name", ADMIN)
        page.fill("#password", "not-the-password")
        page.click("#sign-in")
        expect(page.locator("#login-error")).to_have_text("Wrong user name or password.")
        expect(page.locator("#name")).to_have_value(ADMIN)  # kept; the password is not
        expect(page.locator("#password")).to_have_value("")
        assert page.context.cookies() and all(
            c["name"] != "lta_session" for c in page.context.cookies()
        )
        page.screenshot(path=str(ARTIFACTS / "central-login-refused.png"))

        page.fill("#password", PASSWORD)
        page.click("#sign-in")
        expect(page).to_have_url(f"{central.url}/admin/stations")
        expect(page.locator("#signed-in-user")).to_have_text(ADMIN)
        session = next(c for c in page.context.cookies() if c["name"] == "lta_session")
        assert session["httpOnly"] is True and session["sameSite"] == "Lax"
        assert page.evaluate("document.cookie").find("lta_session") < 0  # scripts cannot read it

        page.fill("#add-station input[name=name]", "line-1")
        page.click("#add-station button")
        expect(page.locator("#station-token")).to_have_text(re.compile(r"^[A-Za-z0-9_-]{43}$"))
        token = page.locator("#station-token").inner_text()
        page.screenshot(path=str(ARTIFACTS / "central-station-token.png"))
        page.goto(central.url + "/admin/stations")
        expect(page.locator("tr[data-station=line-1]")).to_contain_text("active")
        assert token not in page.content()
        page.screenshot(path=str(ARTIFACTS / "central-admin-stations.png"), full_page=True)

        page.goto(central.url + "/admin/audit")
        expect(page.locator("#audit tbody tr").first).to_have_attribute(
            "data-action", "station.add"
        )
        expect(page.locator("#audit tr[data-action=login_failed]")).to_contain_text(ADMIN)
        page.screenshot(path=str(ARTIFACTS / "central-audit-log.png"), full_page=True)

        page.click("#logout")
        expect(page).to_have_url(f"{central.url}/login")
        page.goto(central.url + "/admin/users")
        expect(page).to_have_url(f"{central.url}/login?next=/admin/users")
        page.screenshot(path=str(ARTIFACTS / "central-login.png"))
        browser.close()
        central.stop()
