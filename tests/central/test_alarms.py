"""Alarm rules and alarm rows against a real PostgreSQL, with units from real station files.

Each rule is shown firing on a series built for it and staying quiet on its
control (same data without the condition); the rows are shown to be unique
per kind, station and model across evaluations, to clear and reactivate, to
stay open until acknowledged and to be acknowledged once, with the audit log
entry. The clock is fixed (NOW, TODAY) so the windows are known exactly.
"""

from __future__ import annotations

import math
import threading
from datetime import UTC, date, datetime, timedelta

import numpy as np
import psycopg
import pytest

from central.alarms import job as alarm_job
from central.alarms import rows as alarms
from central.alarms.rows import AlarmError, AlarmErrorCode, AlarmKind, Cause, Finding
from central.alarms.rules import (
    DRIFT_MIN_BASELINE,
    AlarmSettings,
    Windows,
    binomial_cdf,
    find_all,
)
from central.auth.audit import Action, Actor
from central.config import ConfigError, load_config
from central.db import Database
from central.service import alarm_settings_from
from central.stations import add_station, revoke_station
from shared.models import Status
from tests.central.alarm_helpers import FAILING, PASSING, real, send, series, unit
from tests.central.auth_helpers import audit_rows

TODAY = date(2025, 3, 12)
NOW = datetime(2025, 3, 12, 15, 0, tzinfo=UTC)
SETTINGS = AlarmSettings()
QA = Actor("qa.lead", "10.0.0.7")
SIGMA, SIGMA_SD = 2.7e-4, 1.0e-5
LIN, LIN_SD = 0.0108, 2.0e-4


def evaluate(db: Database, now: datetime = NOW, settings: AlarmSettings = SETTINGS):  # type: ignore[no-untyped-def]
    done = alarm_job.evaluate(db, settings, now=now, today=TODAY)
    assert done is not None
    return done


def rows(db: Database) -> list[tuple[object, ...]]:
    """(kind, station, model, cleared, acknowledged) of every alarm, oldest first."""
    with db.pool.connection() as conn:
        return conn.execute(
            "SELECT a.kind, s.name, a.model, a.cleared_at IS NOT NULL, "
            "a.acknowledged_at IS NOT NULL FROM alarms a JOIN stations s ON s.id = a.station_pk "
            "ORDER BY a.id"
        ).fetchall()


def set_last_contact(db: Database, station: str, ago: timedelta | None) -> None:
    with db.pool.connection() as conn:
        conn.execute(
            "UPDATE stations SET last_seen_at = %s, created_at = %s WHERE name = %s",
            (None if ago is None else NOW - ago, NOW - timedelta(days=30), station),
        )


def findings(db: Database) -> list[Finding]:
    with db.pool.connection() as conn:
        return find_all(conn, SETTINGS, NOW, TODAY)


def baseline_moments(count: int = 60) -> list[datetime]:
    """Units every 12 h from 1 February: inside the baseline period (before 6 March)."""
    return [datetime(2025, 2, 1, 8) + timedelta(hours=12 * i) for i in range(count)]


def recent_moments(count: int) -> list[datetime]:
    """Units every 3 h up to today 14:00: inside the recent window (6 to 12 March)."""
    return [datetime(2025, 3, 12, 14) - timedelta(hours=3 * (count - 1 - i)) for i in range(count)]


# --------------------------------------------------------------------------- windows, binomial


def test_windows_are_the_recent_days_and_the_baseline_days_before_them() -> None:
    windows = Windows.of(AlarmSettings(recent_days=7, baseline_days=90), TODAY)
    assert windows.recent_from == date(2025, 3, 6)  # 6..12 March: 7 days, today included
    assert windows.baseline_to == date(2025, 3, 5)
    assert windows.baseline_from == date(2024, 12, 6)  # 90 days: 6 Dec .. 5 Mar
    assert (windows.baseline_to - windows.baseline_from).days + 1 == 90
    assert windows.until == datetime(2025, 3, 13)
    assert windows.recent_since == datetime(2025, 3, 6)


@pytest.mark.parametrize(("k", "n", "p"), [(0, 1, 0.5), (1, 3, 0.5), (35, 50, 0.95), (7, 20, 0.3)])
def test_binomial_cdf_is_the_sum_of_the_probabilities(k: int, n: int, p: float) -> None:
    expected = sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))
    assert binomial_cdf(k, n, p) == pytest.approx(expected, rel=1e-9, abs=1e-300)


def test_binomial_cdf_edges() -> None:
    assert binomial_cdf(1, 3, 0.5) == pytest.approx(0.5)  # (1 + 3) / 8
    assert binomial_cdf(5, 5, 0.9) == 1.0
    assert binomial_cdf(-1, 5, 0.9) == 0.0
    assert binomial_cdf(4, 5, 1.0) == 0.0  # a perfect baseline: any failure is a drop
    assert binomial_cdf(0, 5, 0.0) == 1.0


def test_settings_come_from_the_alarms_config_section(tmp_path) -> None:  # type: ignore[no-untyped-def]
    environ = {
        "XDG_DATA_HOME": str(tmp_path),
        "LTA_CENTRAL_ALARMS__SILENT_AFTER_MINUTES": "15",
        "LTA_CENTRAL_ALARMS__YIELD_UNITS": "80",
    }
    settings = alarm_settings_from(load_config(None, environ))
    assert settings == AlarmSettings(
        silent_after=timedelta(minutes=15), recent_days=7, baseline_days=90, yield_units=80
    )
    assert alarm_settings_from(load_config(None, {"XDG_DATA_HOME": str(tmp_path)})) == SETTINGS
    with pytest.raises(ConfigError, match=r"alarms\.recent_days .*from 1 to 90"):
        load_config(None, {"XDG_DATA_HOME": str(tmp_path), "LTA_CENTRAL_ALARMS__RECENT_DAYS": "0"})


# --------------------------------------------------------------------------- silent


def test_silent_station_rule(central_db: Database) -> None:
    for name in ("quiet", "talking", "never", "gone"):
        add_station(central_db, name)
    set_last_contact(central_db, "quiet", timedelta(minutes=61))
    set_last_contact(central_db, "talking", timedelta(minutes=59))
    set_last_contact(central_db, "never", None)
    set_last_contact(central_db, "gone", timedelta(days=3))
    revoke_station(central_db, "gone")  # a revoked station is not expected to call

    found = {f.station_pk: f for f in findings(central_db)}
    with central_db.pool.connection() as conn:
        pk: dict[str, int] = dict(conn.execute("SELECT name, id FROM stations").fetchall())
    assert set(found) == {pk["quiet"], pk["never"]}
    assert found[pk["quiet"]].kind is AlarmKind.SILENT
    assert found[pk["quiet"]].model == ""
    assert "No results or heartbeat since 2025-03-12 13:59 UTC (61 min; allowed 60 min)" in (
        found[pk["quiet"]].detail
    )
    assert "Has not contacted central since it was added (2025-02-10 15:00 UTC)" in (
        found[pk["never"]].detail
    )

    longer = AlarmSettings(silent_after=timedelta(hours=2))
    with central_db.pool.connection() as conn:
        assert [f.station_pk for f in find_all(conn, longer, NOW, TODAY)] == [pk["never"]]


def test_a_heartbeat_counts_as_contact(central_db: Database) -> None:
    add_station(central_db, "beating")
    set_last_contact(central_db, "beating", timedelta(hours=5))
    with central_db.pool.connection() as conn:
        conn.execute(
            "INSERT INTO heartbeats (station_pk, received_at, agent_version, outbox_pending) "
            "SELECT id, %s, '0.1.0', 3 FROM stations WHERE name = 'beating'",
            (NOW - timedelta(minutes=2),),
        )
    assert findings(central_db) == []


# --------------------------------------------------------------------------- alarm rows


def test_evaluating_twice_keeps_one_alarm_and_updates_it(central_db: Database) -> None:
    add_station(central_db, "quiet")
    set_last_contact(central_db, "quiet", timedelta(hours=2))
    first = evaluate(central_db)
    assert (first.applied.findings, first.applied.opened, first.applied.cleared) == (1, 1, 0)
    second = evaluate(central_db, NOW + timedelta(minutes=1))
    assert (second.applied.opened, second.applied.cleared) == (0, 0)
    assert rows(central_db) == [("silent", "quiet", "", False, False)]
    (alarm,) = alarms.open_alarms(central_db)
    assert alarm.opened_at == NOW
    assert alarm.last_seen_at == NOW + timedelta(minutes=1)
    assert "(2.0 h; allowed 60 min)" in alarm.detail  # the detail follows the condition
    run = alarms.last_run(central_db)
    assert run is not None
    assert run.evaluated_at == NOW + timedelta(minutes=1)
    assert (run.findings, run.opened, run.cleared) == (1, 0, 0)


def test_the_database_refuses_a_second_live_alarm(central_db: Database) -> None:
    add_station(central_db, "quiet")
    set_last_contact(central_db, "quiet", timedelta(hours=2))
    evaluate(central_db)
    with central_db.pool.connection() as conn, pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute(
            "INSERT INTO alarms (kind, station_pk, model, detail, opened_at, last_seen_at) "
            "SELECT 'silent', id, '', 'again', now(), now() FROM stations"
        )


def test_a_cleared_alarm_stays_open_and_comes_back_on_the_same_row(central_db: Database) -> None:
    add_station(central_db, "quiet")
    set_last_contact(central_db, "quiet", timedelta(hours=2))
    evaluate(central_db)
    set_last_contact(central_db, "quiet", timedelta(minutes=1))  # it called again
    assert evaluate(central_db).applied.cleared == 1
    (alarm,) = alarms.open_alarms(central_db)
    assert alarm.is_open and not alarm.is_active
    assert alarm.cleared_at == NOW

    set_last_contact(central_db, "quiet", timedelta(hours=3))  # silent again, not yet seen to
    assert evaluate(central_db).applied.opened == 0
    (again,) = alarms.open_alarms(central_db)
    assert again.id == alarm.id and again.is_active


def test_an_acknowledged_condition_is_not_reopened_until_it_clears(central_db: Database) -> None:
    add_station(central_db, "quiet")
    set_last_contact(central_db, "quiet", timedelta(hours=2))
    evaluate(central_db)
    (alarm,) = alarms.open_alarms(central_db)
    alarms.acknowledge(central_db, alarm.id, Cause.PLANNED, "weekend", QA, NOW)
    assert evaluate(central_db, NOW + timedelta(minutes=1)).applied.opened == 0
    assert alarms.open_alarms(central_db) == []
    (still,) = alarms.live_acknowledged(central_db)
    assert still.id == alarm.id and still.last_seen_at == NOW + timedelta(minutes=1)

    set_last_contact(central_db, "quiet", timedelta(0))
    assert evaluate(central_db).applied.cleared == 1
    assert alarms.live_acknowledged(central_db) == []
    set_last_contact(central_db, "quiet", timedelta(hours=2))
    assert evaluate(central_db).applied.opened == 1  # a new episode: a new alarm
    assert rows(central_db) == [
        ("silent", "quiet", "", True, True),
        ("silent", "quiet", "", False, False),
    ]


def test_evaluation_skips_while_another_instance_holds_the_lock(central_db: Database) -> None:
    add_station(central_db, "quiet")
    set_last_contact(central_db, "quiet", timedelta(hours=2))
    with psycopg.connect(central_db.url, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (alarm_job.EVALUATION_LOCK_KEY,))
        assert alarm_job.evaluate(central_db, SETTINGS, now=NOW, today=TODAY) is None
        assert rows(central_db) == []
        assert alarms.last_run(central_db) is None
        other.execute("SELECT pg_advisory_unlock(%s)", (alarm_job.EVALUATION_LOCK_KEY,))
    assert evaluate(central_db).applied.opened == 1


def test_the_scheduled_job_evaluates_at_once(central_db: Database) -> None:
    add_station(central_db, "quiet")
    set_last_contact(central_db, "quiet", timedelta(days=400))  # silent on the real clock too
    scheduler = alarm_job.start(central_db, SETTINGS, every_s=3600)
    try:
        done = threading.Event()
        for _ in range(100):
            if alarms.last_run(central_db) is not None:
                done.set()
                break
            threading.Event().wait(0.1)
        assert done.is_set(), "the job did not run within 10 s of starting"
    finally:
        scheduler.shutdown(wait=True)
    assert [a.kind for a in alarms.open_alarms(central_db)] == [AlarmKind.SILENT]


# --------------------------------------------------------------------------- acknowledging


@pytest.fixture
def open_alarm(central_db: Database) -> alarms.Alarm:
    add_station(central_db, "quiet")
    set_last_contact(central_db, "quiet", timedelta(hours=2))
    evaluate(central_db)
    (alarm,) = alarms.open_alarms(central_db)
    return alarm


def test_acknowledging_records_who_when_cause_note_and_the_audit_entry(
    central_db: Database, open_alarm: alarms.Alarm
) -> None:
    at = NOW + timedelta(minutes=5)
    done = alarms.acknowledge(
        central_db, open_alarm.id, "station", "  PC was off for the weekend ", QA, at
    )
    assert (done.acknowledged_by, done.acknowledged_at, done.cause) == (
        "qa.lead",
        at,
        Cause.STATION,
    )
    assert done.note == "PC was off for the weekend"
    assert done.cause_label == "Station PC or network"
    assert alarms.open_alarms(central_db) == []
    assert [a.id for a in alarms.acknowledged_alarms(central_db)] == [open_alarm.id]
    assert audit_rows(central_db)[-1] == (
        "qa.lead",
        str(Action.ALARM_ACKNOWLEDGE),
        f"alarm {open_alarm.id}: silent quiet",
        "10.0.0.7",
        "cause station; note: PC was off for the weekend",
    )


def test_an_alarm_is_acknowledged_once(central_db: Database, open_alarm: alarms.Alarm) -> None:
    alarms.acknowledge(central_db, open_alarm.id, Cause.LASER, "", QA, NOW)
    with pytest.raises(AlarmError) as caught:
        alarms.acknowledge(central_db, open_alarm.id, Cause.NONE, "", Actor("someone"), NOW)
    assert caught.value.code is AlarmErrorCode.ALREADY_ACKNOWLEDGED
    assert "already acknowledged by qa.lead at 2025-03-12 15:00 UTC" in caught.value.message
    kept = alarms.get_alarm(central_db, open_alarm.id)
    assert kept is not None
    assert (kept.acknowledged_by, kept.cause, kept.note) == ("qa.lead", Cause.LASER, None)
    assert [r[1] for r in audit_rows(central_db)] == [str(Action.ALARM_ACKNOWLEDGE)]


@pytest.mark.parametrize(
    ("cause", "note", "code"),
    [
        ("laser beam", "", AlarmErrorCode.INVALID_CAUSE),
        ("", "", AlarmErrorCode.INVALID_CAUSE),
        ("other", "   ", AlarmErrorCode.NOTE_REQUIRED),
        ("fixture", "x" * 1001, AlarmErrorCode.NOTE_TOO_LONG),
    ],
)
def test_refused_acknowledgements_change_nothing(
    central_db: Database, open_alarm: alarms.Alarm, cause: str, note: str, code: AlarmErrorCode
) -> None:
    with pytest.raises(AlarmError) as caught:
        alarms.acknowledge(central_db, open_alarm.id, cause, note, QA, NOW)
    assert caught.value.code is code
    assert "nothing was changed" in caught.value.message or "try again" in caught.value.message
    assert alarms.open_alarms(central_db) == [open_alarm]
    assert audit_rows(central_db) == []


def test_acknowledging_an_unknown_alarm(central_db: Database) -> None:
    with pytest.raises(AlarmError) as caught:
        alarms.acknowledge(central_db, 4242, Cause.NONE, "", QA, NOW)
    assert caught.value.code is AlarmErrorCode.NOT_FOUND
    assert str(caught.value).startswith("alarm_not_found: There is no alarm 4242")


def test_cause_text_is_read_without_case_or_spaces() -> None:
    assert alarms.parse_cause(" Fixture ") is Cause.FIXTURE


# --------------------------------------------------------------------------- yield drop


def _yield_history(station: str, recent_passes: int) -> list:  # type: ignore[type-arg]
    """200 baseline units (190 pass) and 50 recent ones (`recent_passes` pass)."""
    good, bad = real(PASSING), real(FAILING)
    units = []
    for i, made in enumerate(datetime(2025, 1, 10, 6) + timedelta(hours=6 * i) for i in range(200)):
        units.append(unit(bad if i % 20 == 0 else good, f"{station}-b{i}", made))
    for i, made in enumerate(recent_moments(50)):
        template = good if i < recent_passes else bad
        units.append(unit(template, f"{station}-r{i}", made))
    return units


def test_yield_drop_against_the_station_baseline(central_db: Database) -> None:
    send(central_db, "line-drop", _yield_history("line-drop", recent_passes=35))
    send(central_db, "line-steady", _yield_history("line-steady", recent_passes=47))
    found = [f for f in findings(central_db) if f.kind is AlarmKind.YIELD_DROP]
    assert len(found) == 1
    with central_db.pool.connection() as conn:
        (pk,) = conn.execute("SELECT id FROM stations WHERE name = 'line-drop'").fetchone() or ()
    drop = found[0]
    assert (drop.station_pk, drop.model) == (pk, "")
    assert drop.detail.startswith(
        "Yield 70.0 % over its newest 50 units (since 2025-03-06 11:00, 35 passed) "
        "against 95.0 % over 200 units from 2024-12-06 to 2025-03-05"
    )
    p_value = binomial_cdf(35, 50, 0.95)
    assert p_value < 1e-6
    assert f"(P = {p_value:.1g} by chance)" in drop.detail


def test_warnings_pass_in_the_yield_drop_as_on_every_page(central_db: Database) -> None:
    """Recent units that all pass linearity but warn on sigma: no yield drop (shared/quality.py)."""
    units = _yield_history("line-warn", recent_passes=50)
    warned = [
        unit(real(PASSING), f"line-warn-w{i}", u.test_date, status=Status.WARNING)  # type: ignore[arg-type]
        for i, u in enumerate(units[200:])
    ]
    send(central_db, "line-warn", units[:200] + warned)
    assert [f for f in findings(central_db) if f.kind is AlarmKind.YIELD_DROP] == []
    failed = [
        unit(real(FAILING), f"line-warn-f{i}", u.test_date) for i, u in enumerate(units[200:])
    ]  # type: ignore[arg-type]
    send(central_db, "line-fail", units[:200] + failed)
    assert len([f for f in findings(central_db) if f.kind is AlarmKind.YIELD_DROP]) == 1


def test_no_yield_judgement_without_enough_units(central_db: Database) -> None:
    good, bad = real(PASSING), real(FAILING)
    baseline = [unit(good, f"b{i}", m) for i, m in enumerate(baseline_moments(99))]
    recent = [unit(bad, f"r{i}", m) for i, m in enumerate(recent_moments(30))]
    send(central_db, "line-new", baseline + recent)  # 99 baseline units: one short
    assert [f for f in findings(central_db) if f.kind is AlarmKind.YIELD_DROP] == []


# --------------------------------------------------------------------------- drift and test 1


def _drift_pair(station: str, shift_sd: float, seed: int) -> list:  # type: ignore[type-arg]
    """60 baseline and 30 recent units of model 6828; the recent sigma moved by shift_sd sd."""
    rng = np.random.default_rng(seed)
    base = SIGMA + SIGMA_SD * rng.standard_normal(60)
    recent = SIGMA + SIGMA_SD * (shift_sd + rng.standard_normal(30))
    moments = baseline_moments(60) + recent_moments(30)
    return series(real(PASSING), station, moments, sigma=[*base, *recent])


def test_sigma_drifting_up_raises_a_drift_alarm(central_db: Database) -> None:
    send(central_db, "line-up", _drift_pair("line-up", 3.0, seed=3))
    send(central_db, "line-flat", _drift_pair("line-flat", 0.0, seed=4))
    send(central_db, "line-down", _drift_pair("line-down", -3.0, seed=5))
    drifts = [f for f in findings(central_db) if f.kind is AlarmKind.DRIFT]
    with central_db.pool.connection() as conn:
        names: dict[int, str] = dict(conn.execute("SELECT id, name FROM stations").fetchall())
    assert [(names[f.station_pk], f.model) for f in drifts] == [("line-up", "6828")]
    detail = drifts[0].detail
    assert detail.startswith(
        "Sigma gradient drifting up over its 30 units since 2025-03-06: CUSUM C+"
    )
    assert "(first above H at Sline-up-6" in detail
    assert "from 60 tracks (2024-12-06 to 2025-03-05)" in detail


def test_no_drift_judgement_without_a_baseline(central_db: Database) -> None:
    rng = np.random.default_rng(9)
    short = DRIFT_MIN_BASELINE - 1
    values = SIGMA + SIGMA_SD * np.concatenate(
        [rng.standard_normal(short), 5 + rng.standard_normal(30)]
    )
    moments = baseline_moments(short) + recent_moments(30)
    send(central_db, "line-young", series(real(PASSING), "young", moments, sigma=values))
    assert [f for f in findings(central_db) if f.kind is AlarmKind.DRIFT] == []


def _linearity_pair(station: str, spikes: dict[int, float]) -> list:  # type: ignore[type-arg]
    """60 baseline and 15 recent units of model 6828 with steady linearity error, except
    the recent units in `spikes` (index among the recent ones -> sd above the others)."""
    rng = np.random.default_rng(11)
    lin = LIN + LIN_SD * rng.standard_normal(75)
    for index, sds in spikes.items():
        lin[60 + index] = LIN + sds * LIN_SD
    moments = baseline_moments(60) + recent_moments(15)
    return series(real(PASSING), station, moments, linearity=lin)


def test_two_newest_units_beyond_3_sigma_are_a_rule_violation(central_db: Database) -> None:
    send(central_db, "line-spikes", _linearity_pair("line-spikes", {10: 8.0, 12: 10.0}))
    send(central_db, "line-calm", _linearity_pair("line-calm", {}))
    send(central_db, "line-one-spike", _linearity_pair("line-one-spike", {12: 10.0}))
    send(central_db, "line-old-spikes", _linearity_pair("line-old-spikes", {2: 8.0, 3: 10.0}))
    rules = [f for f in findings(central_db) if f.kind is AlarmKind.RULE_VIOLATION]
    with central_db.pool.connection() as conn:
        names: dict[int, str] = dict(conn.execute("SELECT id, name FROM stations").fetchall())
    # One unit beyond the limits is common on skewed metrics, so it alone is not an alarm;
    # the old spikes (units 62 and 63 of 75) are not among the newest ten.
    assert [(names[f.station_pk], f.model) for f in rules] == [("line-spikes", "6828")]
    detail = rules[0].detail
    assert detail.startswith(
        "Linearity error: 2 of the newest 10 units beyond 3 sigma, e.g. Sline-spikes-72 "
        "(2025-03-12 08:00) at 0.0128 V, above the UCL"
    )
    assert detail.endswith("(Nelson test 1; limits from the 65 units before them).")
    assert "Sigma gradient" not in detail  # the sigma of these units is the template's


def test_the_alarm_rows_follow_the_rules(central_db: Database) -> None:
    """A full evaluation over mixed stations opens exactly the alarms the rules found."""
    send(central_db, "line-up", _drift_pair("line-up", 3.0, seed=3))
    send(central_db, "line-spike", _linearity_pair("line-spike", {10: 8.0, 12: 10.0}))
    set_last_contact(central_db, "line-spike", timedelta(days=2))
    evaluate(central_db)
    kinds = {(r[0], r[1], r[2]) for r in rows(central_db)}
    assert ("drift", "line-up", "6828") in kinds
    assert ("rule_violation", "line-spike", "6828") in kinds
    assert ("silent", "line-spike", "") in kinds
    assert ("silent", "line-up", "") not in kinds
    scoped = alarms.open_alarms(central_db, stations=["line-spike"], models=["6828"])
    assert {a.kind for a in scoped} == {AlarmKind.RULE_VIOLATION, AlarmKind.SILENT}
    assert {a.kind for a in alarms.open_alarms(central_db, models=["other"])} == {AlarmKind.SILENT}
    assert all(
        a.model is None for a in alarms.open_alarms(central_db) if a.kind is AlarmKind.SILENT
    )


def test_units_from_revoked_stations_or_dated_after_today_are_left_out(
    central_db: Database,
) -> None:
    send(central_db, "line-up", _drift_pair("line-up", 3.0, seed=3))
    revoke_station(central_db, "line-up")
    assert findings(central_db) == []
    later = [
        unit(real(PASSING), f"late-{i}", datetime(2025, 3, 13, 1) + timedelta(minutes=i))
        for i in range(40)
    ]
    send(central_db, "line-clock-ahead", later)
    assert findings(central_db) == []
