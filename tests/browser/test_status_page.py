"""Headless Chromium on the real agent: a new file changes the verdict without a reload."""

from __future__ import annotations

import os
import shutil
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.analysis.file import analyse_file
from agent.simulate import simulate_station
from shared.models import Status
from tests.browser.chromium import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, requires_chromium
from tests.e2e.agent_process import AgentProcess
from tests.real_truth import IN_REPO, REPO

REAL_SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "real-samples"
DOCS_IMAGES = REPO / "docs" / "images"  # the operator guide shows these

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


def chart_points(page: Any, card: str) -> tuple[int, int]:
    """(red dots, hollow rings) drawn in a track card's chart."""
    svg = page.locator(f"{card} svg")
    return (
        svg.locator("g.fail-pts circle").count(),
        svg.locator("g.excluded-pts circle").count(),
    )


def fits_the_screen(page: Any, selector: str, viewport: dict[str, int]) -> None:
    """Visible, inside the first screen, and the page no wider than the screen."""
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"] + 1, (selector, box)
    assert box["y"] + box["height"] <= viewport["height"], (selector, box)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


def test_a_rotated_unit_with_rows_left_out_says_how_it_was_judged_and_screenshot(
    tmp_path: Path,
) -> None:
    """Real files: 8555_54 (FAIL: one point outside by the station's rules, an ignored end
    row outside too) then 6828_47 (passes the station's rules only by rotating the theory
    line -0.38 %, 4 + 2 end rows left out; strict, 6 points are outside)."""
    from playwright.sync_api import expect, sync_playwright

    failing, rotated = (next(IN_REPO.glob(f"{prefix}_*.xls")) for prefix in ("8555_54", "6828_47"))
    fail_points = [t.fail_points for t in analyse_file(failing).tracks]
    (track,) = analyse_file(rotated).tracks
    assert track.adjustment is not None and track.adjustment.k != 0.0
    assert track.fail_points == 0 and track.strict is not None and track.strict.fail_points == 6
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    agent_process = AgentProcess(
        tmp_path / "data",
        inbox,
        LTA_AGENT_INBOX__HISTORY_WINDOW_HOURS="0",  # real files carry past test dates
        LTA_AGENT_STATION__NAME="Trim line 3",
    )
    large, small = {"width": 1920, "height": 1080}, {"width": 1024, "height": 768}
    with agent_process.start() as agent, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=large)
        page.goto(agent.url + "/")

        shutil.copy(failing, inbox / failing.name)
        expect(page.locator("#unit-file")).to_contain_text(failing.name, timeout=10000)
        expect(page.locator("#verdict")).to_have_text("FAIL")
        for index, expected in enumerate(fail_points, start=1):
            red, hollow = chart_points(page, f"#track-{index}")
            assert red == expected == 1 and hollow == 2  # the red count is the fail count
        expect(page.locator("#why")).to_contain_text("TRK1: 1 point outside the band")

        shutil.copy(rotated, inbox / rotated.name)
        expect(page.locator("#unit-file")).to_contain_text(rotated.name, timeout=10000)
        expect(page.locator("#verdict")).to_have_text("WARNING")
        judged = page.locator("#judged")
        words = [
            "Judged by the station's rules: offset -0.00536 V, rotated -0.38 % "
            "(angle 340.787° → 339.507°), 4 + 2 end rows left out",
            "Strict (offset only, every point): 6 points outside",
            "Inside the band by the station's rules; the strict check alone would fail it.",
            "Why WARNING: Sigma gradient 0.0004307 is above the threshold 0.0003064",
        ]
        for viewport, shot in ((large, "station-rotated-unit.png"), (small, None)):
            page.set_viewport_size(viewport)
            for text in words:
                expect(judged).to_contain_text(text)
            expect(page.locator(".strict-differs")).to_be_visible()
            for selector in ("#verdict", "#judged", "#track-1 svg", "#counts"):
                fits_the_screen(page, selector, viewport)
            assert chart_points(page, "#track-1") == (track.fail_points, 6)
            name = shot or "station-rotated-unit-1024.png"
            page.screenshot(path=str(ARTIFACTS / name))
            if shot:
                DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(ARTIFACTS / shot, DOCS_IMAGES / shot)
        marks = page.locator("#recent-list a").first.locator(".mark")
        expect(marks).to_have_text(["rotated", "rows left out", "strict: fail"])
        browser.close()
        agent.terminate()
