"""The model pages print numbers without float noise and label production order readably."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta
from html import unescape

import numpy as np
from flask.testing import FlaskClient

from central.db import Database
from tests.central.alarm_helpers import PASSING, real, send
from tests.central.auth_helpers import VIEWER, VIEWER_PASSWORD, sign_in
from tests.central.conftest import Accounts
from tests.central.data_helpers import renamed

SVG = "{http://www.w3.org/2000/svg}"
NOISY_SPEC = 0.025000000000000158  # 0.025 V as arithmetic leaves it
DAY = date(2026, 3, 4)


def one_day_of_units(db: Database, count: int = 60) -> None:
    """`count` units of 6828 made 5 minutes apart on DAY, at two stations; small sigmas
    spread widely enough that the sigma chart's 3-sigma LCL is below 0."""
    template = real(PASSING)
    rng = np.random.default_rng(5)
    sigmas = np.abs(rng.normal(2e-4, 1.5e-4, count)) + 1e-6
    start = datetime.combine(DAY, datetime.min.time()) + timedelta(hours=6)
    by_station: dict[str, list] = {"line-a": [], "line-b": []}
    for i in range(count):
        track = template.tracks[0].model_copy(
            update={
                "track_id": "TRK1",
                "sigma_gradient": float(sigmas[i]),
                "linearity_error": 0.01 + 0.001 * float(rng.standard_normal()),
                "linearity_spec": NOISY_SPEC,
            }
        )
        unit = renamed(
            template,
            f"day-{i}",
            test_date=start + timedelta(minutes=5 * i),
            serial=f"D{i:03d}",
            tracks=[track],
        )
        by_station["line-a" if i % 2 else "line-b"].append(unit)
    for station, units in by_station.items():
        send(db, station, units)


def chart(body: str, chart_id: str) -> ET.Element:
    found = re.search(rf'<svg[^>]*id="{chart_id}".*?</svg>', body, re.S)
    assert found, f"no chart {chart_id}"
    return ET.fromstring(found.group(0))  # noqa: S314 - the app's own output


def test_control_charts_of_one_day_read_by_the_clock_and_clamp_a_negative_lcl(
    central_db: Database, client: FlaskClient, accounts: Accounts
) -> None:
    one_day_of_units(central_db)
    assert sign_in(client, VIEWER, VIEWER_PASSWORD).status_code == 303
    body = client.get(f"/models/6828?from={DAY}&to={DAY}").get_data(as_text=True)
    sigma = chart(body, "sigma-i")
    texts = [t.text or "" for t in sigma.iter(f"{SVG}text")]
    ticks = [t for t in texts if re.fullmatch(r"\d\d:\d\d", t)]
    assert len(ticks) >= 3 and len(set(ticks)) == len(ticks), texts
    assert f"unit, in production order, on {DAY}" in texts
    assert "LCL clamped at 0" in texts
    assert not [t for t in texts if t.startswith("LCL -")]
    assert not re.search(r"\d{9,}", unescape(body)), "a number printed with float noise"


def test_a_spec_with_float_noise_is_printed_as_set(
    central_db: Database, client: FlaskClient, accounts: Accounts
) -> None:
    one_day_of_units(central_db, count=12)
    assert sign_in(client, VIEWER, VIEWER_PASSWORD).status_code == 303
    body = client.get(f"/models/6828/compare?from={DAY}&to={DAY}").get_data(as_text=True)
    assert "(0.025 V)" in body
    assert "0.0250000" not in body


def test_the_spec_table_prints_typed_values_without_float_noise(
    central_db: Database, client: FlaskClient, accounts: Accounts
) -> None:
    from central.auth.audit import CLI
    from central.specs.record import SpecRow
    from central.specs.store import save_specs

    row = SpecRow(
        model="6607",
        linearity_spec=0.1 + 0.2,  # 0.30000000000000004
        linearity_unit="V",
        angle_nominal=340.00000000000006,
        angle_tolerance=2.0,
        resistance_min=950.0,
        resistance_max=1050.0000000000002,
        sigma_threshold=0.025000000000000158,
    )
    save_specs(central_db, [row], CLI, "float noise as arithmetic leaves it")
    assert sign_in(client, VIEWER, VIEWER_PASSWORD).status_code == 303
    body = unescape(client.get("/specs").get_data(as_text=True))
    listed = re.search(r'<tr[^>]*data-model="6607".*?</tr>', body, re.S)
    assert listed, body[:2000]
    cells = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", listed.group(0)))
    assert "± 0.3V" in cells and "340 ± 2" in cells and "950 \u2013 1050" in cells
    assert "0.025" in cells
    assert not re.search(r"\d{9,}", cells), cells


def test_cpk_trend_windows_ending_on_one_day_read_by_their_time(
    central_db: Database, client: FlaskClient, accounts: Accounts
) -> None:
    one_day_of_units(central_db, count=80)
    assert sign_in(client, VIEWER, VIEWER_PASSWORD).status_code == 303
    body = client.get(f"/models/6828?from={DAY}&to={DAY}&window=20").get_data(as_text=True)
    trend = chart(body, "sigma-trend")
    texts = [t.text or "" for t in trend.iter(f"{SVG}text")]
    ticks = [t for t in texts if re.fullmatch(r"\d\d-\d\d( \d\d:\d\d)?", t)]
    assert len(ticks) >= 2 and len(set(ticks)) == len(ticks), texts
