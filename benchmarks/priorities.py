"""The priorities page: p50/p95 of its figures (query layer) and of the page over HTTP.

Each round asks for another selection, so no answer is served from a cache of
ours: the default four weeks, 90 days, the whole year, one station, one model,
and the four weeks ranked by cost (a few models priced first). The windows end on
the newest production day the database holds (today on a database seeded up to
now). Goal: p95 within
300 ms on the seeded year (1,000,000 tracks), as every dashboard page.

Which database: LTA_BENCH_DASHBOARD_URL (migrated to this version: the page
reads `model_costs`, migration 010; only read, except the bench viewer's
session as benchmarks/dashboard.py adds it), else a fresh one seeded here with
LTA_BENCH_DASHBOARD_TRACKS tracks (default 100,000) from 20 stations and 50
models over 365 days, with costs set on five models.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from urllib.parse import urlencode

from benchmarks.dashboard import (
    PAGE_GOAL_MS,
    ROUNDS,
    _busiest,
    _row,
    _signed_in_client,
    _size,
    _time,
    bench_database,
)
from central.alarms.rules import AlarmSettings
from central.auth.audit import CLI
from central.db import Database
from central.priorities.costs import set_cost
from central.priorities.page import gather
from central.queries import spec_groups
from central.queries.filters import Filters


def _selections(db: Database, today: date) -> list[tuple[str, Filters, str]]:
    """(URL query, filters, rank) of each round's selection, in turn."""
    top, stations, _ = _busiest(db, today)
    four = Filters.last_days(28, today)
    chosen = [
        (four, "fails"),
        (Filters.last_days(90, today), "fails"),
        (Filters.last_days(365, today), "fails"),
        (four, "cost"),
    ]
    if stations:
        chosen.append((Filters.last_days(28, today, stations=(stations[0],)), "fails"))
    if top:
        chosen.append((Filters.last_days(28, today, models=(top[0],)), "fails"))
    return [(urlencode([*f.to_query(), ("rank", rank)]), f, rank) for f, rank in chosen]


def figures(db: Database, today: date) -> list[tuple[str, str]]:
    selections = _selections(db, today)
    settings = AlarmSettings()

    def query_layer(i: int) -> None:
        _, filters, rank = selections[i % len(selections)]
        window = (filters.start or today, filters.end or today)
        gather(db, filters, spec_groups.spec_classes(db), rank, window, settings, today)

    client = _signed_in_client(db)

    def page(i: int) -> None:
        query = selections[i % len(selections)][0]
        response = client.get(f"/priorities?{query}")
        if response.status_code != 200:
            raise RuntimeError(f"/priorities?{query}: HTTP {response.status_code}")

    rounds: list[tuple[str, Callable[[int], None], str]] = [
        ("priorities: ranking, Pareto, weeks, recommendations", query_layer, "query layer"),
        ("GET /priorities (4 weeks, 90 days, year, station, model)", page, "HTTP page"),
    ]
    return [_row(label, _time(work, ROUNDS), PAGE_GOAL_MS, layer) for label, work, layer in rounds]


def newest_day(db: Database, today: date) -> date:
    """The newest production day with units, up to today: the windows end there, so a
    database seeded up to some earlier day is measured on its data, not on empty weeks."""
    with db.pool.connection() as conn:
        row = conn.execute("SELECT MAX(day) FROM rollup_daily WHERE day <= %s", (today,)).fetchone()
    return row[0] if row and row[0] is not None else today


def _measure(db: Database, where: str) -> list[tuple[str, str]]:
    size, results, tracks = _size(db)
    with db.pool.connection() as conn:
        rows = conn.execute("SELECT COUNT(*), SUM(tracks) FROM rollup_daily").fetchone()
    rollups, counted = (int(rows[0]), int(rows[1] or 0)) if rows else (0, 0)
    end = newest_day(db, date.today())
    return [
        (f"database ({where})", f"{results:,} results / {tracks:,} tracks, {size / 1e9:.2f} GB"),
        ("rollups read by the page", f"{rollups:,} day rows counting {counted:,} tracks"),
        ("windows end on", end.isoformat()),
        *figures(db, end),
    ]


def run() -> list[tuple[str, str]]:
    with bench_database() as bench:
        if bench.seeded is not None:  # a database of our own: price a few models too
            top, _, _ = _busiest(bench.db, date.today())
            for rank, model in enumerate(top[:5]):
                set_cost(bench.db, model, str(5 * (rank + 1)), CLI)
        return _measure(bench.db, bench.where)
