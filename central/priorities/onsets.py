"""When a drift began: the first unit where the drift alarm's own detectors crossed.

A drift alarm opens when the job first sees the drift, which after a weekend or a
restart can be days after it began. The recommendation says "for 36 units since
Tuesday", so it reruns the alarm's detectors (CUSUM and EWMA of the sigma gradient on
the station's units of the recent window, against the same reference baseline,
central/spc/reference.py) and takes the first unit either flags upwards. Without
one (the alarm cleared, or its units are gone) the alarm's opening time and the
units made since then stand in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from central.alarms.rows import Alarm, AlarmKind
from central.alarms.rules import AlarmSettings
from central.db import Database
from central.queries import models
from central.queries.filters import Filters
from central.spc.drift import Cusum, Ewma
from central.spc.model import station_drift

MAX_ONSETS = 10  # drift alarms whose onset is looked up per page (one bounded read each)
ONSET_TRACKS = 2000  # newest tracks of the pair in the recent window


@dataclass(frozen=True)
class Onset:
    units: int  # units of the station and model from the onset on
    since: datetime


def _first_up(detectors: Sequence[Cusum | Ewma | object]) -> int | None:
    firsts = [d.alarms_up[0] for d in detectors if isinstance(d, Cusum | Ewma) and d.alarms_up]
    return min(firsts) if firsts else None


def drift_onsets(
    db: Database, alarms: Sequence[Alarm], settings: AlarmSettings, today: date
) -> dict[int, Onset]:
    """Per open drift alarm (the first MAX_ONSETS): its onset, when the detectors find one."""
    recent_from = today - timedelta(days=settings.recent_days - 1)
    found: dict[int, Onset] = {}
    drifts = [a for a in alarms if a.kind is AlarmKind.DRIFT and a.model][:MAX_ONSETS]
    for alarm in drifts:
        model = alarm.model or ""
        window = Filters(recent_from, today, stations=(alarm.station,))
        series = models.spc_series(db, model, window, ONSET_TRACKS)
        reference = models.drift_references(db, [model], recent_from, settings.baseline_days)
        for drift in station_drift(series.points, reference[model]):
            first = _first_up([drift.cusum, drift.ewma])
            if drift.station != alarm.station or first is None:
                continue
            tracks = [series.points[i] for i in drift.indices[first:]]
            found[alarm.id] = Onset(len({p.result_id for p in tracks}), tracks[0].made_at)
    return found


def opened_onset(alarm: Alarm, units: int) -> Onset:
    """The stand-in: the alarm's opening day and the units made since its start."""
    day = alarm.opened_at.date()
    return Onset(units, datetime.combine(day, time.min))
