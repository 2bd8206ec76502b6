"""One drift baseline (central/spc/reference.py, docs/decisions/0013): the drift alarm,
a model's page and the model list judge a model on a station against the same
reference period, so they give the same verdict; without history the page says so."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import numpy as np
from flask.testing import FlaskClient

from central.alarms.rows import AlarmKind
from central.alarms.rules import AlarmSettings, find_all
from central.db import Database
from central.demo import DRIFTING, HISTORY, HISTORY_SEED, STATIONS
from central.seed import SeedPlan, seed
from central.spc.drift import Baseline
from central.spc.reference import (
    MIN_REFERENCE_TRACKS,
    ReferenceSums,
    reference_baseline,
    reference_period,
)
from central.spc.series import Unavailable, UnavailableReason
from tests.central.alarm_helpers import PASSING, real, send, series
from tests.central.auth_helpers import VIEWER, VIEWER_PASSWORD, sign_in
from tests.central.conftest import Accounts

TODAY = date(2025, 3, 12)
SETTINGS = AlarmSettings()  # recent 7 days (6 to 12 March), baseline the 90 days before
RECENT_FROM = date(2025, 3, 6)
MODEL = "6828"
SIGMA, SIGMA_SD = 2.7e-4, 1.0e-5


def _moments(history: int, recent: int) -> list[datetime]:
    """Every 12 h from 1 February (the baseline period), then every 3 h up to today 14:00."""
    old = [datetime(2025, 2, 1, 8) + timedelta(hours=12 * i) for i in range(history)]
    new = [datetime(2025, 3, 12, 14) - timedelta(hours=3 * (recent - 1 - i)) for i in range(recent)]
    return old + new


def _send_pair(db: Database, station: str, history: int, shift_sd: float, seed: int) -> None:
    """`history` units in the baseline period, 30 in the recent window shifted by shift_sd."""
    rng = np.random.default_rng(seed)
    sigma = SIGMA + SIGMA_SD * np.concatenate(
        [rng.standard_normal(history), shift_sd + rng.standard_normal(30)]
    )
    send(db, station, series(real(PASSING), station, _moments(history, 30), sigma=sigma))


def _states(body: str) -> dict[str, str]:
    """Station -> the drift badge of its row on the model page."""
    return dict(
        re.findall(
            r'<div class="drift-row" data-station="([^"]+)">\s*<h3>[^<]*'
            r'<span class="drift drift-(\w+)"',
            body,
        )
    )


def test_reference_baseline_needs_thirty_tracks_before_the_window() -> None:
    assert reference_period(RECENT_FROM, 90) == (date(2024, 12, 6), date(2025, 3, 5))
    values = SIGMA + SIGMA_SD * np.random.default_rng(1).standard_normal(MIN_REFERENCE_TRACKS)
    sums = ReferenceSums(values.size, float(values.sum()), float((values**2).sum()))
    found = reference_baseline(sums, RECENT_FROM)
    assert isinstance(found, Baseline)
    assert abs(found.mean - np.mean(values)) < 1e-15
    assert abs(found.sd - np.std(values, ddof=1)) < 1e-12
    short = ReferenceSums(29, float(values[:29].sum()), float((values[:29] ** 2).sum()))
    missing = reference_baseline(short, RECENT_FROM)
    assert isinstance(missing, Unavailable) and missing.reason is UnavailableReason.NO_BASELINE
    assert missing.message.startswith("No baseline yet: needs 30 units before 2025-03-06")
    flat = reference_baseline(ReferenceSums(40, 40 * SIGMA, 40 * SIGMA * SIGMA), RECENT_FROM)
    assert isinstance(flat, Unavailable) and flat.reason is UnavailableReason.ZERO_SPREAD


def test_the_alarm_and_the_model_pages_give_the_same_drift_verdict(
    central_db: Database, client: FlaskClient, accounts: Accounts
) -> None:
    _send_pair(central_db, "line-up", 60, 3.0, seed=3)
    _send_pair(central_db, "line-flat", 60, 0.0, seed=4)
    _send_pair(central_db, "line-down", 60, -3.0, seed=5)
    # Drifting hard, but with too little history for a baseline: no verdict anywhere.
    _send_pair(central_db, "line-young", MIN_REFERENCE_TRACKS - 1, 6.0, seed=6)
    with central_db.pool.connection() as conn:
        found = find_all(conn, SETTINGS, datetime(2025, 3, 12, 15, tzinfo=UTC), TODAY)
        names = dict(conn.execute("SELECT id, name FROM stations").fetchall())
    alarmed = {names[f.station_pk] for f in found if f.kind is AlarmKind.DRIFT}
    assert alarmed == {"line-up"}

    assert sign_in(client, VIEWER, VIEWER_PASSWORD).status_code == 303
    window = f"from={RECENT_FROM}&to={TODAY}"  # the alarm's recent window
    body = client.get(f"/models/{MODEL}?{window}").get_data(as_text=True)
    states = _states(body)
    assert states == {
        "line-down": "down",  # the alarm rule reports drifts upwards only (0013)
        "line-flat": "stable",
        "line-up": "up",
        "line-young": "unknown",
    }
    assert {s for s, state in states.items() if state == "up"} == alarmed
    assert "No baseline yet: needs 30 units before 2025-03-06 (29 in the reference period)" in (
        body
    )
    # The model list's scorecard rests on the same baselines: up and down give "mixed".
    listing = client.get(f"/models?{window}").get_data(as_text=True)
    assert re.search(rf'href="/models/{MODEL}[^"]*".*?drift drift-mixed', listing, re.S)

    # One station alone: the page and the model list agree with its alarm.
    one = client.get(f"/models/{MODEL}?{window}&station=line-up").get_data(as_text=True)
    assert _states(one) == {"line-up": "up"}
    listed = client.get(f"/models?{window}&station=line-up").get_data(as_text=True)
    assert re.search(rf'href="/models/{MODEL}[^"]*".*?drift drift-up', listed, re.S)


def test_the_demo_history_shows_drift_on_the_pages_and_as_an_alarm(
    central_db: Database, client: FlaskClient, accounts: Accounts
) -> None:
    """`make run` writes this history first (central/demo.py): its drifting pairs must
    read `up` on the model list, and the alarm must agree with the page on its window."""
    args = dict(zip(HISTORY[::2], HISTORY[1::2], strict=True))
    plan = SeedPlan(
        int(args["--tracks"]),
        int(args["--stations"]),
        int(args["--models"]),
        int(args["--days"]),
        seed=int(HISTORY_SEED),
        station_names=STATIONS,
    )
    seed(central_db, plan)
    today = date.today()
    with central_db.pool.connection() as conn:
        found = find_all(conn, SETTINGS, datetime.now(UTC), today)
        names = dict(conn.execute("SELECT id, name FROM stations").fetchall())
    alarmed = {(names[f.station_pk], f.model) for f in found if f.kind is AlarmKind.DRIFT}
    drifting = set(DRIFTING)  # the seed's plan
    assert alarmed and alarmed <= drifting
    # The history is the demo's own stations': none is silent, and no heartbeat is made
    # up for them (their agents send the real ones, so they stay alive after an hour).
    assert not [f for f in found if f.kind is AlarmKind.SILENT]
    assert sorted(names.values()) == sorted(STATIONS)
    with central_db.pool.connection() as conn:
        assert conn.execute("SELECT COUNT(*) FROM heartbeats").fetchone() == (0,)

    assert sign_in(client, VIEWER, VIEWER_PASSWORD).status_code == 303
    listing = client.get("/models").get_data(as_text=True)  # the default 90 days
    for _, model in drifting:
        assert re.search(rf'href="/models/{model}[^"]*".*?drift drift-up', listing, re.S)
    # On the alarm's own window every model page agrees with the alarms, station by station.
    recent = f"from={today - timedelta(days=SETTINGS.recent_days - 1)}&to={today}"
    for model in {m for _, m in DRIFTING} | {m for _, m in alarmed}:
        body = client.get(f"/models/{model}?{recent}").get_data(as_text=True)
        up = {s for s, state in _states(body).items() if state == "up"}
        assert up == {s for s, m in alarmed if m == model}, model
