"""Dashboard figures: p50/p95 of the query layer behind each page, and a 10,000-row export.

Timed against a seeded PostgreSQL: the data layer alone (central/queries,
central/export), then the same views as real HTTP pages through the app
(routing, the session check, queries, statistics and SVG rendering). Each
iteration asks for another model, station or serial, so the figures are not
one cached answer.

Which database:
- default: a fresh database (LTA_BENCH_DATABASE_URL's server, the local
  server or an embedded one, as benchmarks/central.py) seeded here with
  LTA_BENCH_DASHBOARD_TRACKS tracks (default 100,000) from 20 stations,
  50 models over 365 days; the seeding rate and the database size are
  printed.
- the full issue size: seed once with
  `lta-central seed --tracks 1000000 --stations 20 --models 50 --days 365`
  (LTA_CENTRAL_DATABASE_URL pointing at an empty database), then run
  `LTA_BENCH_DASHBOARD_URL=<that url> python -m benchmarks.run dashboard`.
  That database is only read.
"""

from __future__ import annotations

import io
import os
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from flask.testing import FlaskClient
from loguru import logger

from benchmarks.central import fresh_database
from central.auth.audit import CLI
from central.auth.sessions import create_session
from central.auth.users import Role, add_user, get_user
from central.db import Database, migrate, open_database
from central.export import write_workbook
from central.queries import compare, fleet, models, units
from central.queries.filters import Filters
from central.seed import SeedPlan, SeedReport, seed
from central.web import create_app
from central.web.auth import SESSION_COOKIE
from central.web.context import AuthSettings, CentralContext, IngestLimits

DEFAULT_TRACKS = 100_000
ROUNDS = 30
EXPORT_ROUNDS = 5
EXPORT_ROWS = 10_000
PAGE_GOAL_MS, EXPORT_GOAL_S = 300, 5


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def _time(work: Callable[[int], object], rounds: int) -> list[float]:
    work(0)  # warm the pool and the plan cache once
    samples = []
    for i in range(rounds):
        start = time.perf_counter()
        work(i + 1)
        samples.append(time.perf_counter() - start)
    return samples


def _row(
    label: str, samples: list[float], goal_ms: float, layer: str = "query layer"
) -> tuple[str, str]:
    p50, p95 = _percentiles(samples)
    verdict = "ok" if p95 * 1000 <= goal_ms else "OVER"
    return (
        f"{label} [{layer}]",
        f"p50 {p50 * 1000:6.1f} ms  p95 {p95 * 1000:6.1f} ms  [{verdict}: p95 <= {goal_ms:.0f} ms]",
    )


def _busiest(db: Database, today: date) -> tuple[list[str], list[str], list[str]]:
    """The ten busiest models of the last 90 days, the stations, and some serials."""
    with db.pool.connection() as conn:
        top = [
            row[0]
            for row in conn.execute(
                "SELECT model FROM rollup_daily WHERE day > %s GROUP BY model "
                "ORDER BY SUM(tracks) DESC LIMIT 10",
                (today - timedelta(days=90),),
            )
        ]
        stations = [row[0] for row in conn.execute("SELECT name FROM stations ORDER BY name")]
        # A 1 % sample of pages spreads the serials over a big table; a small one may
        # sample no page at all, so it takes the first ones instead.
        serials = [
            row[0]
            for query in (
                "SELECT serial FROM results TABLESAMPLE SYSTEM (1) WHERE serial IS NOT NULL "
                "LIMIT 200",
                "SELECT serial FROM results WHERE serial IS NOT NULL LIMIT 200",
            )
            for row in conn.execute(query)
        ][:200]
    return top, stations, serials


def query_figures(db: Database, today: date) -> list[tuple[str, str]]:
    top, stations, serials = _busiest(db, today)
    rng = random.Random(7)
    window = Filters.last_days(90, today)
    now = datetime.now(UTC)

    def overview(_: int) -> None:
        fleet.fleet(db, today, now)
        models.model_summaries(db, Filters.last_days(7, today))

    def filtered_overview(i: int) -> None:  # the headline and rows of one model's year
        fleet.fleet(db, today, now, Filters.last_days(365, today, models=(top[i % len(top)],)))

    def model_page(i: int) -> None:
        model = top[i % len(top)]
        models.model_summaries(db, window.with_models(model))
        models.daily_counts(db, model, window)
        models.spc_series(db, model, window)
        models.fail_positions(db, model, window)
        models.near_misses(db, model, window)

    def comparison(i: int) -> None:
        compare.station_distributions(db, top[i % len(top)], window)

    def search(i: int) -> None:
        kind = i % 3
        if kind == 0:
            units.search_units(db, Filters(), serial=rng.choice(serials)[:4])
        elif kind == 1:
            units.search_units(db, Filters.last_days(30, today, models=(rng.choice(top),)))
        else:
            page = units.search_units(db, Filters(stations=(rng.choice(stations),)))
            if page.next_cursor:
                units.search_units(db, Filters(), cursor=page.next_cursor)

    def one_unit(i: int) -> None:
        page = units.search_units(db, Filters(), serial=serials[i % len(serials)], limit=1)
        if page.rows:
            units.unit(db, page.rows[0].result_id)

    return [
        _row("overview: fleet + models of the week", _time(overview, ROUNDS), PAGE_GOAL_MS),
        _row(
            "overview filtered: one model over a year",
            _time(filtered_overview, ROUNDS),
            PAGE_GOAL_MS,
        ),
        _row(
            "model page, 90 days: counts, SPC series, positions",
            _time(model_page, ROUNDS),
            PAGE_GOAL_MS,
        ),
        _row("station comparison, 90 days", _time(comparison, ROUNDS), PAGE_GOAL_MS),
        _row(
            "unit search: serial prefix / model / station",
            _time(search, ROUNDS),
            PAGE_GOAL_MS,
        ),
        _row("one unit: curves, passes, re-trims", _time(one_unit, ROUNDS), PAGE_GOAL_MS),
    ]


BENCH_USER = "bench-pages"


def _signed_in_client(db: Database) -> FlaskClient:
    """A viewer's session on the real app, as the sign-in page would open it.

    Adds the viewer `bench-pages` (and its audit entry) the first time; a
    session row is created directly, so no password is needed afterwards.
    """
    user = get_user(db, BENCH_USER)
    if user is None:
        user = add_user(db, BENCH_USER, Role.VIEWER, secrets.token_urlsafe(18), CLI)
    new = create_session(db, user.pk, timedelta(hours=1), "127.0.0.1")
    app = create_app(CentralContext(db=db, limits=IngestLimits(), auth=AuthSettings()))
    client = app.test_client()
    client.set_cookie(SESSION_COOKIE, new.token)
    return client


def page_figures(db: Database, today: date) -> list[tuple[str, str]]:
    """The same views through HTTP: routing, auth, queries, statistics and the SVG."""
    top, stations, serials = _busiest(db, today)
    client = _signed_in_client(db)
    window = f"from={today - timedelta(days=89)}&to={today}"
    rng = random.Random(11)

    def get(path: str) -> None:
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: HTTP {response.status_code}")

    def search(i: int) -> None:
        kind = i % 3
        if kind == 0:
            get(f"/units?serial={rng.choice(serials)[:4]}")
        elif kind == 1:
            get(f"/units?model={rng.choice(top)}&from={today - timedelta(days=29)}&to={today}")
        else:
            get(f"/units?station={rng.choice(stations)}")

    pages = [
        ("GET / (fleet overview)", lambda i: get("/")),
        ("GET /models (scorecards)", lambda i: get(f"/models?{window}")),
        ("GET /models?sort=cpk (scorecards, sorted)", lambda i: get(f"/models?{window}&sort=cpk")),
        (
            "GET /?model=&from=&to= (filtered overview)",
            lambda i: get(f"/?model={top[i % len(top)]}&{window}"),
        ),
        ("GET /models/<model>, 90 days", lambda i: get(f"/models/{top[i % len(top)]}?{window}")),
        (
            "GET /models/<model>/compare, 90 days",
            lambda i: get(f"/models/{top[i % len(top)]}/compare?{window}"),
        ),
        ("GET /units search: serial / model / station", search),
    ]
    return [
        _row(label, _time(work, ROUNDS), PAGE_GOAL_MS, layer="HTTP page") for label, work in pages
    ]


def export_figures(db: Database, today: date) -> list[tuple[str, str]]:
    samples, rows = [], 0
    for i in range(EXPORT_ROUNDS):
        filters = Filters.last_days(120 + 30 * i, today)  # each round another window
        out = io.BytesIO()
        start = time.perf_counter()
        result = write_workbook(db, filters, out, max_rows=EXPORT_ROWS)
        samples.append(time.perf_counter() - start)
        rows = result.rows
    p50, p95 = _percentiles(samples)
    verdict = "ok" if p95 <= EXPORT_GOAL_S else "OVER"
    return [
        (
            f"Excel export, {rows:,} rows [query layer + workbook]",
            f"p50 {p50:5.2f} s  p95 {p95:5.2f} s  [{verdict}: <= {EXPORT_GOAL_S} s]",
        )
    ]


def _size(db: Database) -> tuple[int, int, int]:
    with db.pool.connection() as conn:
        row = conn.execute(
            "SELECT pg_database_size(current_database()), "
            "(SELECT COUNT(*) FROM results), (SELECT COUNT(*) FROM tracks)"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def _measure(db: Database, where: str) -> list[tuple[str, str]]:
    size, results, tracks = _size(db)
    today = date.today()
    return [
        (
            f"database ({where})",
            f"{results:,} results / {tracks:,} tracks, {size / 1e9:.2f} GB",
        ),
        *query_figures(db, today),
        *page_figures(db, today),
        *export_figures(db, today),
    ]


@dataclass(frozen=True)
class BenchDatabase:
    db: Database
    where: str  # where it came from, for the figures' heading
    seeded: SeedReport | None  # None: the one LTA_BENCH_DASHBOARD_URL names (only read)
    tracks: int


@contextmanager
def bench_database() -> Iterator[BenchDatabase]:
    """The database the dashboard sections read (dashboard, api, priorities).

    LTA_BENCH_DASHBOARD_URL's, only read; else a fresh one seeded here with
    LTA_BENCH_DASHBOARD_TRACKS tracks (20 stations, 50 models, 365 days).
    """
    given = os.environ.get("LTA_BENCH_DASHBOARD_URL")
    if given:
        db = open_database(given, Path(tempfile.gettempdir()) / "lta-bench-unused", 1, 4)
        try:
            yield BenchDatabase(db, "LTA_BENCH_DASHBOARD_URL", None, 0)
        finally:
            db.close()
        return
    tracks = int(os.environ.get("LTA_BENCH_DASHBOARD_TRACKS", DEFAULT_TRACKS))
    with (
        tempfile.TemporaryDirectory(prefix="lta-bench-") as tmp,
        fresh_database(Path(tmp)) as (url, where),
    ):
        db = open_database(url, Path(tmp) / "unused", 1, 4)
        logger.disable("central")  # "Applied database migration ..." is not a figure
        try:
            migrate(db)
            report = seed(db, SeedPlan(tracks=tracks, stations=20, models=50, days=365))
            yield BenchDatabase(db, f"seeded here, {where}", report, tracks)
        finally:
            logger.enable("central")
            db.close()


def run() -> list[tuple[str, str]]:
    with bench_database() as bench:
        if bench.seeded is None:
            return _measure(bench.db, bench.where)
        report = bench.seeded
        seeded = (
            f"lta-central seed --tracks {bench.tracks} --stations 20 --models 50 --days 365",
            f"{report.tracks_per_s:7.0f} tracks/s ({report.seconds:.0f} s), "
            f"{report.database_bytes / 1e9:.2f} GB",
        )
        return [seeded, *_measure(bench.db, bench.where)]
