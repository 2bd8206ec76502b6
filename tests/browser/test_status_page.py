"""Headless Chromium on the real agent: a new file changes the verdict without a reload."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from agent.analysis.file import analyse_file
from agent.simulate import simulate_station
from shared.models import Status
from tests.e2e.agent_process import AgentProcess

CHROMIUM = os.environ.get("LTA_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("LTA_TEST_ARTIFACTS", "test-artifacts"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)",
    ),
]


def pick(files: list[Path], status: Status) -> Path:
    return next(p for p in files if analyse_file(p).status is status)


def test_verdict_changes_without_reload_and_screenshot(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    staging = simulate_station(tmp_path / "staging", count=40, seed=41)
    first, second = pick(staging, Status.PASS), pick(staging, Status.FAIL)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with AgentProcess(tmp_path / "data", inbox).start() as agent, sync_playwright() as pw:
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
