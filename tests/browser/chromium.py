"""Debian's headless Chromium for the browser tests (Playwright never downloads one here).

On a developer machine without it the browser tests skip with the install
hint; under CI (CI=true) a missing browser is a failure, because `.ci/run`
installs it and a silent skip would hide that it did not.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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


# Under CI the tests run and fail at launch if the browser is missing.
requires_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and os.environ.get("CI") != "true",
    reason=f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)",
)
