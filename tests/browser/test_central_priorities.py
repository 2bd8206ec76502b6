"""Headless Chromium on a real `lta-central serve` over a seeded database: the priorities
page, its recommendations and their evidence, and an admin pricing a model.

`lta-central seed` writes six weeks of four stations and six models (the same seeder
as the 1,000,000-track year, smaller), the alarm job evaluates once, and a QA admin
signs in through the real form. They find the models and stations ranked with both
Pareto charts, follow a recommendation to its evidence, give the busiest failing
model a cost per failing unit through the page's form, and rank by cost. The
screenshot goes to test-artifacts/ only: the one in docs/images is taken on the
seeded year (scripts/priorities_screenshot.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from central.alarms import job as alarm_job
from central.alarms.rules import AlarmSettings
from central.db import open_database
from tests.browser.central_helpers import add_user
from tests.browser.chromium import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, requires_chromium
from tests.e2e.central_process import CentralProcess, central_cli

pytestmark = [pytest.mark.browser, requires_chromium]

QA = "qa.lead"
PASSWORD = "Browser-Priorities-2025"  # noqa: S105 - a test account
VIEWPORT = {"width": 1440, "height": 900}
SEED = ("--tracks", "4000", "--stations", "4", "--models", "6", "--days", "42", "--seed", "3")


def test_priorities_rank_recommend_and_take_a_cost(database_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    central = CentralProcess(database_url, tmp_path / "central")
    central_cli(central.env, "seed", *SEED)
    db = open_database(database_url, tmp_path / "unused", 1, 2)
    try:
        assert alarm_job.evaluate(db, AlarmSettings()) is not None
    finally:
        db.close()
    add_user(central, QA, "admin", PASSWORD)
    with central.start(), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(f"{central.url}/priorities")
        page.fill("#name", QA)
        page.fill("#password", PASSWORD)
        page.click("#sign-in")
        expect(page).to_have_url(f"{central.url}/priorities")
        expect(page.locator('.topnav a[aria-current="page"]')).to_have_text("Priorities")

        models = page.locator("#rank-models tbody tr[data-model]")
        expect(models.first).to_be_visible()
        expect(page.locator("#rank-stations tbody tr[data-station]")).to_have_count(4)
        fails = [int(f) for f in page.locator("#rank-models td.fails").all_inner_texts()]
        assert fails == sorted(fails, reverse=True) and fails[0] > 0
        bars = page.locator("#pareto-models g.c-pareto-bar")
        expect(bars.first).to_be_visible()
        cumulative = [
            float(bars.nth(i).get_attribute("data-cumulative") or 0) for i in range(bars.count())
        ]
        assert cumulative == sorted(cumulative) and cumulative[-1] == 100.0
        expect(page.locator("#pareto-positions g.c-pareto-bar").first).to_be_visible()
        expect(page.locator("#week-models tbody tr[data-name]").first).to_be_visible()

        # The busiest failing model gets a cost; it then holds every priced failure, so the
        # cost rule recommends it, with its model page as the evidence.
        top = models.first.get_attribute("data-model") or ""
        row = page.locator(f'#rank-models tr[data-model="{top}"]')
        row.locator('input[name="cost"]').fill("12.50")
        row.locator('button[value="set"]').click()
        expect(row.locator("td.unit-cost")).to_have_text("12.50")
        expect(row.locator("td.cost")).to_have_text(f"{fails[0] * 12.5:,.2f}")
        items = page.locator("#recommendations li")
        expect(items.first).to_be_visible()
        assert items.count() == page.locator("#recommendations li a.evidence").count()
        cost_line = page.locator('#recommendations li[data-rule="cost"]')
        expect(cost_line).to_contain_text(f"{top}: its {fails[0]} failing units cost")
        screenshot_to_artifacts(page)

        cost_line.locator("a.evidence").click()
        expect(page).to_have_url(re.compile(rf"/models/{re.escape(top)}\?"))
        expect(page.locator("#model-name")).to_have_text(top)
        page.go_back()

        # Ranked by cost, the priced model comes first whatever its failures.
        page.select_option("#rank", "cost")
        page.click("#apply")
        expect(page).to_have_url(re.compile(r"rank=cost"))
        expect(page.locator("#rank-models tbody tr[data-model]").first).to_have_attribute(
            "data-model", top
        )
        # A bad cost is refused with the reason, and nothing changes.
        row = page.locator(f'#rank-models tr[data-model="{top}"]')
        row.locator('input[name="cost"]').fill("€5")
        row.locator('button[value="set"]').click()
        expect(page.locator("#form-error")).to_contain_text("no currency sign")
        expect(page.locator(f'#rank-models tr[data-model="{top}"] td.unit-cost')).to_have_text(
            "12.50"
        )
        browser.close()
        central.stop()


def screenshot_to_artifacts(page: object) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "central-priorities-test.png"), full_page=True)  # type: ignore[attr-defined]
