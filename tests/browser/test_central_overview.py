"""Headless Chromium on a real `lta-central serve`: the fleet overview with its alarms, one
acknowledged through the form, and the Excel export downloaded and read back.

Three stations send really analysed station files over real HTTP with their own
tokens, and line-1 a heartbeat. line-1's sigma gradient of model 6828 drifts up
over the last days; line-2 and line-3 are made silent by moving their last
contact five hours back (the one thing written to the database directly). The
alarm job of the running central (every 10 s here) raises the alarms; the QA
engineer signs in through the real form, acknowledges line-3's silence with a
cause and a note, and downloads the export of this week, which openpyxl reads
back. The screenshot goes to docs/images/ (for the README) and test-artifacts/.
"""

from __future__ import annotations

import gzip
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import numpy as np
import psycopg
import pytest
from openpyxl import load_workbook

from shared.models import FileResult
from shared.protocol import HEARTBEAT_PATH, PROTOCOL_VERSION, RESULTS_PATH, Heartbeat
from tests.browser.central_helpers import add_user, screenshot
from tests.browser.chromium import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, requires_chromium
from tests.central.alarm_helpers import FAILING, PASSING, real, series, unit
from tests.central.data_helpers import batch_of
from tests.e2e.central_process import CentralProcess

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

pytestmark = [pytest.mark.browser, requires_chromium]

QA = "qa.lead"
PASSWORD = "Browser-Overview-2025"  # noqa: S105 - a test account
VIEWPORT: ViewportSize = {"width": 1440, "height": 900}
TODAY = date.today()
WEEK_START = TODAY - timedelta(days=TODAY.weekday())
NOTE = "PC switched off by the night shift; back on at 06:10"


def post(central: CentralProcess, token: str, path: str, body: bytes, gzipped: bool) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    response = httpx.post(central.url + path, content=body, headers=headers, timeout=60)
    response.raise_for_status()


def send(central: CentralProcess, token: str, station: str, results: list[FileResult]) -> None:
    """One batch as an agent sends it: gzip JSON with the station's bearer token."""
    body = gzip.compress(batch_of(results, station).model_dump_json().encode())
    post(central, token, RESULTS_PATH, body, gzipped=True)


def heartbeat(central: CentralProcess, token: str, station: str, pending: int) -> None:
    beat = Heartbeat(
        protocol_version=PROTOCOL_VERSION,
        station_id=station,
        agent_version="0.4.2",
        sent_at=datetime.now().astimezone(),
        outbox_pending=pending,
        oldest_undelivered_age_s=42.0,
        dead_letters=0,
        last_error=None,
    )
    post(central, token, HEARTBEAT_PATH, beat.model_dump_json().encode(), gzipped=False)


def drifting_6828() -> list[FileResult]:
    """60 units 40 to 10 days ago, then 30 over the last days whose sigma is 3 sd higher."""
    rng = np.random.default_rng(21)
    start = datetime.combine(TODAY - timedelta(days=40), time(8))
    old = [start + timedelta(hours=12 * i) for i in range(60)]
    end = datetime.combine(TODAY, time(0, 30))
    new = [end - timedelta(hours=3 * (29 - i)) for i in range(30)]
    sigma = 2.7e-4 + 1.0e-5 * np.concatenate(
        [rng.standard_normal(60), 3.0 + rng.standard_normal(30)]
    )
    return series(real(PASSING), "drift", old + new, sigma=sigma)


def today_units(tag: str, passes: int, fails: int) -> list[FileResult]:
    moments = [datetime.combine(TODAY, time(0, 1)) + timedelta(minutes=i) for i in range(40)]
    good = [unit(real(PASSING), f"{tag}-p{i}", moments[i]) for i in range(passes)]
    bad = [unit(real(FAILING), f"{tag}-f{i}", moments[20 + i]) for i in range(fails)]
    return good + bad


def this_week(results: list[FileResult]) -> list[FileResult]:
    return [r for r in results if r.test_date and WEEK_START <= r.test_date.date() <= TODAY]


def yield_today(results: list[FileResult]) -> str:
    """As the page shows it: Pass / (Pass + Warning + Fail) of the units made today."""
    made_today = [r for r in results if r.test_date and r.test_date.date() == TODAY]
    passed = sum(1 for r in made_today if r.status == "Pass")
    return f"{100 * passed / len(made_today):.1f} %"


def test_alarm_acknowledged_on_the_overview_and_export_downloaded(
    database_url: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    central = CentralProcess(database_url, tmp_path / "central")
    central.env["LTA_CENTRAL_ALARMS__EVALUATE_EVERY_SECONDS"] = "10"
    sent: dict[str, list[FileResult]] = {
        "line-1": drifting_6828() + today_units("l1", passes=6, fails=1),
        "line-2": today_units("l2", passes=4, fails=0),
        "line-3": today_units("l3", passes=3, fails=2),
    }
    with central.start(), sync_playwright() as pw:
        add_user(central, QA, "viewer", PASSWORD)
        for station, results in sent.items():
            token = central.add_station(station)
            send(central, token, station, results)
            if station == "line-1":
                heartbeat(central, token, station, pending=3)
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(
                "UPDATE stations SET last_seen_at = now() - interval '5 hours' "
                "WHERE name IN ('line-2', 'line-3')"
            )

        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(central.url + "/")
        expect(page).to_have_url(f"{central.url}/login?next=/")
        page.fill("#name", QA)
        page.fill("#password", PASSWORD)
        page.click("#sign-in")
        expect(page).to_have_url(f"{central.url}/")

        silent = page.locator("#open-alarms tr[data-kind=silent][data-station=line-3]")
        for _ in range(30):  # the job evaluates at start and then every 10 s
            if silent.count() and page.locator("#open-alarms tr[data-kind=drift]").count():
                break
            page.wait_for_timeout(1000)
            page.reload()
        expect(silent).to_be_visible()
        drift = page.locator("#open-alarms tr[data-kind=drift][data-station=line-1]")
        expect(drift).to_contain_text("Sigma gradient drifting up")
        expect(
            page.locator("#open-alarms tr[data-kind=silent][data-station=line-2]")
        ).to_be_visible()
        expect(page.locator("#stations tr[data-station=line-3]")).to_have_class("station-silent")
        expect(page.locator("#stations tr[data-station=line-1] td.outbox")).to_contain_text("3")
        expect(page.locator("#stations tr[data-station=line-1] td.yield").first).to_have_text(
            yield_today(sent["line-1"])
        )
        alarm_id = silent.get_attribute("data-alarm-id")
        page.screenshot(path=str(ARTIFACTS / "central-overview-open.png"), full_page=True)

        silent.locator("select[name=cause]").select_option("station")
        silent.locator("input[name=note]").fill(NOTE)
        silent.locator("button[type=submit]").click()
        expect(page.locator("#done-message")).to_contain_text(
            f"Alarm {alarm_id} (Station silent, line-3) acknowledged by {QA}: Station PC or network"
        )
        expect(page.locator("#open-alarms tr[data-station=line-3]")).to_have_count(0)
        acknowledged = page.locator(f"#acknowledged-alarms tr[data-alarm-id='{alarm_id}']")
        expect(acknowledged.locator("td.cause")).to_have_text("Station PC or network")
        expect(acknowledged.locator("td.note")).to_have_text(NOTE)
        expect(acknowledged.locator("td.ack-by")).to_contain_text(QA)
        expect(page.locator("#open-alarms tr[data-station=line-2]")).to_be_visible()  # still open
        screenshot(page, "central-overview.png")

        with page.expect_download() as caught:
            page.click("#export-link")
        download = caught.value
        assert download.suggested_filename == f"lta-results_{WEEK_START}_to_{TODAY}.xlsx"
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        browser.close()
        central.stop()

    book = load_workbook(saved, read_only=True)
    assert book.sheetnames == ["Summary", "Data"]
    data = list(book["Data"].iter_rows(values_only=True))[1:]
    expected = sorted(
        (station, r.serial or "") for station, results in sent.items() for r in this_week(results)
    )
    assert sorted((row[1], row[3]) for row in data) == expected  # one track per unit
    summary = list(book["Summary"].iter_rows(values_only=True))
    open_listed = {(row[1], row[3]) for row in summary if row and len(row) > 4}
    assert ("line-2", "Station silent") in open_listed
    assert ("line-1", "Sigma drift") in open_listed
    assert ("line-3", "Station silent") not in open_listed  # acknowledged: no longer open
