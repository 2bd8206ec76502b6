"""`lta-agent simulate` dates units now (the README's example shows them), `--date` writes
history, and the page says why it waits when every file was history."""

from __future__ import annotations

import re
import threading
import time
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


def test_a_live_station_dates_each_unit_by_its_clock_when_the_file_is_written(
    tmp_path: Path,
) -> None:
    """However the schedule runs (here 2 minutes a unit, written at once), a live station's
    unit is made when its file is written: never ahead of the wall clock."""
    ticks = iter(datetime(2026, 3, 4, 10, 0) + timedelta(seconds=7 * i) for i in range(40))
    stamped: list[datetime] = []

    def clock() -> datetime:
        stamped.append(next(ticks))
        return stamped[-1]

    paths = simulate_station(tmp_path, count=12, seed=3, spacing_s=120.0, clock=clock)
    assert len(stamped) == 12
    for path, when in zip(paths, stamped, strict=True):
        tested = analyse_file(path).test_date
        if tested is None or tested.time() == datetime.min.time():
            continue  # a short name or a day-only cell: the station wrote no time
        assert tested == when.replace(second=0)  # the name's clock has minutes


def test_the_demo_station_never_dates_a_unit_in_the_future(tmp_path: Path) -> None:
    from agent.demo import simulated_station

    stop = threading.Event()
    seen: list[Path] = []
    thread = threading.Thread(
        target=simulated_station, args=(tmp_path, 600.0, 1, stop), daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 60
    while len(seen) < 6 and time.monotonic() < deadline:
        seen = [p for p in tmp_path.iterdir() if not p.name.startswith("~$")]
        time.sleep(0.1)
    stop.set()
    thread.join(timeout=10)
    assert len(seen) >= 6
    for path in seen:
        tested = analyse_file(path).test_date
        assert tested is None or tested <= datetime.now(), path.name


def test_distinct_units_have_distinct_serials_per_model_and_station(tmp_path: Path) -> None:
    """Central reads a repeated model and serial as the same unit re-trimmed."""
    units: dict[tuple[str, str], str] = {}
    for seed in (1, 2):
        for path in simulate_station(tmp_path / str(seed), count=80, seed=seed, spacing_s=5.0):
            result = analyse_file(path)
            assert result.serial is not None
            key = (str(result.model), result.serial.rstrip("AB"))
            assert key not in units, f"{path.name} repeats {units.get(key)}"
            units[key] = path.name


def test_simulate_at_a_rate_dates_each_unit_when_it_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["simulate", "--out", str(tmp_path), "--count", "4", "--rate", "240", "--seed", "2"]
    before = datetime.now().replace(second=0, microsecond=0)
    assert main(argv) == 0
    for path in written(capsys):
        tested = analyse_file(path).test_date
        if tested is not None and tested.time() != datetime.min.time():
            assert before <= tested <= datetime.now(), path.name
