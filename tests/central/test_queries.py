"""The dashboard's query functions against a real PostgreSQL filled through the ingest.

One database per module holds three stations: line-1 sent every analysed file
(simulated and real station files) spread over a few weeks and a heartbeat
over real HTTP, line-2 re-trimmed some of the same serials, line-3 never sent
anything. Every expectation is computed here in Python from what was sent.
"""

from __future__ import annotations

import gzip
import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import numpy as np
import pytest

from central.db import Database
from central.queries import compare, fleet, models, units
from central.queries.counts import StatusCounts
from central.queries.filters import Filters, QueryError, QueryErrorCode
from central.rollup_columns import FAIL_BINS
from central.stations import add_station
from central.web import create_app
from central.web.context import CentralContext, IngestLimits
from shared.ids import result_id
from shared.models import ErrorInfo, FileResult, Status
from shared.protocol import HEARTBEAT_PATH, PROTOCOL_VERSION, Heartbeat
from tests.central.data_helpers import (
    analysed_files,
    batch_of,
    ingest,
    renamed,
)
from tests.conftest import migrated_database

TODAY = date(2025, 3, 12)  # a Wednesday: its week began on Monday the 10th
NOW = datetime(2025, 3, 12, 15, 0, tzinfo=UTC)
OFFSETS = (0, 0, 1, 2, 3, 9, 20, 40)  # days before TODAY, by file index
LINE_1, LINE_2, LINE_3 = "line-1", "line-2", "line-3"


@dataclass(frozen=True)
class Sent:
    station: str
    result: FileResult
    protocol: int

    @property
    def rid(self) -> UUID:
        assert self.result.sha256 is not None
        return UUID(result_id(self.station, self.result.sha256))

    @property
    def made_at(self) -> datetime:
        assert self.result.test_date is not None
        return self.result.test_date


@dataclass(frozen=True)
class World:
    db: Database
    sent: list[Sent]
    originals: dict[UUID, FileResult]  # with curves, as analysed


def _dated(result: FileResult, index: int) -> FileResult:
    day = TODAY - timedelta(days=OFFSETS[index % len(OFFSETS)])
    moment = datetime.combine(day, datetime.min.time()) + timedelta(hours=7, minutes=7 * index)
    return result.model_copy(update={"test_date": moment})


def _short_track(result: FileResult) -> FileResult:
    """A unit whose only track could not be analysed (an Error track without metrics)."""
    track = result.tracks[0].model_copy(
        update={
            "status": Status.ERROR,
            "error": ErrorInfo(code="insufficient_points", message="6 points; at least 10"),
            "sigma_gradient": None,
            "sigma_threshold": None,
            "sigma_pass": None,
            "linearity_error": None,
            "linearity_pass": None,
            "optimal_offset": None,
            "fail_points": None,
            "raw_fail_points": None,
            "margin_to_spec": None,
            "near_miss": False,
            "curve": None,
            "passes": [],
        }
    )
    return renamed(result, "short", status=Status.ERROR, tracks=[track])


@pytest.fixture(scope="module")
def world(postgres_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    files = analysed_files(tmp_path_factory.mktemp("station"), count=10, seed=11)
    line_1 = [_dated(r, i) for i, r in enumerate(files)]
    line_1.append(_dated(_short_track(files[0]), 1))
    retrims = [  # the same serials again at line-2, later: re-trimmed units
        _dated(renamed(r, "retrim"), i).model_copy(
            update={"test_date": _dated(r, i).test_date + timedelta(hours=3)}  # type: ignore[operator]
        )
        for i, r in enumerate(files[:6])
    ]
    sent = [Sent(LINE_1, r, 2) for r in line_1[:12]]
    sent += [Sent(LINE_1, r, 1) for r in line_1[12:]]  # an agent of protocol 1 sent the rest
    sent += [Sent(LINE_2, r, 2) for r in retrims]
    for db in migrated_database(postgres_admin_url, tmp_path_factory.mktemp("unused-pg")):
        token = add_station(db, LINE_1)
        ingest(db, batch_of(line_1[:12], LINE_1))
        ingest(db, batch_of(line_1[12:], LINE_1, protocol=1))
        ingest(db, batch_of(retrims, LINE_2))
        add_station(db, LINE_3)
        _heartbeat(db, token)
        originals = {s.rid: s.result for s in sent}
        yield World(db, sent, originals)


def _heartbeat(db: Database, token: str) -> None:
    app = create_app(CentralContext(db=db, limits=IngestLimits()))
    beat = Heartbeat(
        protocol_version=PROTOCOL_VERSION,
        station_id=LINE_1,
        agent_version="0.2.0",
        sent_at=NOW,
        outbox_pending=17,
        oldest_undelivered_age_s=95.0,
        dead_letters=2,
        last_error="central unreachable",
    )
    response = app.test_client().post(
        HEARTBEAT_PATH,
        data=gzip.compress(beat.model_dump_json().encode()),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)


def expected_counts(sent: list[Sent]) -> StatusCounts:
    statuses = Counter(s.result.status for s in sent)
    return StatusCounts(
        results=len(sent),
        passes=statuses[Status.PASS],
        warnings=statuses[Status.WARNING],
        fails=statuses[Status.FAIL],
        errors=statuses[Status.ERROR],
        skipped=statuses[Status.SKIPPED],
        tracks=sum(len(s.result.tracks) for s in sent),
        near_misses=sum(t.near_miss for s in sent for t in s.result.tracks),
        anomalies=sum(t.is_anomaly for s in sent for t in s.result.tracks),
    )


def in_window(sent: list[Sent], filters: Filters) -> list[Sent]:
    return [
        s
        for s in sent
        if (filters.start is None or s.made_at.date() >= filters.start)
        and (filters.end is None or s.made_at.date() <= filters.end)
        and (not filters.stations or s.station in filters.stations)
        and (not filters.models or s.result.model in filters.models)
    ]


def busiest_model(world: World) -> str:
    return Counter(s.result.model for s in world.sent).most_common(1)[0][0] or ""


# --------------------------------------------------------------------------- fleet


def test_fleet_lists_every_station_with_contact_outbox_and_yields(world: World) -> None:
    overview = fleet.fleet(world.db, TODAY, NOW)

    assert [s.name for s in overview.stations] == [LINE_1, LINE_2, LINE_3]
    assert (overview.span_start, overview.span_end, overview.day) == (
        date(2025, 3, 10),
        TODAY,
        TODAY,
    )
    assert not overview.chosen
    one, two, three = overview.stations
    assert (one.agent_version, one.outbox_pending, one.outbox_oldest_age_s) == ("0.2.0", 17, 95.0)
    assert (one.dead_letters, one.last_error) == (2, "central unreachable")
    assert two.agent_version == "0.1.0-test"  # no heartbeat yet: its latest result says
    assert two.outbox_pending is None and two.last_heartbeat_at is None
    assert three.agent_version is None and three.last_contact is None
    assert three.silent_for_s is None and three.day == StatusCounts()
    assert one.last_contact is not None
    assert one.silent_for_s == pytest.approx((NOW - one.last_contact).total_seconds(), abs=1e-3)

    for status in (one, two):
        mine = [s for s in world.sent if s.station == status.name]
        today = [s for s in mine if s.made_at.date() == TODAY]
        week = [s for s in mine if date(2025, 3, 10) <= s.made_at.date() <= TODAY]
        assert status.day == expected_counts(today)
        assert status.span == expected_counts(week)
    day, span = overview.total()
    assert day == one.day + two.day
    assert span.results == one.span.results + two.span.results
    assert overview.total((LINE_1,)) == (one.day, one.span)


def test_yield_counts_only_units_with_a_verdict() -> None:
    counts = StatusCounts(results=10, passes=6, warnings=1, fails=1, errors=2)
    assert counts.verdicts == 8
    assert counts.yield_pct == pytest.approx(87.5)  # (6 + 1) / 8: a warning passes
    assert StatusCounts(results=3, errors=3).yield_pct is None  # errors are not passes


def test_fleet_refuses_a_naive_now(world: World) -> None:
    with pytest.raises(QueryError) as refused:
        fleet.fleet(world.db, TODAY, NOW.replace(tzinfo=None))
    assert refused.value.code == QueryErrorCode.INVALID_FILTER


# --------------------------------------------------------------------------- models


def test_model_summaries_count_every_model_in_the_window(world: World) -> None:
    window = Filters.last_days(14, TODAY)
    summaries = {s.model: s for s in models.model_summaries(world.db, window)}
    chosen = in_window(world.sent, window)
    assert set(summaries) == {s.result.model or "" for s in chosen}
    for name, summary in summaries.items():
        mine = [s for s in chosen if s.result.model == name]
        assert summary.counts == expected_counts(mine)
        assert summary.stations == len({s.station for s in mine})
        assert summary.first_day == min(s.made_at.date() for s in mine)
        sigma = [t.sigma_gradient for s in mine for t in s.result.tracks if t.sigma_gradient]
        assert summary.sigma.n == len(sigma)
        if len(sigma) > 1:
            assert summary.sigma.mean == pytest.approx(np.mean(sigma), rel=1e-9)
            assert summary.sigma.sd == pytest.approx(np.std(sigma, ddof=1), rel=1e-6)


def test_model_summaries_filter_by_station(world: World) -> None:
    only_two = Filters(stations=(LINE_2,))
    summaries = models.model_summaries(world.db, only_two)
    assert sum(s.counts.results for s in summaries) == len(in_window(world.sent, only_two))


def test_daily_counts_per_day_and_station(world: World) -> None:
    model = busiest_model(world)
    window = Filters.last_days(60, TODAY)
    rows = models.daily_counts(world.db, model, window)
    expected: dict[tuple[date, str], list[Sent]] = {}
    for s in in_window(world.sent, window.with_models(model)):
        expected.setdefault((s.made_at.date(), s.station), []).append(s)
    assert [(r.day, r.station) for r in rows] == sorted(expected)
    for row in rows:
        assert row.counts == expected_counts(expected[(row.day, row.station)])


def test_spc_series_is_every_analysed_track_in_production_order(world: World) -> None:
    model = busiest_model(world)
    window = Filters.last_days(60, TODAY)
    series = models.spc_series(world.db, model, window)
    chosen = in_window(world.sent, window.with_models(model))
    expected = sorted(
        (s.made_at, str(s.rid), t.track_id, t.sigma_gradient, t.linearity_error)
        for s in chosen
        for t in s.result.tracks
        if t.sigma_gradient is not None
    )
    got = [
        (p.made_at, str(p.result_id), p.track_id, p.sigma_gradient, p.linearity_error)
        for p in series.points
    ]
    assert got == expected
    assert not series.truncated
    assert series.left_out == sum(
        1 for s in chosen for t in s.result.tracks if t.sigma_gradient is None
    )


def test_spc_series_keeps_the_latest_points_under_a_limit(world: World) -> None:
    model = busiest_model(world)
    window = Filters.last_days(60, TODAY)
    full = models.spc_series(world.db, model, window)
    assert len(full.points) > 3
    latest = models.spc_series(world.db, model, window, limit=3)
    assert latest.truncated
    assert latest.points == full.points[-3:]
    one_station = models.spc_series(world.db, model, Filters(stations=(LINE_2,)))
    assert {p.station for p in one_station.points} <= {LINE_2}
    with pytest.raises(QueryError):
        models.spc_series(world.db, model, window, limit=0)


def test_a_window_ends_with_its_last_day(world: World) -> None:
    model = busiest_model(world)
    for days in (1, 2, 4, 10):
        window = Filters.last_days(days, TODAY)
        series = models.spc_series(world.db, model, window)
        assert all(window.start <= p.made_at.date() <= TODAY for p in series.points)  # type: ignore[operator]
        assert len(series.points) == sum(
            len([t for t in s.result.tracks if t.sigma_gradient is not None])
            for s in in_window(world.sent, window.with_models(model))
        )


def test_fail_positions_sum_the_failing_points_of_the_window(world: World) -> None:
    window = Filters(start=TODAY - timedelta(days=60), end=TODAY)
    failing = [
        (s, t) for s in in_window(world.sent, window) for t in s.result.tracks if t.fail_points
    ]
    assert failing
    for model in {s.result.model or "" for s, _ in failing}:
        found = models.fail_positions(world.db, model, window)
        mine = [(s, t) for s, t in failing if s.result.model == model]
        assert sum(found.points) == sum(t.fail_points or 0 for _, t in mine)
        assert len(found.points) == FAIL_BINS
        assert sum(sum(b) for b in found.by_station.values()) == sum(found.points)
        assert set(found.by_station) == {s.station for s, _ in mine}
        assert max(found.tracks) <= len(mine)
    nothing = models.fail_positions(world.db, "no-such-model", window)
    assert nothing.points == (0,) * FAIL_BINS and nothing.by_station == {}


def test_near_misses_per_station(world: World) -> None:
    window = Filters.last_days(60, TODAY)
    for model in {s.result.model or "" for s in world.sent}:
        rows = models.near_misses(world.db, model, window)
        mine = in_window(world.sent, window.with_models(model))
        expected = {}
        for s in mine:
            near, tracks = expected.get(s.station, (0, 0))
            expected[s.station] = (
                near + sum(t.near_miss for t in s.result.tracks),
                tracks + len(s.result.tracks),
            )
        assert {r.station: (r.near_misses, r.tracks) for r in rows} == expected


# --------------------------------------------------------------------------- comparison


def test_station_distributions_match_numpy(world: World) -> None:
    model = busiest_model(world)
    window = Filters.last_days(60, TODAY)
    found = compare.station_distributions(world.db, model, window)
    chosen = in_window(world.sent, window.with_models(model))
    assert [d.station for d in found] == sorted({s.station for s in chosen})
    for dist in found:
        mine = sorted(
            (
                (s.made_at, str(s.rid), t.track_id, t)
                for s in chosen
                if s.station == dist.station
                for t in s.result.tracks
                if t.status in (Status.PASS, Status.WARNING, Status.FAIL)
            ),
            key=lambda entry: entry[:3],
        )
        for measured, values in (
            (dist.sigma, [e[3].sigma_gradient for e in mine]),
            (dist.linearity, [e[3].linearity_error for e in mine]),
        ):
            array = np.array(values, dtype=float)
            assert measured.n == array.size
            assert measured.mean == pytest.approx(array.mean(), rel=1e-9)
            if array.size > 1:
                assert measured.sd == pytest.approx(array.std(ddof=1), rel=1e-6)
            quantiles = np.quantile(array, compare.PERCENTILES)  # linear, like percentile_cont
            got = [
                measured.minimum,
                measured.p05,
                measured.p25,
                measured.median,
                measured.p75,
                measured.p95,
                measured.maximum,
            ]
            assert got == pytest.approx(list(quantiles), rel=1e-9)
            assert measured.values == pytest.approx(values)  # oldest first
            assert not measured.values_capped


def test_station_distributions_cap_the_raw_values_to_the_latest(world: World) -> None:
    model = busiest_model(world)
    window = Filters.last_days(60, TODAY)
    full = {d.station: d for d in compare.station_distributions(world.db, model, window)}
    capped = compare.station_distributions(world.db, model, window, values_cap=2)
    for dist in capped:
        assert dist.sigma.values == full[dist.station].sigma.values[-2:]
        assert dist.sigma.median == full[dist.station].sigma.median  # over every track
        assert dist.sigma.values_capped == (full[dist.station].sigma.n > 2)
    with pytest.raises(QueryError):
        compare.station_distributions(world.db, model, window, values_cap=0)


# --------------------------------------------------------------------------- units


def test_search_by_serial_prefix_ignores_case(world: World) -> None:
    target = next(s for s in world.sent if s.result.serial and len(s.result.serial) > 1)
    serial = target.result.serial or ""
    page = units.search_units(world.db, Filters(), serial=serial[:-1].swapcase())
    expected = [
        s for s in world.sent if (s.result.serial or "").lower().startswith(serial[:-1].lower())
    ]
    assert {r.result_id for r in page.rows} == {s.rid for s in expected}
    assert all(r.serial and r.serial.lower().startswith(serial[:-1].lower()) for r in page.rows)
    assert units.search_units(world.db, Filters(), serial="%").rows == []  # not a wildcard


def test_a_serial_search_lists_by_serial_then_newest_first_across_pages(world: World) -> None:
    seen: list[units.UnitRow] = []
    cursor = None
    prefix = min(  # the first character most serials share
        {(s.result.serial or "")[:1] for s in world.sent if s.result.serial},
        key=lambda p: (
            -sum((s.result.serial or "").lower().startswith(p.lower()) for s in world.sent)
        ),
    )
    while True:
        page = units.search_units(
            world.db, Filters(), serial=prefix.lower(), cursor=cursor, limit=2
        )
        seen += page.rows
        cursor = page.next_cursor
        if cursor is None:
            break
    matching = [s for s in world.sent if (s.result.serial or "").lower().startswith(prefix.lower())]
    assert len(matching) > 4  # several pages
    newest_first = sorted(matching, key=lambda s: (s.made_at, s.rid), reverse=True)
    expected = sorted(newest_first, key=lambda s: (s.result.serial or "").lower())  # stable
    assert [r.result_id for r in seen] == [s.rid for s in expected]


def test_search_pages_through_everything_newest_first(world: World) -> None:
    seen: list[units.UnitRow] = []
    cursor = None
    while True:
        page = units.search_units(world.db, Filters(), cursor=cursor, limit=4)
        seen += page.rows
        cursor = page.next_cursor
        if cursor is None:
            break
        assert len(page.rows) == 4
    assert [r.result_id for r in seen] == [
        s.rid for s in sorted(world.sent, key=lambda s: (s.made_at, s.rid), reverse=True)
    ]
    first = seen[0]
    original = world.originals[first.result_id]
    assert (first.model, first.serial, first.status) == (
        original.model,
        original.serial,
        original.status.value,
    )
    assert first.tracks == len(original.tracks)


def test_search_filters_by_model_station_and_dates(world: World) -> None:
    model = busiest_model(world)
    filters = Filters(
        start=TODAY - timedelta(days=3), end=TODAY, stations=(LINE_1,), models=(model,)
    )
    page = units.search_units(world.db, filters, limit=500)
    assert {r.result_id for r in page.rows} == {s.rid for s in in_window(world.sent, filters)}
    assert page.next_cursor is None


def test_search_refuses_a_cursor_it_did_not_give(world: World) -> None:
    with pytest.raises(QueryError) as refused:
        units.search_units(world.db, Filters(), cursor="yesterday_at_noon")
    assert refused.value.code == QueryErrorCode.INVALID_CURSOR
    with pytest.raises(QueryError):
        units.search_units(world.db, Filters(), limit=10_000)
    with pytest.raises(QueryError):
        units.search_units(world.db, Filters(), serial="x" * 200)


def test_a_unit_has_its_exact_curves_every_pass_and_its_retrims(world: World) -> None:
    target = next(
        s
        for s in world.sent
        if s.station == LINE_1
        and s.protocol == 2
        and any(len(t.passes) > 2 for t in s.result.tracks)
    )
    found = units.unit(world.db, target.rid)
    assert found is not None
    assert found.row.station == LINE_1 and found.row.made_at == target.made_at
    assert found.agent_version == "0.1.0-test"
    assert found.result.tracks == target.result.tracks  # curves and pass curves bit-exact
    retrims = [
        s
        for s in world.sent
        if s.result.serial == target.result.serial and s.result.model == target.result.model
    ]
    assert [r.result_id for r in found.retrims] == [
        s.rid for s in sorted(retrims, key=lambda s: (s.made_at, s.rid))
    ]
    assert len({r.station for r in found.retrims}) == 2  # re-trimmed at the other station


def test_a_protocol_1_unit_has_its_curve_and_no_passes(world: World) -> None:
    target = next(s for s in world.sent if s.protocol == 1 and s.result.tracks)
    found = units.unit(world.db, target.rid)
    assert found is not None
    for track, original in zip(found.result.tracks, target.result.tracks, strict=True):
        assert track.passes == []
        assert track.curve == original.curve


def test_an_unknown_unit_is_none(world: World) -> None:
    assert units.unit(world.db, UUID(int=0)) is None


# --------------------------------------------------------------------------- filters


def test_filters_round_trip_through_the_url() -> None:
    filters = Filters(date(2025, 1, 1), date(2025, 3, 31), ("line-1", "line-2"), ("8340-1",))
    assert Filters.from_query(filters.to_query()) == filters
    pairs = [("from", " 2025-01-01 "), ("station", "a"), ("station", "a"), ("to", ""), ("x", "1")]
    assert Filters.from_query(pairs) == Filters(start=date(2025, 1, 1), stations=("a",))


@pytest.mark.parametrize(
    ("pairs", "says"),
    [
        ([("from", "12/03/2025")], "YYYY-MM-DD"),
        ([("from", "2025-03-12"), ("to", "2025-03-01")], "after it ends"),
        ([("from", "1990-01-01"), ("to", "2025-01-01")], "at most"),
        ([("station", "s" * 200)], "1 to 128"),
        ([("model", str(i)) for i in range(60)], "At most 50"),
    ],
)
def test_filters_refuse_what_they_cannot_use(pairs: list[tuple[str, str]], says: str) -> None:
    with pytest.raises(QueryError) as refused:
        Filters.from_query(pairs)
    assert says in refused.value.message
    assert refused.value.code == QueryErrorCode.INVALID_FILTER
    assert str(refused.value).startswith("invalid_filter: ")


def test_an_empty_window_gives_empty_answers(world: World) -> None:
    empty = Filters(start=date(2001, 1, 1), end=date(2001, 1, 31))
    model = busiest_model(world)
    assert models.model_summaries(world.db, empty) == []
    assert models.daily_counts(world.db, model, empty) == []
    assert models.spc_series(world.db, model, empty).points == []
    assert compare.station_distributions(world.db, model, empty) == []
    assert units.search_units(world.db, empty).rows == []
    assert math.isclose(sum(models.fail_positions(world.db, model, empty).points), 0)


def test_weekly_spread_is_the_mean_and_sd_of_each_week(world: World) -> None:
    model = busiest_model(world)
    window = Filters.last_days(60, TODAY)
    weeks = models.weekly_spread(world.db, model, window)
    by_week: dict[date, list[float]] = {}
    for s in in_window(world.sent, window.with_models(model)):
        monday = s.made_at.date() - timedelta(days=s.made_at.weekday())
        by_week.setdefault(monday, []).extend(
            t.linearity_error / t.linearity_spec
            for t in s.result.tracks
            if t.linearity_error is not None and t.linearity_spec
        )
    assert [w.week for w in weeks] == sorted(by_week)
    for week in weeks:
        ratios = np.array(by_week[week.week])
        assert week.linearity_ratio.n == ratios.size
        if ratios.size:
            assert week.linearity_ratio.mean == pytest.approx(ratios.mean(), rel=1e-9)
        if ratios.size > 1:
            assert week.linearity_ratio.sd == pytest.approx(ratios.std(ddof=1), rel=1e-6)


def test_spc_series_says_how_many_tracks_it_left_out(world: World) -> None:
    short = next(s for s in world.sent if s.result.tracks and s.result.tracks[0].error)
    model = short.result.model or ""
    series = models.spc_series(world.db, model, Filters.last_days(60, TODAY))
    assert series.left_out == 1  # the unit whose track could not be analysed
    assert short.rid not in {p.result_id for p in series.points}
