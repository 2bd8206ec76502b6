"""Headless Chromium on the real agent: a new file changes the verdict without a reload."""

from __future__ import annotations

import os
import shutil
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from agent.analysis.file import analyse_file
from agent.simulate import simulate_station
from shared.models import Status
from tests.browser.chromium import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, requires_chromium
from tests.e2e.agent_process import AgentProcess

REAL_SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "real-samples"

pytestmark = [pytest.mark.browser, requires_chromium]


def pick(files: list[Path], status: Status) -> Path:
    return next(p for p in files if analyse_file(p).status is status)


def test_verdict_changes_without_reload_and_screenshot(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    staging = simulate_station(tmp_path / "staging", count=40, seed=41)
    first, second = pick(staging, Status.PASS), pick(staging, Status.FAIL)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # Simulated units carry past test dates; this test is about live units: history off.
    agent_process = AgentProcess(
        tmp_path / "data", inbox, LTA_AGENT_INBOX__HISTORY_WINDOW_HOURS="0"
    )
    with agent_process.start() as agent, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(agent.url + "/")
        expect(page.locator("#verdict")).to_contain_text("Waiting")
        page.evaluate("window.__notReloaded = true")

        shutil.copy(first, inbox / first.name)
        expect(page.locator("#verdict")).to_have_text("PASS", timeout=5000)
        expect(page.locator("#verdict")).to_have_class("verdict verdict-pass")
        for name in simulate_station(tmp_path / "more", count=6, seed=42):
            shutil.copy(name, inbox / name.name)
        time.sleep(1.5)

        shutil.copy(second, inbox / second.name)
        expect(page.locator("#verdict")).to_have_text("FAIL", timeout=5000)
        expect(page.locator("#unit-file")).to_contain_text(second.name)
        assert page.evaluate("window.__notReloaded") is True  # swapped in place, no reload
        assert page.locator("#latest svg").count() >= 1
        assert page.locator("#recent-list a").count() >= 8
        page.screenshot(path=str(ARTIFACTS / "status-page.png"))

        page.locator("#recent-list a").first.click()
        expect(page.locator("#verdict")).to_have_text("FAIL")
        page.screenshot(path=str(ARTIFACTS / "unit-page.png"), full_page=True)
        browser.close()
        agent.terminate()


def old_folder(inbox: Path, staging: Path) -> int:
    """A station folder of old results: the real files (2022-2025) and 300 simulated units
    tested 40 days ago, each with its test time as mtime, as the station left them."""
    sources = sorted(REAL_SAMPLES.glob("*.xls"))
    start = datetime.now() - timedelta(days=40)
    sources += simulate_station(staging, count=300, seed=43, start=start)
    for source in sources:
        copy = inbox / source.name
        shutil.copyfile(source, copy)
        tested = analyse_file(source).test_date or start
        os.utime(copy, (tested.timestamp(), tested.timestamp()))
    return len(sources)


def test_first_start_on_old_files_then_a_new_unit_and_screenshot(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    total = old_folder(inbox, tmp_path / "old")
    assert total >= 200
    # A System A unit: its test time is read from the sheet (the System B readers take
    # it from the file name, which loses "PM" today, 12 h off).
    fresh = next(
        path
        for path in simulate_station(tmp_path / "new", count=10, seed=44, start=datetime.now())
        if analyse_file(path).system == "A"
    )
    fresh_status = analyse_file(fresh).status.value.upper()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with AgentProcess(tmp_path / "data", inbox).start() as agent, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(agent.url + "/")
        importing = page.locator("#history-import")
        expect(importing).to_contain_text(f" of {total}", timeout=10000)
        expect(page.locator("#verdict")).to_contain_text("Waiting")

        landed = time.monotonic()
        fresh.replace(inbox / fresh.name)
        expect(page.locator("#unit-file")).to_contain_text(fresh.name, timeout=10000)
        shown_after = time.monotonic() - landed
        expect(page.locator("#verdict")).to_have_text(fresh_status)
        counts = [page.locator(f"#count-{k}").inner_text() for k in ("pass", "warning", "fail")]
        counts.append(page.locator("#count-error").inner_text())
        assert sorted(counts) == ["0", "0", "0", "1"]
        assert page.locator("#recent-list a").count() == 1
        still_importing = importing.is_visible()
        page.screenshot(path=str(ARTIFACTS / "history-import.png"))

        expect(importing).to_be_hidden(timeout=60000)
        assert sorted(
            page.locator(f"#count-{k}").inner_text() for k in ("pass", "warning", "fail", "error")
        ) == ["0", "0", "0", "1"]
        page.screenshot(path=str(ARTIFACTS / "history-import-done.png"))
        print(
            f"new unit shown {shown_after:.2f} s after landing; import running: {still_importing}"
        )
        browser.close()
        agent.terminate()
