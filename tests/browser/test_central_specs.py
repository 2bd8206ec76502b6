"""Headless Chromium on a real `lta-central serve` and a real `lta-agent run`: QA imports the
plant's spec workbook (free-text cells), edits one model, reads the preview on stored units,
saves; the station picks the new table up on its sync timer and its next verdict follows it;
the audit log shows the change; a viewer reads but cannot edit.

The model is 6607 (System B, a real station file): the station's own ignored rows rescue
its linearity, so under the station's rules it is a WARNING (sigma against the formula);
QA's edit makes the model `strict` (every point judged), and the same file FAILs.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from agent.analysis.file import analyse_file
from tests.browser.central_helpers import add_user, screenshot, send
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS, requires_chromium
from tests.central.test_specs import PLANT_ROWS, plant_xlsx
from tests.central.test_specs_pages import RESCUED
from tests.e2e.agent_process import AgentProcess
from tests.e2e.central_process import CentralProcess
from tests.waiting import wait_for

pytestmark = [pytest.mark.browser, requires_chromium]

ADMIN, VIEWER = "qa.admin", "qa.viewer"
PASSWORD = "Browser-Specs-2025"  # noqa: S105 - test accounts
SYNC_S = 3.0
# The sync job runs every SYNC_S; a loaded test machine may start it late by this much.
SCHEDULING_SLACK_S = 10.0
VIEWPORT = {"width": 1440, "height": 1000}


def _sign_in(page, url: str, name: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{url}/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")


def test_qa_imports_edits_previews_saves_and_the_station_follows(
    database_url: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    workbook = tmp_path / "model reference.xlsx"
    workbook.write_bytes(
        plant_xlsx(
            [*PLANT_ROWS, ["6607", "6607-A", "Carbon", "Industrial", "See Chart", "", "", ""]]
        )
    )
    central = CentralProcess(database_url, tmp_path / "central")
    add_user(central, ADMIN, "admin", PASSWORD)
    add_user(central, VIEWER, "viewer", PASSWORD)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with central.start(), sync_playwright() as pw:
        # Another line already made a 6607 unit: the preview judges it again.
        send(central, central.add_station("line-x"), "line-x", [analyse_file(RESCUED)])
        token = central.add_station("e2e-station")
        env = {
            "LTA_AGENT_CENTRAL_URL": central.url,
            "LTA_AGENT_CENTRAL_TOKEN": token,
            "LTA_AGENT_CENTRAL__SYNC_INTERVAL_S": str(SYNC_S),
        }
        with AgentProcess(tmp_path / "agent", inbox, **env).start() as agent:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=VIEWPORT)
            _sign_in(page, central.url, ADMIN)
            page.goto(f"{central.url}/specs")
            page.set_input_files("#import-file", str(workbook))
            page.fill('input[name="reason"]', "model reference workbook rev C")
            page.click("#import-submit")
            expect(page.locator("#import-report")).to_contain_text("added 4")
            expect(page.locator('tr[data-model="8340-1"]')).to_contain_text("± 0.5%")
            expect(page.locator('tr[data-model="8340-1"]')).to_contain_text("950")
            expect(page.locator('tr[data-model="7280-1-CT"]')).to_contain_text("See Chart")
            wait_for(lambda: agent.get("/api/status")["spec_version"] == "central:1", 60)

            page.click('tr[data-model="6607"] a')
            expect(page.locator("#spec-model")).to_have_text("6607")
            expect(page.locator("#sigma-state")).to_have_text(
                "threshold not yet set for this model"
            )
            page.fill("#f-policy", "sideways")
            page.click("#spec-preview")
            expect(page.locator("#e-policy")).to_contain_text("is not one of station, spec, strict")
            page.fill("#f-policy", "strict")
            page.fill("#f-reason", "customer: every point counts")
            page.click("#spec-preview")
            expect(page.locator("#preview-lines")).to_contain_text(
                "This change turns 1 of the 1 WARNINGs among the last 1 units into FAIL."
            )
            screenshot(page, "central-spec-preview.png")
            page.click("#spec-save")
            expect(page.locator("#spec-message")).to_contain_text("Saved")
            saved_at = time.monotonic()
            expect(page.locator("#spec-history")).to_contain_text("customer: every point counts")
            expect(page.locator("#spec-history")).to_contain_text("policy: — → strict")

            # The station takes version 2 on its next sync and judges the next file by it.
            assert wait_for(
                lambda: agent.get("/api/status")["spec_version"] == "central:2",
                SYNC_S + SCHEDULING_SLACK_S,
            ), agent.get("/api/status")["specs"]
            assert time.monotonic() - saved_at <= SYNC_S + SCHEDULING_SLACK_S
            shutil.copy(RESCUED, inbox / RESCUED.name)
            # (An old file for this station's clock: history, not the shift's "latest".)
            latest = wait_for(lambda: agent.get("/api/results?limit=1")["results"], 120)
            assert latest, agent.output()
            judged = agent.get(f"/api/results/{latest[0]['result_id']}")
            assert judged["status"] == "Fail" and judged["spec_version"] == "central:2"
            assert judged["analysis_version"]
            assert judged["tracks"][0]["adjustment"]["policy"] == "strict"

            page.goto(f"{central.url}/admin/audit")
            expect(page.locator("body")).to_contain_text("spec.change")
            expect(page.locator("body")).to_contain_text("customer: every point counts")

            viewer = browser.new_page(viewport=VIEWPORT)
            _sign_in(viewer, central.url, VIEWER)
            viewer.goto(f"{central.url}/specs/m/6607")
            expect(viewer.locator("#read-only")).to_be_visible()
            expect(viewer.locator("#spec-form")).to_have_count(0)
            expect(viewer.locator("#import-form")).to_have_count(0)
            expect(viewer.locator('[data-field="policy"]')).to_have_text("strict")
            browser.close()
        central.stop()
