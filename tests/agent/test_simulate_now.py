"""`lta-agent simulate` dates units now (the README's example shows them), `--date` writes
history, and the page says why it waits when every file was history."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from agent.analysis.file import analyse_file
from agent.cli import main
from agent.history import HistoryWindow
from agent.simulate import now_dated_start, simulate_station
from agent.simulate.station import NOW_DATED_SPAN_S
from agent.store.store import Store
from tests.conftest import STATION


def written(capsys: pytest.CaptureFixture[str]) -> list[Path]:
    return [Path(line) for line in capsys.readouterr().out.splitlines()]


def test_simulate_dates_units_now_by_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = datetime.now()
    assert main(["simulate", "--out", str(tmp_path), "--count", "12", "--seed", "7"]) == 0
    window = HistoryWindow(12.0)
    dated = [
        r.test_date
        for r in (analyse_file(p) for p in written(capsys))
        if r.test_date is not None and r.test_date.time() != datetime.min.time()
    ]  # a station that writes the day alone (no time) dates its unit at midnight
    assert len(dated) >= 8
    for tested in dated:
        assert not window.is_old(tested, before), tested
        assert tested <= datetime.now() + timedelta(minutes=1)


def test_simulate_date_writes_history(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["simulate", "--out", str(tmp_path), "--count", "5", "--date", "2024-11-22"]
    assert main(argv) == 0
    results = [analyse_file(p) for p in written(capsys)]
    assert {r.test_date.date() for r in results if r.test_date} == {date(2024, 11, 22)}
    assert all(HistoryWindow(12.0).is_old(r.test_date, datetime.now()) for r in results)


def test_now_dated_start_paced_and_at_once() -> None:
    now = datetime(2026, 3, 4, 10, 0)
    assert now_dated_start(10, 30.0, now) == (now, 2.0)
    start, spacing = now_dated_start(20, None, now)
    assert spacing == 120.0 and start == now - timedelta(seconds=2400)
    start, spacing = now_dated_start(10_000, None, now)
    assert start == now - timedelta(seconds=NOW_DATED_SPAN_S)
    assert spacing == NOW_DATED_SPAN_S / 10_000


def test_paced_units_are_dated_as_they_land(tmp_path: Path) -> None:
    start = datetime(2026, 3, 4, 10, 0)
    paths = simulate_station(tmp_path, count=6, seed=5, start=start, spacing_s=5.0)
    for path in paths:
        tested = analyse_file(path).test_date
        if tested is not None and tested.time() != datetime.min.time():
            assert start - timedelta(minutes=1) <= tested <= start + timedelta(minutes=1)


def test_waiting_page_says_files_were_history(
    client: FlaskClient, store: Store, tmp_path: Path
) -> None:
    html = client.get("/").get_data(as_text=True)
    assert 'id="history-only"' not in html
    for path in simulate_station(tmp_path / "old", count=3, seed=8):  # tested in 2024
        store.record(analyse_file(path), STATION, datetime.now(UTC), None, history=True)
    status = client.get("/api/status").get_json()
    assert status["latest"] is None and status["history_results"] == 3
    for page in ("/", "/partials/latest"):
        html = client.get(page).get_data(as_text=True)
        assert "Waiting for the first unit" in html
        text = re.search(r'id="history-only">([^<]*)<', html)
        assert text is not None
        assert text.group(1).startswith("3 files imported as history (older than 12 h)")
