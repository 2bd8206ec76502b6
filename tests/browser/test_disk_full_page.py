"""Headless Chromium on the real agent whose data folder is on a small, full tmpfs.

The operator sees the last verdict stay on screen, "DISK FULL" appear without
a reload, and the waiting unit's verdict arrive by itself once space is freed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agent.analysis.file import analyse_file
from agent.simulate import simulate_station
from tests.agent.test_disk_full import fill_disk, small_disk
from tests.browser.chromium import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, requires_chromium
from tests.e2e.agent_process import AgentProcess

pytestmark = [pytest.mark.browser, requires_chromium]
__all__ = ["small_disk"]  # the fixture, shared with the unit test


def test_the_page_says_disk_full_and_recovers_by_itself(small_disk: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    first, waiting = simulate_station(tmp_path / "staging", count=2, seed=51)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    agent_process = AgentProcess(
        small_disk / "data", inbox, LTA_AGENT_INBOX__HISTORY_WINDOW_HOURS="0"
    )
    with agent_process.start() as agent, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(agent.url + "/")
        page.evaluate("window.__notReloaded = true")
        shutil.copy(first, inbox / first.name)
        expect(page.locator("#unit-file")).to_contain_text(first.name, timeout=10000)
        expect(page.locator("#disk-full")).to_be_hidden()

        filler = fill_disk(small_disk)
        shutil.copy(waiting, inbox / waiting.name)
        banner = page.locator("#disk-full")
        expect(banner).to_be_visible(timeout=10000)
        expect(banner).to_contain_text("DISK FULL")
        expect(page.locator("#unit-file")).to_contain_text(first.name)  # the last stored one
        assert agent.get("/api/status")["health"]["disk_full"] is not None
        page.screenshot(path=str(ARTIFACTS / "disk-full.png"))

        filler.unlink()
        expect(page.locator("#unit-file")).to_contain_text(waiting.name, timeout=15000)
        expect(page.locator("#verdict")).to_have_text(analyse_file(waiting).status.value.upper())
        expect(banner).to_be_hidden()
        assert page.evaluate("window.__notReloaded") is True
        browser.close()
        agent.terminate()
