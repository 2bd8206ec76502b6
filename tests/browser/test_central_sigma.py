"""Headless Chromium on a real `lta-central serve` over a seeded database: the learned sigma
threshold of a model whose formula threshold is too low, its warning-rate preview, QA's
acceptance, and a station's WARNING on that model turning into PASS under the accepted value.

The model is 6607 (System B, a real station file, sigma gradient 0.0058 against a formula
threshold of 0.0048). Its fleet: 120 units built on that file's track with sigma
gradients drawn around the real unit's (log-normal, spread 0.3 as on the real 8340-3
units), serials trimmed twice, one in ten of the second trims failing linearity.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from agent.analysis.file import analyse_file
from agent.spec_sync import SpecFetcher, SpecState
from agent.store.store import Store
from agent.sync import CentralClient
from shared.analysis_settings import AnalysisSettings
from shared.model_specs import SpecTable
from shared.models import FileResult, Status
from tests.browser.central_helpers import add_user, screenshot, send
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS, requires_chromium
from tests.central.data_helpers import renamed
from tests.central.test_specs_pages import RESCUED
from tests.e2e.central_process import CentralProcess, central_cli

pytestmark = [pytest.mark.browser, requires_chromium]

QA = "qa.sigma"
PASSWORD = "Browser-Sigma-2025"  # noqa: S105 - a test account
UNITS = 120


def fleet(base: FileResult) -> list[FileResult]:
    rng = np.random.default_rng(15)
    track = base.tracks[0]
    start = datetime.now(UTC) - timedelta(days=20)
    units = []
    for i in range(UNITS):
        sigma_value = float(rng.lognormal(np.log(track.sigma_gradient or 0.0058), 0.3))
        fails = i % 2 == 1 and (i // 2) % 10 == 0  # one in ten second trims fails
        changed = track.model_copy(
            update={
                "sigma_gradient": sigma_value,
                "sigma_pass": sigma_value <= (track.sigma_threshold or 0.0),
                "linearity_pass": not fails,
            }
        )
        status = Status.FAIL if fails else Status.WARNING if not changed.sigma_pass else Status.PASS
        units.append(
            renamed(
                base,
                f"fleet-{i}",
                tracks=[changed.model_copy(update={"status": status})],
                status=status,
                serial=f"F{i // 2}",
                analysed_at=start + timedelta(hours=3 * i),
            )
        )
    return units


def test_learned_threshold_proposal_acceptance_and_station_verdict(
    database_url: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base = analyse_file(RESCUED)
    assert base.status is Status.WARNING  # the formula threshold is too low for this model
    central = CentralProcess(database_url, tmp_path / "central")
    central_cli(
        central.env, "seed", "--tracks", "2000", "--stations", "3", "--models", "6", "--days", "30"
    )
    add_user(central, QA, "admin", PASSWORD)
    spec_file = tmp_path / "specs.csv"
    spec_file.write_text("model,element_type,product_class\n6607,Carbon,Industrial\n")
    central_cli(central.env, "specs", "import", str(spec_file))
    with central.start(), sync_playwright() as pw:
        token = central.add_station("line-b")
        send(central, token, "line-b", fleet(base))
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(f"{central.url}/login?next=/specs/sigma/6607")
        page.fill("#name", QA)
        page.fill("#password", PASSWORD)
        page.click("#sign-in")
        expect(page.locator("#sigma-approved")).to_contain_text(
            "Threshold not yet set for this model"
        )
        expect(page.locator("#samples")).to_have_text(str(UNITS - 6))
        warn_now = float(page.locator("#warn-now").inner_text().split()[0])
        warn_with = float(page.locator("#warn-with").inner_text().split()[0])
        assert warn_now > 50.0 and warn_with < 5.0, (warn_now, warn_with)
        expect(page.locator("#separation")).to_contain_text("that later failed")
        proposed = float(page.locator("#proposed").inner_text())
        assert proposed > (base.tracks[0].sigma_gradient or 0.0)
        screenshot(page, "central-sigma-proposal.png")
        page.click("#sigma-accept")
        expect(page.locator("#sigma-approved")).to_contain_text("Approved threshold")
        expect(page.locator("#sigma-decisions")).to_contain_text("accepted")

        # A station takes the table (through the same client and cache as the agent) and
        # the unit the formula warned about passes under the accepted threshold.
        station = Store(tmp_path / "agent.sqlite")
        client = CentralClient(central.url, token)
        tables: list[SpecTable] = []
        try:
            assert SpecFetcher(station, client, SpecState(), tables.append).run()
        finally:
            client.close()
            station.close()
        judged = analyse_file(RESCUED, AnalysisSettings(specs=tables[-1]))
        assert judged.status is Status.PASS and judged.spec_version == tables[-1].version
        assert judged.tracks[0].sigma_threshold == pytest.approx(proposed, rel=1e-5)
        browser.close()
        central.stop()
