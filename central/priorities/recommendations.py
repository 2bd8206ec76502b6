"""A short list of what to do first, each line tied to the figure that triggered it.

Every rule reads a signal the dashboard already computes and links to its
evidence; none knows a particular model. The rules and their thresholds
(docs/decisions/0022-priorities.md):

- an open drift alarm (the drift rule's CUSUM/EWMA against its baseline,
  central/alarms/rules.py): sigma drifting up, so the laser focus and trim
  settings first; the units since the detectors' first upward signal
  (central/priorities/onsets.py) say how long it has lasted;
- an open chart-rule alarm (Nelson test 1 on the newest units): the fixture
  and the measurement;
- an open yield-drop alarm (a station's newest units): fixture, probe, lot;
- this week's yield YIELD_DROP_PP points or more under the four weeks before
  (a model or a station with MIN_WEEK_UNITS units in both periods);
- the mean sigma gradient SIGMA_RISE_PCT % or more above the four weeks
  before (a model with MIN_WEEK_UNITS units in both; not repeated for a model
  with an open drift alarm, which says it better);
- END_SHARE_PCT % or more of a model's failing points (at least
  MIN_END_POINTS) in the first or the last 10 % of the travel: probe contact
  and element ends, not the trim;
- a model whose failures cost COST_SHARE_PCT % or more of the priced ones.

Silent stations are the overview's business (a connection, not a quality
problem) and stay there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from urllib.parse import quote, urlencode

from central.alarms.rows import Alarm, AlarmKind
from central.priorities.onsets import Onset
from central.priorities.queries import END_BINS, EndShare, Impact, Weeks
from central.priorities.weekly import WeekChange
from central.rollup_columns import FAIL_BINS

YIELD_DROP_PP = 5.0
SIGMA_RISE_PCT = 15.0
MIN_WEEK_UNITS = 30
END_SHARE_PCT = 50.0
MIN_END_POINTS = 20
COST_SHARE_PCT = 25.0
MAX_RECOMMENDATIONS = 8
MAX_PER_RULE = 3  # so eleven drifting pairs cannot hide a yield drop or a costly model


class Rule(StrEnum):
    DRIFT_ALARM = "drift_alarm"
    YIELD_ALARM = "yield_alarm"
    CHART_ALARM = "chart_alarm"
    WEEK_YIELD = "week_yield"
    WEEK_SIGMA = "week_sigma"
    TRAVEL_END = "travel_end"
    COST = "cost"


# Rank of each rule on the list: open alarms first (something is wrong now), then
# this week's changes, then the standing patterns of the window.
_WEIGHT = {
    Rule.DRIFT_ALARM: 100,
    Rule.YIELD_ALARM: 95,
    Rule.CHART_ALARM: 90,
    Rule.WEEK_YIELD: 70,
    Rule.WEEK_SIGMA: 60,
    Rule.TRAVEL_END: 50,
    Rule.COST: 40,
}


@dataclass(frozen=True)
class Recommendation:
    rule: Rule
    text: str  # what to look at and why, in one sentence
    figure: str  # the figure that triggered it, as the evidence shows it
    href: str  # the evidence
    size: float = 0.0  # within a rule, larger first

    @property
    def weight(self) -> int:
        return _WEIGHT[self.rule]


@dataclass(frozen=True)
class Signals:
    """What the rules read: the page's selection, already filtered."""

    alarms: Sequence[Alarm]  # open (unacknowledged) alarms
    onsets: dict[int, Onset]  # alarm id -> since when, and units of its station and model since
    models: Sequence[WeekChange]
    stations: Sequence[WeekChange]
    ends: Sequence[EndShare]
    ranking: Sequence[Impact]  # models, with their cost
    weeks: Weeks
    start: date  # the page's window, for links
    end: date


def _link(path: str, pairs: Sequence[tuple[str, str]], anchor: str = "") -> str:
    query = urlencode(list(pairs))
    return f"{path}{'?' + query if query else ''}{'#' + anchor if anchor else ''}"


def _model_path(model: str) -> str:
    return f"/models/{quote(model, safe='')}"


def _since(moment: datetime) -> str:
    return f"{moment:%a %d %b}"


def _window(signals: Signals) -> list[tuple[str, str]]:
    return [("from", signals.start.isoformat()), ("to", signals.end.isoformat())]


def _this_week(signals: Signals) -> list[tuple[str, str]]:
    return [
        ("from", signals.weeks.this_start.isoformat()),
        ("to", signals.weeks.end.isoformat()),
    ]


def _alarm_line(alarm: Alarm, onset: Onset | None) -> Recommendation | None:
    evidence = _link("/", [("station", alarm.station), ("model", alarm.model or "")], "open-alarms")
    began = onset.since if onset is not None else alarm.opened_at
    since = _since(began)
    units = onset.units if onset is not None else 0
    for_units = f"for {units} unit{'s' if units != 1 else ''} " if units else ""
    if alarm.kind is AlarmKind.DRIFT and alarm.model:
        return Recommendation(
            Rule.DRIFT_ALARM,
            f"{alarm.model} at {alarm.station}: sigma gradient drifting up {for_units}since "
            f"{since}: check the laser focus and the trim settings.",
            f"open drift alarm {alarm.id}",
            _link(
                _model_path(alarm.model),
                [("station", alarm.station), ("from", f"{began:%Y-%m-%d}")],
                "drift",
            ),
            float(units),
        )
    if alarm.kind is AlarmKind.RULE_VIOLATION and alarm.model:
        return Recommendation(
            Rule.CHART_ALARM,
            f"{alarm.model} at {alarm.station}: units beyond the control limits since {since}: "
            "check the fixture and the measurement before the next lot.",
            f"open chart-rule alarm {alarm.id}",
            evidence,
            float(units),
        )
    if alarm.kind is AlarmKind.YIELD_DROP:
        return Recommendation(
            Rule.YIELD_ALARM,
            f"{alarm.station}: yield dropping on its newest units since {since}: check the "
            "fixture, the probe and the material lot in use.",
            f"open yield-drop alarm {alarm.id}",
            _link("/", [("station", alarm.station)], "open-alarms"),
        )
    return None  # silent stations: the overview's


def _week_lines(signals: Signals) -> list[Recommendation]:
    found = []
    drifting = {a.model for a in signals.alarms if a.kind is AlarmKind.DRIFT}
    for kind, rows in (("model", signals.models), ("station", signals.stations)):
        for row in rows:
            enough = row.units >= MIN_WEEK_UNITS and row.units_before >= MIN_WEEK_UNITS
            moved = row.yield_change
            if enough and moved is not None and moved <= -YIELD_DROP_PP:
                found.append(
                    Recommendation(
                        Rule.WEEK_YIELD,
                        f"{row.name}: yield {row.yield_pct:.1f} % this week against "
                        f"{row.yield_before:.1f} % over the four weeks before ({row.fails} "
                        f"failing of {row.units} units): look at this week's failing units.",
                        f"yield {moved:+.1f} points week on week",
                        _link("/units", [(kind, row.name), *_this_week(signals)]),
                        -moved,
                    )
                )
            rise = row.sigma_change_pct
            if (
                kind == "model"
                and enough
                and rise is not None
                and rise >= SIGMA_RISE_PCT
                and row.name not in drifting
            ):
                found.append(
                    Recommendation(
                        Rule.WEEK_SIGMA,
                        f"{row.name}: mean sigma gradient up {rise:.0f} % this week against the "
                        "four weeks before: check the laser focus and the substrate lot.",
                        f"sigma {rise:+.0f} % week on week",
                        _link(_model_path(row.name), _this_week(signals), "drift"),
                        rise,
                    )
                )
    return found


def _end_lines(signals: Signals) -> list[Recommendation]:
    found = []
    tenth = 100 * END_BINS // FAIL_BINS
    for share in signals.ends:
        if share.points < MIN_END_POINTS:
            continue
        for side, points in (("first", share.start_points), ("last", share.end_points)):
            pct = 100.0 * points / share.points
            if pct >= END_SHARE_PCT:
                found.append(
                    Recommendation(
                        Rule.TRAVEL_END,
                        f"{share.model}: {pct:.0f} % of its failing points lie in the {side} "
                        f"{tenth} % of the travel: check the probe contact and the element's "
                        "end terminations before the trim.",
                        f"{points} of {share.points} failing points at the {side} end",
                        _link(_model_path(share.model), _window(signals), "positions"),
                        pct,
                    )
                )
    return found


def _cost_lines(signals: Signals) -> list[Recommendation]:
    priced = [r for r in signals.ranking if r.cost is not None and r.cost > 0]
    total = sum((r.cost for r in priced if r.cost is not None), Decimal(0))
    found = []
    for row in priced:
        assert row.cost is not None  # noqa: S101 - filtered above; narrows the type
        share = float(100 * row.cost / total) if total else 0.0
        if share >= COST_SHARE_PCT:
            found.append(
                Recommendation(
                    Rule.COST,
                    f"{row.name}: its {row.counts.fails} failing units cost {row.cost:,.2f} in "
                    f"this window, {share:.0f} % of the priced failures: start the review there.",
                    f"cost {row.cost:,.2f} ({share:.0f} %)",
                    _link(_model_path(row.name), _window(signals)),
                    share,
                )
            )
    return found


def recommend(signals: Signals) -> list[Recommendation]:
    """The rules' findings, most urgent first, at most MAX_PER_RULE of a rule and
    MAX_RECOMMENDATIONS in all."""
    found = [
        line
        for alarm in signals.alarms
        if (line := _alarm_line(alarm, signals.onsets.get(alarm.id))) is not None
    ]
    found += _week_lines(signals) + _end_lines(signals) + _cost_lines(signals)
    found.sort(key=lambda r: (-r.weight, -r.size, r.text))
    kept: list[Recommendation] = []
    for line in found:
        if sum(1 for k in kept if k.rule is line.rule) < MAX_PER_RULE:
            kept.append(line)
    return kept[:MAX_RECOMMENDATIONS]
