"""Headless Chromium on a real `lta-central serve`: a model page with a Nelson-test violation
visible on its control chart, then the station comparison.

Two stations send model OOC-1 over the real ingest API with their own tokens
(units built on a real station file's track, line-b's sigma gradient higher,
one unit far out of control at line-a) and some really analysed station files;
the QA engineer signs in through the real form, opens the model, finds the
circled out-of-control unit, turns test 1 off and on in the filter form,
follows the point to the unit's page, then compares the stations. Screenshots
go to docs/images/ (for the README) and to test-artifacts/.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from shared.models import Status
from tests.browser.central_helpers import add_user, screenshot, send
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS, requires_chromium
from tests.central.data_helpers import analysed_files
from tests.central.test_models_pages import (
    LINE_A,
    LINE_B,
    MODEL,
    OUTLIER,
    OUTLIER_INDEX,
    ooc_series,
)
from tests.e2e.central_process import CentralProcess

pytestmark = [pytest.mark.browser, requires_chromium]

QA = "qa.spc"
PASSWORD = "Browser-Models-2025"  # noqa: S105 - a test account
VIEWPORT = {"width": 1440, "height": 900}
UNITS = 600  # over 16 days: enough for a Cpk trend of six windows


def test_model_page_shows_a_nelson_violation_and_the_station_comparison(
    database_url: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    files = analysed_files(tmp_path / "station", count=6, seed=3)
    base = next(r for r in files if r.status is Status.PASS and len(r.tracks) == 1)
    start = datetime.combine(date.today() - timedelta(days=17), datetime.min.time())
    series = ooc_series(base, start, UNITS, timedelta(minutes=40))
    dated = [
        r.model_copy(update={"test_date": start + timedelta(hours=5 * i)})
        for i, r in enumerate(files)
    ]

    central = CentralProcess(database_url, tmp_path / "central")
    add_user(central, QA, "viewer", PASSWORD)
    with central.start(), sync_playwright() as pw:
        for station in (LINE_A, LINE_B):
            token = central.add_station(station)
            mine = [u.result for u in series if u.station == station]
            send(central, token, station, mine + (dated if station == LINE_A else []))

        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(f"{central.url}/models/{MODEL}")
        expect(page).to_have_url(f"{central.url}/login?next=/models/{MODEL}")
        page.fill("#name", QA)
        page.fill("#password", PASSWORD)
        page.click("#sign-in")
        expect(page).to_have_url(f"{central.url}/models/{MODEL}")
        expect(page.locator("#model-name")).to_have_text(MODEL)
        expect(page.locator("#score-yield")).to_have_text("100.0 %")
        expect(page.locator("#capability tr#cap-linearity td").nth(2)).to_have_text(str(UNITS))

        # The out-of-control unit is circled on the individuals chart, its tooltip
        # names the unit and the test, and the legend explains test 1.
        mark = page.locator(f'#lin-i g.c-mark[data-index="{OUTLIER_INDEX}"]')
        expect(mark).to_have_count(1)
        expect(mark).to_be_visible()
        tooltip = mark.locator("title")
        expect(tooltip).to_contain_text(f"Unit {OUTLIER_INDEX + 1} ({OUTLIER} TRK1, {LINE_A}")
        expect(tooltip).to_contain_text("Fails test 1 (beyond 3 sigma)")
        expect(mark.locator("text")).to_have_text("1")
        expect(page.locator('#lin-i g.c-legend-test[data-test="1"]')).to_be_visible()
        expect(page.locator("#violations-linearity")).to_contain_text("fail a selected test")
        box = mark.bounding_box()
        chart = page.locator("#lin-i").bounding_box()
        assert box and chart and chart["y"] < box["y"] < chart["y"] + chart["height"]
        screenshot(page, "central-model.png")

        # Test 1 off in the form: the point is no longer marked; the URL says so.
        page.uncheck('#test-choices input[value="1"]')
        page.click("#apply")
        expect(page).to_have_url(re.compile(r"tests=none(&tests=[2-8])+"))
        expect(page.locator(f'#lin-i g.c-mark[data-index="{OUTLIER_INDEX}"]')).to_have_count(0)
        page.check('#test-choices input[value="1"]')
        page.click("#apply")
        expect(page.locator(f'#lin-i g.c-mark[data-index="{OUTLIER_INDEX}"]')).to_have_count(1)

        # The marked point leads to the unit itself.
        page.locator(f'#lin-i g.c-mark[data-index="{OUTLIER_INDEX}"] circle').click()
        expect(page).to_have_url(re.compile(r"/units/[0-9a-f-]{36}$"))
        expect(page.locator("body")).to_contain_text(OUTLIER)
        page.go_back()

        page.click("#compare-link")
        expect(page).to_have_url(re.compile(rf"/models/{MODEL}/compare\?"))
        expect(page.locator("#verdict-sigma")).to_contain_text("The stations differ")
        expect(page.locator("#box-sigma g.c-box")).to_have_count(2)
        expect(page.locator("#means-sigma tbody tr")).to_have_count(2)
        expect(page.locator('#tests-sigma tr[data-test="Kruskal-Wallis"] .p-value')).to_have_text(
            "< 0.0001"
        )
        expect(page.locator("#verdict-linearity")).to_be_visible()
        screenshot(page, "central-compare.png")
        browser.close()
        central.stop()
