"""The read API: p50/p95 of every /api/v1 figure through the real app (issue 17: <= 300 ms).

Each endpoint is asked as a tool would ask it, over the Flask app with a
viewer's session (routing, the access check, the pages' queries and
statistics, the pydantic body and its JSON or CSV), each round for another
model, station or serial, so the figures are not one cached answer.

Which database: as benchmarks/dashboard.py. With LTA_BENCH_DASHBOARD_URL
(the seeded year: `lta-central seed --tracks 1000000 --stations 20 --models 50
--days 365`) it is only read, apart from the viewer's session row that
dashboard.py adds too; otherwise a fresh database is seeded here with
LTA_BENCH_DASHBOARD_TRACKS tracks (default 100,000).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta

from benchmarks.dashboard import (
    PAGE_GOAL_MS,
    ROUNDS,
    _busiest,
    _row,
    _signed_in_client,
    _time,
    bench_database,
)
from central.db import Database

API_GOAL_MS = PAGE_GOAL_MS


def api_figures(db: Database, today: date) -> list[tuple[str, str]]:
    top, stations, serials = _busiest(db, today)
    client = _signed_in_client(db)
    window = f"from={today - timedelta(days=89)}&to={today}"
    rng = random.Random(17)
    ids: list[str] = []

    def get(path: str) -> None:
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: HTTP {response.status_code}")
        if path.startswith("/api/v1/units?") and "format=csv" not in path:
            ids.extend(row["result_id"] for row in response.get_json()["rows"][:3])

    def units(i: int) -> None:
        kind = i % 3
        if kind == 0:
            get(f"/api/v1/units?serial={rng.choice(serials)[:4]}")
        elif kind == 1:
            get(f"/api/v1/units?model={rng.choice(top)}&from={today - timedelta(days=29)}")
        else:
            get(f"/api/v1/units?station={rng.choice(stations)}&limit=500")

    def one_unit(i: int) -> None:
        if not ids:
            units(i)
        get(f"/api/v1/units/{ids[i % len(ids)]}")

    def model(i: int) -> str:
        return top[i % len(top)]

    endpoints: list[tuple[str, Callable[[int], None]]] = [
        ("GET /api/v1/overview", lambda i: get("/api/v1/overview")),
        (
            "GET /api/v1/overview?station=&model=",
            lambda i: get(
                f"/api/v1/overview?station={stations[i % len(stations)]}&model={model(i)}"
            ),
        ),
        ("GET /api/v1/stations?format=csv", lambda i: get("/api/v1/stations?format=csv")),
        ("GET /api/v1/alarms (open)", lambda i: get("/api/v1/alarms")),
        (
            "GET /api/v1/alarms?state=acknowledged&format=csv",
            lambda i: get("/api/v1/alarms?state=acknowledged&limit=500&format=csv"),
        ),
        ("GET /api/v1/models, 90 days", lambda i: get(f"/api/v1/models?{window}")),
        (
            "GET /api/v1/models?format=csv, 90 days",
            lambda i: get(f"/api/v1/models?{window}&format=csv"),
        ),
        (
            "GET /api/v1/models/<model>, 90 days, 2,000 points",
            lambda i: get(f"/api/v1/models/{model(i)}?{window}"),
        ),
        (
            "GET /api/v1/models/<model>/stations, 90 days",
            lambda i: get(f"/api/v1/models/{model(i)}/stations?{window}"),
        ),
        ("GET /api/v1/units: serial / model / station", units),
        ("GET /api/v1/units/<result_id>", one_unit),
        ("GET /api/v1/priorities, 28 days", lambda i: get("/api/v1/priorities")),
        ("GET /api/v1/openapi.json", lambda i: get("/api/v1/openapi.json")),
    ]
    return [
        _row(label, _time(work, ROUNDS), API_GOAL_MS, layer="HTTP API") for label, work in endpoints
    ]


def run() -> list[tuple[str, str]]:
    with bench_database() as bench:
        heading = [] if bench.seeded is None else [(f"seeded here: {bench.tracks:,} tracks", "")]
        return [*heading, *api_figures(bench.db, date.today())]
