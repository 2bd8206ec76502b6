"""The operator's screen at common panel sizes: verdict, sync banner and counts in full view.

Bounding boxes against the viewport (not screenshots alone): an element that is
cut off by the screen's edge, or whose text overflows its own box, fails.
"""

from __future__ import annotations

import shutil
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from agent.analysis.file import analyse_file
from agent.simulate import simulate_station
from tests.browser.chromium import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, requires_chromium
from tests.e2e.agent_process import AgentProcess, free_port
from tests.real_truth import IN_REPO, REPO

DOCS_IMAGES = REPO / "docs" / "images"
RESOLUTIONS = ((1024, 768), (1280, 1024), (1920, 1080))
# What must be readable from the machine, whole, at every size.
MUST_SHOW = (
    "#verdict",
    "#sync-alert",
    "#sync-alert-headline",
    "#sync-alert-detail",
    "#counts",
    "#count-pass",
    "#count-warning",
    "#count-fail",
    "#count-error",
    "#yield-pct",
    "#health-central",
    "#health-outbox",
)

pytestmark = [pytest.mark.browser, requires_chromium]


def fully_visible(page: Any, selector: str, width: int, height: int) -> None:
    """Inside the viewport, and no text cut by the element's own box (ellipsis, clipping)."""
    locator = page.locator(selector)
    assert locator.is_visible(), selector
    box = locator.bounding_box()
    assert box is not None, selector
    assert box["x"] >= 0 and box["y"] >= 0, (selector, box)
    assert box["x"] + box["width"] <= width + 0.5, (selector, box, width)
    assert box["y"] + box["height"] <= height + 0.5, (selector, box, height)
    # A box that clips (overflow hidden, ellipsis) must hold all its text; any other box
    # lets its text show, so the text itself must be inside the screen.
    cut, text = locator.evaluate(
        """el => {
            const style = getComputedStyle(el);
            const clips = style.overflowX !== "visible" || style.overflowY !== "visible";
            const cut = clips && (el.scrollWidth > el.clientWidth + 1
                                  || el.scrollHeight > el.clientHeight + 1);
            const range = document.createRange();
            range.selectNodeContents(el);
            const r = range.getBoundingClientRect();
            return [cut, [r.left, r.top, r.right, r.bottom]];
        }"""
    )
    assert not cut, (selector, "text cut by its box")
    left, top, right, bottom = text
    assert left >= 0 and top >= 0 and right <= width + 0.5 and bottom <= height + 0.5, (
        selector,
        text,
    )


def test_central_down_banner_fits_every_common_screen_and_screenshot(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    nobody = f"http://127.0.0.1:{free_port()}"  # nothing listens there: central is down
    process = AgentProcess(
        tmp_path / "data",
        inbox,
        LTA_AGENT_CENTRAL_URL=nobody,
        LTA_AGENT_CENTRAL_TOKEN="tok-" + "x" * 40,
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with process.start() as agent, sync_playwright() as pw:
        units = simulate_station(tmp_path / "staging", count=12, seed=18, start=datetime.now())
        for path in units:
            shutil.copy(path, inbox / path.name)
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(agent.url + "/")
        banner = page.locator("#sync-alert")
        expect(banner).to_be_visible(timeout=30000)
        expect(page.locator("#sync-alert-headline")).to_have_text("CENTRAL UNREACHABLE")
        detail = page.locator("#sync-alert-detail")
        expect(detail).to_contain_text("12 results waiting since ", timeout=30000)
        total = "+".join(f"Number(document.getElementById('count-{k}').textContent)" for k in
                         ("pass", "warning", "fail", "error"))  # fmt: skip
        page.wait_for_function(f"{total} === 12", timeout=30000)
        expect(page.locator("#health-central")).to_contain_text("central: unreachable")

        check_every_resolution(page, "central-down-banner")
        # A two-track unit shares the screen between two charts: the rest still fits.
        two_tracks = next(
            path
            for path in simulate_station(tmp_path / "more", count=30, seed=19, start=datetime.now())
            if len(analyse_file(path).tracks) == 2
        )
        shutil.copy(two_tracks, inbox / two_tracks.name)
        expect(page.locator("#unit-file")).to_contain_text(two_tracks.name, timeout=30000)
        expect(page.locator("#track-2")).to_be_visible()
        check_every_resolution(page, "central-down-two-tracks")
        browser.close()
        agent.terminate()


def check_every_resolution(page: Any, name: str) -> None:
    for width, height in RESOLUTIONS:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(300)  # one layout pass after the resize
        shot = f"{name}-{width}x{height}.png"
        page.screenshot(path=str(ARTIFACTS / shot))
        for selector in MUST_SHOW:
            fully_visible(page, selector, width, height)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        headline_px = page.locator("#sync-alert-headline").evaluate(
            "el => parseFloat(getComputedStyle(el).fontSize)"
        )
        assert headline_px >= 30, (width, height, headline_px)  # readable from 2 m
        if name == "central-down-banner" and (width, height) == (1280, 1024):
            DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ARTIFACTS / shot, DOCS_IMAGES / "central-down-banner.png")


def test_unit_page_with_four_passes_is_readable_and_screenshot(tmp_path: Path) -> None:
    """A real unit trimmed in four passes (7844_254A): the verdict's chart scaled to its
    band, the whole trim history in its own chart, pass charts wide enough to read."""
    from playwright.sync_api import expect, sync_playwright

    (source,) = IN_REPO.glob("7844_254A_*.xls")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    process = AgentProcess(tmp_path / "data", inbox, LTA_AGENT_INBOX__HISTORY_WINDOW_HOURS="0")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with process.start() as agent, sync_playwright() as pw:
        shutil.copy(source, inbox / source.name)
        deadline = time.monotonic() + 30
        while agent.get("/api/status")["latest"] is None and time.monotonic() < deadline:
            time.sleep(0.2)
        pk = agent.get("/api/status")["latest"]["pk"]
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1024})
        page.goto(f"{agent.url}/units/{pk}")
        expect(page.locator("#verdict")).to_have_text("PASS")
        expect(page.locator(".trim-history tbody tr")).to_have_count(5)
        expect(page.locator("#history-1 svg")).to_be_visible()
        expect(page.locator("#history-1 .history-curve")).to_have_count(5)
        expect(page.locator("#track-1 .detail-plot .axis-title")).to_have_text(
            "error (V) vs position (°)"
        )
        charts = page.locator(".pass-chart svg")
        expect(charts).to_have_count(5)
        for index in range(5):
            box = charts.nth(index).bounding_box()
            assert box is not None and box["width"] >= 500, box  # read, not a thumbnail
            tick_px = (
                charts.nth(index)
                .locator(".tick")
                .first.evaluate("el => el.getBoundingClientRect().height")
            )
            assert tick_px >= 12, tick_px
        page.screenshot(path=str(ARTIFACTS / "unit-four-passes.png"), full_page=True)
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ARTIFACTS / "unit-four-passes.png", DOCS_IMAGES / "unit-four-passes.png")
        browser.close()
        agent.terminate()
