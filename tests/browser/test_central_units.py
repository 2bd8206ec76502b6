"""Headless Chromium on a real `lta-central serve`: find a real unit by its serial, open it,
see its curve in its band, its trim history and its re-trim at another station.

Two stations send really analysed station files over real HTTP with their own
tokens (line-2 re-trimmed one unit later); the QA engineer signs in through
the real form, searches, and opens the unit. The screenshots go to
docs/images/ (for the README) and to test-artifacts/.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from agent.analysis.file import analyse_file
from tests.browser.central_helpers import add_user, screenshot, send
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS, requires_chromium
from tests.central.data_helpers import renamed
from tests.e2e.central_process import CentralProcess
from tests.real_truth import IN_REPO

pytestmark = [pytest.mark.browser, requires_chromium]

QA = "qa.engineer"
PASSWORD = "Browser-Units-2025"  # noqa: S105 - a test account
SERIAL = "82"  # 8340-1 serial 82: a real failing unit with three measurements
VIEWPORT = {"width": 1440, "height": 900}


def test_find_a_unit_by_serial_and_see_its_curve_and_trim_history(
    database_url: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    real = [analyse_file(path) for path in sorted(IN_REPO.glob("*.xls"))]
    unit = next(r for r in real if r.serial == SERIAL)
    track = unit.tracks[0]
    assert track.fail_points and len(track.passes) == 3
    retrim = renamed(unit, "retrim", test_date=unit.test_date + timedelta(days=1))  # type: ignore[operator]

    central = CentralProcess(database_url, tmp_path / "central")
    add_user(central, QA, "viewer", PASSWORD)
    with central.start(), sync_playwright() as pw:
        send(central, central.add_station("line-1"), "line-1", real)
        send(central, central.add_station("line-2"), "line-2", [retrim])

        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(central.url + "/units")
        expect(page).to_have_url(f"{central.url}/login?next=/units")
        page.fill("#name", QA)
        page.fill("#password", PASSWORD)
        page.click("#sign-in")
        expect(page).to_have_url(f"{central.url}/units")
        expect(page.locator("#units tbody tr.unit-row")).to_have_count(len(real) + 1)

        page.fill("#serial", SERIAL)
        page.select_option("#model", unit.model)
        page.click("#search")
        expect(page).to_have_url(
            f"{central.url}/units?serial={SERIAL}&model={unit.model}&station=&from=&to="
        )
        rows = page.locator("#units tbody tr.unit-row")
        expect(rows).to_have_count(2)
        expect(rows.first).to_contain_text("line-2")  # newest first: the re-trim
        expect(rows.nth(1)).to_contain_text("line-1")
        expect(rows.nth(1)).to_contain_text("Fail")
        screenshot(page, "central-units.png")

        rows.nth(1).locator("a.unit-link").click()
        expect(page.locator("#unit-model")).to_have_text(unit.model or "")
        expect(page.locator("#unit-serial")).to_have_text(SERIAL)
        expect(page.locator("#verdict")).to_have_text("FAIL")
        expect(page.locator("#unit-station")).to_have_text("line-1")
        expect(page.locator("#file-name")).to_have_text(unit.file_name)
        expect(page.locator("#file-sha256")).to_have_text(unit.sha256 or "")

        chart = page.locator("#track-1 .unit-plot svg")
        expect(chart).to_have_count(1)
        expect(chart.locator("path.curve")).to_have_count(1)
        expect(chart.locator("path.band")).to_have_count(1)
        expect(chart.locator("path.untrimmed")).to_have_count(1)
        expect(chart.locator("g.fail-pts circle")).to_have_count(track.fail_points or 0)
        box = chart.bounding_box()
        assert box is not None and box["width"] > 800 and box["height"] > 250  # drawn, not hidden

        history = page.locator("#track-1 table.trim-history tbody tr")
        expect(history).to_have_count(len(track.passes))
        expect(history.first).to_contain_text("untrimmed")
        expect(history.last).to_contain_text("final")
        expect(page.locator("#track-1 .pass-charts svg path.curve")).to_have_count(
            len(track.passes)
        )
        expect(page.locator("#track-1 .station-spec")).to_contain_text("Final resistance limits")

        retrims = page.locator("#retrims tbody tr")
        expect(retrims).to_have_count(2)
        expect(retrims.first).to_have_class("this-unit")
        screenshot(page, "central-unit.png")

        retrims.nth(1).locator("a").click()
        expect(page.locator("#unit-station")).to_have_text("line-2")
        browser.close()
        central.stop()
