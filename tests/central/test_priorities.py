"""The priorities page and its reads: ranking, cost, week against the four before,
failing positions, filters, and who may set a cost, on a real PostgreSQL through the
real app (Flask test client). Rollup rows are written with known sums
(tests/central/priorities_helpers.py), so every expected figure is worked out by hand.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from central.alarms.rows import AlarmKind, Finding, apply_findings
from central.auth.audit import CLI, Action
from central.db import Database
from central.priorities import queries
from central.priorities.costs import CostError, clear_cost, parse_cost, set_cost, unit_costs
from central.priorities.queries import Weeks
from central.priorities.weekly import changes
from central.queries.filters import Filters
from central.specs import store
from central.specs.record import SpecRow
from tests.central.auth_helpers import (
    ADMIN,
    ADMIN_PASSWORD,
    VIEWER,
    VIEWER_PASSWORD,
    Accounts,
    audit_rows,
    make_client,
    page_csrf,
    signed_in,
)
from tests.central.priorities_helpers import bin_rows, day_row, station_pk

END = date(2025, 6, 30)  # a Monday; "this week" is 2025-06-24 .. 2025-06-30
WINDOW = Filters(END - timedelta(days=27), END)


def text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def listed(page: str, table: str, attribute: str) -> list[str]:
    found = re.search(rf'<table[^>]*id="{table}".*?</table>', page, re.S)
    assert found, f"no table {table}"
    return re.findall(rf'<tr data-{attribute}="([^"]*)"', found.group(0))


@pytest.fixture
def three_models(central_db: Database) -> Database:
    """A: 30 of 1000 fail (line-1); B: 20 of 100 (line-2); C: 30 of 500 (both lines)."""
    day = END - timedelta(days=3)
    day_row(central_db, "line-1", "A", day, passes=950, warnings=20, fails=30)
    day_row(central_db, "line-2", "B", day, passes=80, fails=20)
    day_row(central_db, "line-1", "C", day, passes=230, fails=20, errors=5)
    day_row(central_db, "line-2", "C", day, passes=235, fails=10)
    return central_db


def test_models_rank_by_failing_units_then_volume(three_models: Database) -> None:
    ranked = queries.rankings(three_models, WINDOW)[0]
    assert [r.name for r in ranked] == ["A", "C", "B"]  # 30 (1000 units), 30 (500), 20
    a, c, b = ranked
    assert (a.counts.fails, a.fleet_fails) == (30, 80)
    assert a.fail_share_pct == pytest.approx(37.5)
    assert b.counts.yield_pct == pytest.approx(80.0)
    # Yield is the one definition's (StatusCounts.yield_pct), over these counts.
    assert (a.counts.passes, a.counts.warnings, a.counts.results) == (950, 20, 1000)
    assert (c.counts.errors, c.counts.verdicts) == (5, 495)  # errors counted apart
    assert all(r.cost is None for r in ranked)
    stations = queries.rankings(three_models, WINDOW)[1]
    assert [(s.name, s.counts.fails) for s in stations] == [("line-1", 50), ("line-2", 30)]


def test_costs_rank_priced_failures_first_and_sum_per_station(three_models: Database) -> None:
    set_cost(three_models, "B", "100", CLI)
    set_cost(three_models, "A", "1.5", CLI)
    ranked = queries.rankings(three_models, WINDOW, rank="cost")[0]
    assert [(r.name, r.cost) for r in ranked] == [
        ("B", Decimal("2000")),
        ("A", Decimal("45")),
        ("C", None),  # no cost: after the priced ones
    ]
    stations = {s.name: s for s in queries.rankings(three_models, WINDOW, "cost")[1]}
    assert stations["line-1"].cost == Decimal("45") and stations["line-1"].unpriced_fails == 20
    assert stations["line-2"].cost == Decimal("2000") and stations["line-2"].unpriced_fails == 10


def test_filters_narrow_every_ranking(three_models: Database) -> None:
    one = WINDOW.__class__(WINDOW.start, WINDOW.end, stations=("line-2",))
    assert [r.name for r in queries.rankings(three_models, one)[0]] == ["B", "C"]
    assert queries.rankings(three_models, one)[0][0].fleet_fails == 30
    assert [r.name for r in queries.rankings(three_models, WINDOW.with_models("C"))[1]] == [
        "line-1",
        "line-2",
    ]
    before = Filters(END - timedelta(days=60), END - timedelta(days=30))
    assert queries.rankings(three_models, before)[0] == []


def test_element_type_filter_narrows_the_page(three_models: Database, accounts: Accounts) -> None:
    store.save_specs(
        three_models, [SpecRow(model="B", element_type="Cermet")], CLI, "classify one model"
    )
    client = signed_in(three_models, VIEWER, VIEWER_PASSWORD)
    page = text(client.get(f"/priorities?from={WINDOW.start}&to={END}&element=Cermet"))
    assert listed(page, "rank-models", "model") == ["B"]
    assert listed(page, "rank-stations", "station") == ["line-2"]
    assert client.get("/priorities?element=Nonesuch").status_code == 400


def test_page_ranks_and_charts_the_selection(three_models: Database, accounts: Accounts) -> None:
    client = signed_in(three_models, VIEWER, VIEWER_PASSWORD)
    page = text(client.get(f"/priorities?from={WINDOW.start}&to={END}"))
    assert listed(page, "rank-models", "model") == ["A", "C", "B"]
    assert listed(page, "rank-stations", "station") == ["line-1", "line-2"]
    bars = re.findall(r'class="c-pareto-bar" data-label="([^"]+)" data-value="(\d+)"', page)
    assert bars[:3] == [("A", "30"), ("C", "30"), ("B", "20")]
    assert 'class="cost-form"' not in page  # a viewer sees costs but no form
    filtered = text(client.get(f"/priorities?from={WINDOW.start}&to={END}&station=line-2"))
    assert listed(filtered, "rank-models", "model") == ["B", "C"]
    assert client.get("/priorities?rank=loudest").status_code == 400
    assert 'href="/priorities"' in page  # the top bar links the page


def test_failing_positions_and_end_shares_come_from_the_bin_rollup(central_db: Database) -> None:
    day = END - timedelta(days=1)
    bin_rows(central_db, "line-1", "A", day, {1: 5, 10: 2, 20: 30})
    bin_rows(central_db, "line-2", "A", day, {20: 10})
    bin_rows(central_db, "line-2", "B", day, {19: 1})
    positions = queries.fail_positions(central_db, WINDOW)
    assert positions.points[0] == 5 and positions.points[19] == 40 and positions.points[18] == 1
    assert sum(positions.points) == 48
    only_b = queries.fail_positions(central_db, WINDOW.with_models("B"))
    assert sum(only_b.points) == 1
    shares = queries.end_shares(central_db, WINDOW, min_points=5)
    assert [(s.model, s.start_points, s.end_points, s.points) for s in shares] == [("A", 5, 40, 47)]


def test_this_week_against_the_mean_of_the_four_before(central_db: Database) -> None:
    weeks = Weeks(END)
    # This week: 100 units, 80 pass, 20 fail, sigma 0.06. Before: two of the four weeks
    # hold units (190 units in all, 180 pass), sigma 0.05; a day outside both is ignored.
    day_row(central_db, "line-1", "A", END - timedelta(days=2), passes=80, fails=20, sigma=0.06)
    day_row(central_db, "line-1", "A", END - timedelta(days=8), passes=90, fails=5, sigma=0.05)
    day_row(central_db, "line-1", "A", END - timedelta(days=22), passes=90, fails=5, sigma=0.05)
    day_row(central_db, "line-1", "A", END - timedelta(days=40), passes=1, fails=500, sigma=9.0)
    day_row(central_db, "line-2", "B", END - timedelta(days=1), passes=50, sigma=0.04)
    day_row(central_db, "line-2", "B", END - timedelta(days=9), passes=50, sigma=0.04)
    rows, _, weeks_before = queries.week_rows(central_db, Filters(), weeks)
    assert weeks_before == 2
    found = {c.name: c for c in changes(rows, weeks_before)}
    a = found["A"]
    assert (a.units, a.units_before, a.fails, a.fails_before) == (100, 95.0, 20, 5.0)
    assert a.yield_pct == pytest.approx(80.0)
    assert a.yield_before == pytest.approx(180 / 190 * 100)
    assert a.yield_change == pytest.approx(80.0 - 180 / 190 * 100)
    assert a.sigma_change_pct == pytest.approx(20.0)
    b = found["B"]
    assert b.yield_change == pytest.approx(0.0) and b.units_before == 25.0
    assert [c.name for c in changes(rows, weeks_before)] == ["A", "B"]  # largest change first
    _, stations, _ = queries.week_rows(central_db, Filters(stations=("line-2",)), weeks)
    assert [s.name for s in stations] == ["line-2"]


def test_drift_alarm_becomes_a_recommendation_with_its_units(
    central_db: Database, accounts: Accounts
) -> None:
    opened = datetime.combine(END - timedelta(days=2), datetime.min.time(), UTC)
    for offset in (3, 2, 1):
        day_row(central_db, "line-3", "8340-1", END - timedelta(days=offset), passes=12, sigma=0.1)
    pk = station_pk(central_db, "line-3")
    with central_db.pool.connection() as conn:
        apply_findings(conn, [Finding(AlarmKind.DRIFT, pk, "8340-1", "drifting")], opened)
    client = signed_in(central_db, VIEWER, VIEWER_PASSWORD)
    page = text(client.get(f"/priorities?from={WINDOW.start}&to={END}"))
    found = re.search(r'<li data-rule="drift_alarm">(.*?)</li>', page, re.S)
    assert found, page
    line = found.group(1)
    assert "8340-1 at line-3: sigma gradient drifting up for 24 units since" in line
    assert 'href="/models/8340-1?station=line-3&from=' in line and "#drift" in line
    elsewhere = text(client.get(f"/priorities?from={WINDOW.start}&to={END}&station=line-1"))
    assert 'data-rule="drift_alarm"' not in elsewhere  # the station filter applies


def test_parse_cost_accepts_plain_positive_decimals_only() -> None:
    assert parse_cost(" 12.50 ") == Decimal("12.50")
    assert parse_cost("1000000") == Decimal(1_000_000)
    for bad in ("0", "-3", "1e3", "$12", "12,50", "1000000.01", "NaN", "", "=1+1", "1.23456"):
        with pytest.raises(CostError):
            parse_cost(bad)


def test_costs_are_audited_and_cleared(central_db: Database) -> None:
    set_cost(central_db, "A", "2", CLI)
    set_cost(central_db, "A", "3.25", CLI)
    clear_cost(central_db, "A", CLI)
    assert unit_costs(central_db) == {}
    details = [r[4] for r in audit_rows(central_db) if r[1] == Action.MODEL_COST]
    assert details == [
        "cost per failing unit none -> 2",
        "cost per failing unit 2 -> 3.25",
        "cost per failing unit 3.25 -> none",
    ]
    with pytest.raises(CostError):
        clear_cost(central_db, "A", CLI)
    with pytest.raises(CostError):
        set_cost(central_db, " ", "2", CLI)


def test_only_admins_set_costs_and_only_with_the_csrf_token(
    three_models: Database, accounts: Accounts
) -> None:
    viewer = signed_in(three_models, VIEWER, VIEWER_PASSWORD)
    token = page_csrf(viewer, "/priorities")
    refused = viewer.post(
        "/priorities/costs", data={"csrf_token": token, "model": "A", "cost": "5"}
    )
    assert refused.status_code == 403
    admin = signed_in(three_models, ADMIN, ADMIN_PASSWORD)
    assert admin.post("/priorities/costs", data={"model": "A", "cost": "5"}).status_code == 403
    assert unit_costs(three_models) == {}
    token = page_csrf(admin, "/priorities")
    here = f"/priorities?from={WINDOW.start}&to={END}&rank=cost"
    done = admin.post(
        "/priorities/costs",
        data={"csrf_token": token, "model": "C", "cost": "4", "next": here},
    )
    assert done.status_code == 303 and done.headers["Location"] == here
    assert unit_costs(three_models) == {"C": Decimal("4")}
    page = text(admin.get(here))
    assert listed(page, "rank-models", "model") == ["C", "A", "B"]  # 30 x 4 = 120
    assert 'class="cost-form"' in page
    wrong = admin.post(
        "/priorities/costs",
        data={"csrf_token": token, "model": "C", "cost": "£4", "next": here},
    )
    assert wrong.status_code == 400 and "no currency sign" in text(wrong)
    assert unit_costs(three_models) == {"C": Decimal("4")}
    cleared = admin.post(
        "/priorities/costs",
        data={"csrf_token": token, "model": "C", "action": "clear", "next": "//evil.example/"},
    )
    assert cleared.status_code == 303 and cleared.headers["Location"] == "/"
    assert unit_costs(three_models) == {}


def test_the_page_figures_as_json_follow_the_same_filters(
    three_models: Database, accounts: Accounts
) -> None:
    anonymous = make_client(three_models)
    refused = anonymous.get("/api/v1/priorities")
    assert refused.status_code == 401 and refused.json["error"]["code"] == "unauthorized"  # type: ignore[index]
    client = signed_in(three_models, VIEWER, VIEWER_PASSWORD)
    set_cost(three_models, "B", "2.5", CLI)
    body = client.get(f"/api/v1/priorities?from={WINDOW.start}&to={END}&station=line-2").json
    assert body is not None
    assert body["filters"]["station"] == ["line-2"] and body["rank"] == "fails"
    assert (body["filters"]["from"], body["filters"]["to"]) == (str(WINDOW.start), str(END))
    assert [(m["name"], m["counts"]["fails"], m["cost"]) for m in body["models"]] == [
        ("B", 20, "50.00"),
        ("C", 10, None),
    ]
    assert body["models"][0]["counts"]["yield_pct"] == pytest.approx(80.0)
    assert body["models"][0]["fail_share_pct"] == pytest.approx(20 / 30 * 100)
    assert body["unit_costs"] == {"B": "2.50"}
    assert [s["name"] for s in body["stations"]] == ["line-2"]
    assert body["weeks"]["this_start"] == str(END - timedelta(days=6))
    assert body["fail_positions"]["bin_pct"] == 5
    bad = client.get("/api/v1/priorities?from=yesterday")
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.json["error"]["message"]  # type: ignore[index]
    wrong_rank = client.get("/api/v1/priorities?rank=yield")
    assert wrong_rank.status_code == 400
    assert wrong_rank.json["error"]["code"] == "invalid_filter"  # type: ignore[index]


def test_the_first_fifteen_models_are_in_view_and_the_others_fold(
    central_db: Database, accounts: Accounts
) -> None:
    for i in range(17):
        day_row(central_db, "line-1", f"M{i:02d}", END, passes=50, fails=20 - i)
    client = signed_in(central_db, VIEWER, VIEWER_PASSWORD)
    page = text(client.get(f"/priorities?from={WINDOW.start}&to={END}"))
    assert listed(page, "rank-models", "model") == [f"M{i:02d}" for i in range(15)]
    assert listed(page, "rank-models-more", "model") == ["M15", "M16"]
    assert "The other 2 models, with fewer failures" in page
