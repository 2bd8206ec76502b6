"""The recommendation rules, each just over and just under its threshold, on the figures
they read (central/priorities/recommendations.py). Pure functions: the inputs are the
dataclasses the page's reads return."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from central.alarms.rows import Alarm, AlarmKind
from central.priorities import recommendations as rules
from central.priorities.onsets import Onset
from central.priorities.queries import EndShare, Impact, Weeks
from central.priorities.recommendations import Rule, Signals, recommend
from central.priorities.weekly import WeekChange
from central.queries.counts import StatusCounts

END = date(2025, 6, 30)
OPENED = datetime(2025, 6, 24, 8, 0, tzinfo=UTC)  # a Tuesday


def alarm(kind: AlarmKind, model: str | None, ident: int = 7) -> Alarm:
    return Alarm(
        ident, kind, "line-3", model, "detail", OPENED, OPENED, None, None, None, None, None
    )


def week(
    name: str,
    yield_now: float | None,
    yield_before: float | None,
    units: int = 100,
    units_before: float = 100.0,
    sigma: float | None = 0.05,
    sigma_before: float | None = 0.05,
) -> WeekChange:
    return WeekChange(
        name, units, units_before, 5, 3.0, yield_now, yield_before, sigma, sigma_before
    )


def signals(**given: object) -> Signals:
    base: dict[str, object] = {
        "alarms": [],
        "onsets": {},
        "models": [],
        "stations": [],
        "ends": [],
        "ranking": [],
        "weeks": Weeks(END),
        "start": date(2025, 6, 3),
        "end": END,
    }
    base.update(given)
    return Signals(**base)  # type: ignore[arg-type]


def fired(found: list[rules.Recommendation]) -> list[Rule]:
    return [r.rule for r in found]


def test_nothing_fires_on_a_quiet_selection() -> None:
    assert recommend(signals(models=[week("A", 95.0, 95.5)])) == []


def test_an_open_drift_alarm_says_how_long_and_links_the_drift_section() -> None:
    onset = Onset(36, datetime(2025, 6, 24, 13, 5))  # a Tuesday
    found = recommend(signals(alarms=[alarm(AlarmKind.DRIFT, "8340-1")], onsets={7: onset}))
    (line,) = found
    assert line.rule is Rule.DRIFT_ALARM
    assert line.text.startswith(
        "8340-1 at line-3: sigma gradient drifting up for 36 units since Tue"
    )
    assert "laser focus" in line.text
    assert line.href == "/models/8340-1?station=line-3&from=2025-06-24#drift"
    assert line.figure == "open drift alarm 7"


def test_station_and_chart_alarms_fire_and_silent_ones_stay_on_the_overview() -> None:
    found = recommend(
        signals(
            alarms=[
                alarm(AlarmKind.YIELD_DROP, None, 1),
                alarm(AlarmKind.RULE_VIOLATION, "M/2", 2),
                alarm(AlarmKind.SILENT, None, 3),
            ]
        )
    )
    assert fired(found) == [Rule.YIELD_ALARM, Rule.CHART_ALARM]
    assert found[0].href == "/?station=line-3#open-alarms"
    assert found[1].href == "/?station=line-3&model=M%2F2#open-alarms"


@pytest.mark.parametrize(
    ("now", "before", "units", "expected"),
    [
        (90.0, 95.0, 100, True),  # exactly YIELD_DROP_PP points
        (90.1, 95.0, 100, False),  # under it
        (80.0, 95.0, rules.MIN_WEEK_UNITS - 1, False),  # too few units this week
        (None, 95.0, 100, False),  # no yield (too few verdicts)
    ],
)
def test_a_week_on_week_yield_drop(
    now: float | None, before: float, units: int, expected: bool
) -> None:
    found = recommend(signals(models=[week("A", now, before, units=units)]))
    assert (Rule.WEEK_YIELD in fired(found)) is expected
    if expected:
        assert found[0].href == "/units?model=A&from=2025-06-24&to=2025-06-30"
        assert found[0].figure == "yield -5.0 points week on week"


def test_a_station_yield_drop_links_the_station_units() -> None:
    (line,) = recommend(signals(stations=[week("line-9", 70.0, 90.0)]))
    assert line.rule is Rule.WEEK_YIELD and line.href.startswith("/units?station=line-9&")


@pytest.mark.parametrize(("sigma", "expected"), [(0.0575, True), (0.0574, False)])
def test_a_sigma_rise_week_on_week(sigma: float, expected: bool) -> None:
    found = recommend(signals(models=[week("A", 95.0, 95.0, sigma=sigma)]))
    assert (Rule.WEEK_SIGMA in fired(found)) is expected


def test_a_sigma_rise_is_not_repeated_beside_a_drift_alarm() -> None:
    found = recommend(
        signals(
            alarms=[alarm(AlarmKind.DRIFT, "A")],
            models=[week("A", 95.0, 95.0, sigma=0.08)],
        )
    )
    assert fired(found) == [Rule.DRIFT_ALARM]


@pytest.mark.parametrize(
    ("start", "end", "total", "expected"),
    [
        (0, 10, 20, ["last"]),  # half at the end: fires
        (0, 9, 20, []),  # just under half
        (12, 0, 20, ["first"]),
        (10, 0, 19, []),  # too few failing points to say
    ],
)
def test_failures_at_one_end_of_the_travel(
    start: int, end: int, total: int, expected: list[str]
) -> None:
    found = recommend(signals(ends=[EndShare("A", start, end, total)]))
    sides = [side for side in ("first", "last") for r in found if f"the {side} 10 %" in r.text]
    assert sides == expected
    assert all(r.href.endswith("#positions") for r in found)


def impact(name: str, fails: int, cost: str | None) -> Impact:
    return Impact(
        name,
        StatusCounts(results=100, passes=100 - fails, fails=fails),
        100,
        None if cost is None else Decimal(cost),
        0,
    )


def test_the_model_holding_a_quarter_of_the_priced_failures() -> None:
    found = recommend(
        signals(ranking=[impact("A", 10, "750"), impact("B", 5, "250"), impact("C", 50, None)])
    )
    # A holds 75 %, B exactly 25 % (the threshold); C has no cost and is not in the share.
    assert [(r.rule, r.text.split(":")[0]) for r in found] == [(Rule.COST, "A"), (Rule.COST, "B")]


def test_cost_share_threshold() -> None:
    found = recommend(signals(ranking=[impact("A", 10, "760"), impact("B", 5, "240")]))
    assert [r.text.split(":")[0] for r in found] == ["A"]
    assert "760.00" in found[0].text and found[0].figure == "cost 760.00 (76 %)"


def test_alarms_come_first_and_the_list_is_short_and_varied() -> None:
    many = [week(f"M{i}", 50.0, 95.0) for i in range(20)]
    drifts = [alarm(AlarmKind.DRIFT, f"Z{i}", i) for i in range(11)]
    found = recommend(signals(models=many, alarms=drifts))
    assert len(found) == 6  # three of each rule that fired
    assert fired(found) == [Rule.DRIFT_ALARM] * 3 + [Rule.WEEK_YIELD] * 3
    more = recommend(
        signals(
            models=many,
            alarms=drifts,
            ends=[EndShare("A", 0, 30, 30)],
            ranking=[impact("A", 10, "9")],
        )
    )
    assert len(more) == rules.MAX_RECOMMENDATIONS
    assert fired(more)[:6] == [Rule.DRIFT_ALARM] * 3 + [Rule.WEEK_YIELD] * 3
