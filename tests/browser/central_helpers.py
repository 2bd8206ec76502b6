"""What the central browser tests share: users as IT adds them, batches as agents send them."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
from typing import Any

import httpx

from shared.models import FileResult
from shared.protocol import RESULTS_PATH
from tests.browser.chromium import ARTIFACTS
from tests.central.data_helpers import batch_of
from tests.e2e.central_process import CentralProcess
from tests.real_truth import REPO

DOCS_IMAGES = REPO / "docs" / "images"


def add_user(central: CentralProcess, name: str, role: str, password: str) -> None:
    """As IT adds one: `lta-central user add`, the password on stdin."""
    subprocess.run(
        [sys.executable, "-m", "central.cli", "user", "add", name, "--role", role],
        input=password + "\n",
        env=central.env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )


def send(central: CentralProcess, token: str, station: str, results: list[FileResult]) -> None:
    """One batch as an agent sends it: gzip JSON with the station's bearer token."""
    body = gzip.compress(batch_of(results, station).model_dump_json().encode())
    response = httpx.post(
        central.url + RESULTS_PATH,
        content=body,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        },
        timeout=60,
    )
    response.raise_for_status()
    assert len(response.json()["accepted"]) == len(results), response.text


def screenshot(page: Any, name: str) -> None:
    """Into test-artifacts/ and docs/images/ (the README shows the latter)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)
    DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ARTIFACTS / name, DOCS_IMAGES / name)
