"""When a drift began (central/priorities/onsets.py): real units through the real ingest,
the real alarm evaluation, then the onset the recommendation quotes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np

from central.alarms import job as alarm_job
from central.alarms import rows as alarm_rows
from central.alarms.rows import AlarmKind
from central.alarms.rules import AlarmSettings
from central.db import Database
from central.priorities.onsets import drift_onsets, opened_onset
from tests.central.alarm_helpers import PASSING, real, send, series

TODAY = date(2025, 3, 12)
NOW = datetime(2025, 3, 12, 15, 0, tzinfo=UTC)
SIGMA, SIGMA_SD = 2.7e-4, 1.0e-5
STEADY, SHIFTED = 12, 18  # recent units before and after the shift


def moments() -> list[datetime]:
    """60 units every 12 h from 1 February (the baseline), then 30 every 3 h up to today."""
    base = [datetime(2025, 2, 1, 8) + timedelta(hours=12 * i) for i in range(60)]
    recent = [datetime(2025, 3, 12, 14) - timedelta(hours=3 * (29 - i)) for i in range(30)]
    return base + recent


def test_the_onset_is_the_first_unit_the_detectors_flag(central_db: Database) -> None:
    rng = np.random.default_rng(21)
    noise = rng.standard_normal(90)
    shift = np.concatenate([np.zeros(60 + STEADY), np.full(SHIFTED, 6.0)])
    units = series(real(PASSING), "line-3", moments(), sigma=SIGMA + SIGMA_SD * (noise + shift))
    send(central_db, "line-3", units)
    assert alarm_job.evaluate(central_db, AlarmSettings(), now=NOW, today=TODAY) is not None
    (alarm,) = [a for a in alarm_rows.open_alarms(central_db) if a.kind is AlarmKind.DRIFT]
    onsets = drift_onsets(central_db, [alarm], AlarmSettings(), TODAY)
    onset = onsets[alarm.id]
    first_shifted = moments()[60 + STEADY]
    # A shift of 6 sd is flagged within a few units of its start, never before it.
    assert first_shifted <= onset.since <= first_shifted + timedelta(hours=3 * 3)
    assert SHIFTED - 3 <= onset.units <= SHIFTED
    stand_in = opened_onset(alarm, 5)
    assert stand_in.units == 5 and stand_in.since == datetime(2025, 3, 12)
    # No series in its recent window: no onset, the page falls back on the alarm's opening.
    assert drift_onsets(central_db, [alarm], AlarmSettings(), TODAY + timedelta(days=30)) == {}
