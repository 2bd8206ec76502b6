"""The station page and central give the same yield for the same units (docs/decisions/0021).

The same analysed files (simulated ones, the real ones in the repository and an
unreadable one: Pass, Warning, Fail and Error units) are recorded in a real agent
store, whose /api/status the station page shows, and sent through central's real
ingest into a real PostgreSQL, whose overview, model list and model page QA reads.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from agent.analysis.file import analyse_file
from agent.runtime import Runtime
from agent.store.store import Store
from agent.web import create_app
from agent.web.context import AgentContext
from central.db import Database
from central.queries.filters import Filters
from central.queries.fleet import fleet
from central.queries.models import model_summaries
from shared.models import FileResult, Status
from tests.central.alarm_helpers import send
from tests.central.auth_helpers import VIEWER, VIEWER_PASSWORD, signed_in
from tests.central.data_helpers import analysed_files

STATION = "line-7"


def todays_units(folder: Path) -> list[FileResult]:
    """Every kind of unit, made today (central's day) and analysed now (the station's shift)."""
    unreadable = folder / "8340-1_SN999_TEST DATA_3-6-2025_5-22 AM.xls"
    unreadable.write_bytes(b"not a workbook")
    found = [*analysed_files(folder / "files", count=24, seed=5), analyse_file(unreadable)]
    midnight = datetime.combine(date.today(), time(0, 0))
    now = datetime.now(UTC)
    return [
        r.model_copy(update={"test_date": midnight + timedelta(seconds=i), "analysed_at": now})
        for i, r in enumerate(found)
    ]


def station_yield(units: list[FileResult], folder: Path) -> float | None:
    """What the station page shows: /api/status of the agent's app over its own store."""
    store = Store(folder / "agent.sqlite")
    try:
        for result in units:
            store.record(result, STATION, datetime.now(UTC), None)
        runtime = Runtime(station_id=STATION, station_name="Line 7", inboxes=["/inbox"])
        context = AgentContext(store=store, runtime=runtime, shift_starts=("00:00",))
        status = create_app(context).test_client().get("/api/status").get_json()
    finally:
        store.close()
    assert sum(status["counts"].values()) == len(units)
    value = status["yield_pct"]
    return None if value is None else float(value)


def test_station_page_and_central_give_the_same_yield(
    central_db: Database, accounts: object, tmp_path: Path
) -> None:
    units = todays_units(tmp_path)
    kinds = Counter(u.status for u in units)
    assert all(kinds[s] for s in (Status.PASS, Status.WARNING, Status.FAIL, Status.ERROR)), kinds
    at_station = station_yield(units, tmp_path)

    send(central_db, STATION, units)
    day, _ = fleet(central_db, date.today(), datetime.now(UTC)).total()
    assert day.results == len(units)
    assert day.yield_pct is not None and at_station is not None
    assert round(day.yield_pct, 1) == at_station
    # Independently: passes and warnings over every unit with a verdict.
    judged = [u for u in units if u.status in (Status.PASS, Status.WARNING, Status.FAIL)]
    shipped = [u for u in judged if u.status is not Status.FAIL]
    assert at_station == round(100 * len(shipped) / len(judged), 1)

    viewer = signed_in(central_db, VIEWER, VIEWER_PASSWORD)
    page = html.unescape(viewer.get("/").get_data(as_text=True))
    tile = re.search(r'id="tile-yield-today">.*?<div class="tile-value">([^<]+)<', page, re.S)
    assert tile and tile.group(1).strip() == f"{at_station:.1f} %"
    models = html.unescape(viewer.get("/models").get_data(as_text=True))
    total = re.search(r"<th>All models</th>(?:<th[^>]*>[^<]*</th>){4}<th[^>]*>([^<]+)<", models)
    assert total and total.group(1) == f"{at_station:.1f} %"


def test_each_model_s_yield_is_its_units_yield(
    central_db: Database, accounts: object, tmp_path: Path
) -> None:
    units = todays_units(tmp_path)
    send(central_db, STATION, units)
    for summary in model_summaries(central_db, Filters()):
        mine = [u for u in units if (u.model or "") == summary.model]
        judged = [u for u in mine if u.status in (Status.PASS, Status.WARNING, Status.FAIL)]
        shipped = [u for u in judged if u.status is not Status.FAIL]
        expected = 100 * len(shipped) / len(judged) if judged else None
        assert summary.counts.yield_pct == expected, summary.model
