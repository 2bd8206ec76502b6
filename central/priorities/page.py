"""Everything the priorities page shows, gathered for one selection.

The route (central/web/priorities.py) only parses the URL and renders; this
module decides which reads feed which figure, so a JSON view of the same page
gives the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from central.alarms import rows as alarm_store
from central.alarms.rows import Alarm
from central.alarms.rules import AlarmSettings
from central.db import Database
from central.priorities import queries
from central.priorities.costs import unit_costs
from central.priorities.onsets import drift_onsets, opened_onset
from central.priorities.queries import Impact, Positions, Weeks
from central.priorities.recommendations import (
    MIN_END_POINTS,
    Recommendation,
    Signals,
    recommend,
)
from central.priorities.weekly import WeekChange, changes
from central.queries.filters import Filters
from central.queries.spec_groups import SpecClasses

WEEK_ROWS_SHOWN = 15  # rows per "this week" table: the largest changes


@dataclass(frozen=True)
class Priorities:
    filters: Filters  # with the page's dates resolved
    rank: str
    models: list[Impact]
    stations: list[Impact]
    positions: Positions
    weeks: Weeks
    weeks_before: int  # of the four weeks, those holding any unit of the selection
    model_weeks: list[WeekChange]
    station_weeks: list[WeekChange]
    alarms: list[Alarm]
    recommendations: list[Recommendation]
    costs: dict[str, Decimal]

    @property
    def priced(self) -> bool:
        return any(m.cost is not None for m in self.models)


def gather(
    db: Database,
    filters: Filters,
    classes: SpecClasses,
    rank: str,
    window: tuple[date, date],
    settings: AlarmSettings,
    today: date,
) -> Priorities:
    """The page's figures for filters whose dates are the window's; settings and today:
    the drift alarm's, to find when an open drift began."""
    start, end = window
    models, stations = queries.rankings(db, filters, rank)
    weeks = Weeks(end)
    model_rows, station_rows, weeks_before = queries.week_rows(db, filters, weeks)
    model_weeks = changes(model_rows, weeks_before)
    station_weeks = changes(station_rows, weeks_before)
    alarms = [
        a
        for a in alarm_store.open_alarms(db, filters.stations, filters.models)
        if not filters.by_spec or classes.matches(a.model, filters)
    ]
    ends = queries.end_shares(db, filters, MIN_END_POINTS)
    since_opened = queries.units_since_opened(db, [a.id for a in alarms])
    onsets = {a.id: opened_onset(a, since_opened.get(a.id, 0)) for a in alarms}
    onsets.update(drift_onsets(db, alarms, settings, today))
    signals = Signals(
        alarms=alarms,
        onsets=onsets,
        models=model_weeks,
        stations=station_weeks,
        ends=ends,
        ranking=models,
        weeks=weeks,
        start=start,
        end=end,
    )
    return Priorities(
        filters=filters,
        rank=rank,
        models=models,
        stations=stations,
        positions=queries.fail_positions(db, filters),
        weeks=weeks,
        weeks_before=weeks_before,
        model_weeks=model_weeks[:WEEK_ROWS_SHOWN],
        station_weeks=station_weeks[:WEEK_ROWS_SHOWN],
        alarms=alarms,
        recommendations=recommend(signals),
        costs=unit_costs(db),
    )
