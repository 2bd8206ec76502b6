"""Alarms: the rows the fleet overview shows, how findings become rows, and acknowledgement.

The rules that find conditions live in central/alarms/rules.py and the job
that runs them once a minute in central/alarms/job.py; this module only
stores what they found. docs/decisions/0013-alarms.md has the rules.

An alarm is one episode of a condition (a kind, a station, a model):
- opened when a rule first finds it;
- kept up to date (detail, last_seen_at) while the rule keeps finding it;
- cleared (cleared_at) when the rule stops finding it, and reactivated if the
  rule finds it again before anyone acknowledged it;
- open until someone acknowledges it, with an assignable cause and a note;
  the acknowledgement is written to the audit log in the same transaction.
At most one alarm per kind, station and model is live (open, or its
condition still holds): a unique partial index says so, and the evaluation
is one upsert against it, so evaluating twice never duplicates an alarm
and an acknowledged condition that goes on is not reopened every minute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType

import psycopg
from psycopg import sql

from central.auth import audit
from central.auth.audit import Action, Actor
from central.db import Database
from shared.errors import LtaError

MAX_NOTE = 1000  # the CHECK in migration 005 says the same
DEFAULT_ACKNOWLEDGED_SHOWN = 25
MAX_LISTED = 500


class AlarmKind(StrEnum):
    SILENT = "silent"
    DRIFT = "drift"
    YIELD_DROP = "yield_drop"
    RULE_VIOLATION = "rule_violation"


KIND_LABELS = MappingProxyType(
    {
        AlarmKind.SILENT: "Station silent",
        AlarmKind.DRIFT: "Sigma drift",
        AlarmKind.YIELD_DROP: "Yield drop",
        AlarmKind.RULE_VIOLATION: "Chart rule violation",
    }
)


class Cause(StrEnum):
    """The assignable causes an acknowledgement names: a fixed list, so QA can count them.

    `none` is a real answer in SPC (investigated, nothing found: a false alarm);
    `other` needs a note saying what it was.
    """

    FIXTURE = "fixture"
    MATERIAL = "material"
    LASER = "laser"
    OPERATOR = "operator"
    MEASUREMENT = "measurement"
    STATION = "station"
    PLANNED = "planned"
    NONE = "none"
    OTHER = "other"


CAUSE_LABELS = MappingProxyType(
    {
        Cause.FIXTURE: "Fixture",
        Cause.MATERIAL: "Material (substrate, ink, lot)",
        Cause.LASER: "Laser",
        Cause.OPERATOR: "Operator",
        Cause.MEASUREMENT: "Measurement or test equipment",
        Cause.STATION: "Station PC or network",
        Cause.PLANNED: "Planned stop (shift, maintenance)",
        Cause.NONE: "No assignable cause found",
        Cause.OTHER: "Other (say what in the note)",
    }
)


class AlarmErrorCode(StrEnum):
    """Stable codes for acknowledgements that are refused (nothing is changed)."""

    NOT_FOUND = "alarm_not_found"
    ALREADY_ACKNOWLEDGED = "alarm_already_acknowledged"
    INVALID_CAUSE = "alarm_invalid_cause"
    NOTE_REQUIRED = "alarm_note_required"
    NOTE_TOO_LONG = "alarm_note_too_long"


class AlarmError(LtaError, ValueError):
    """An acknowledgement that cannot be made; the message says what to do instead."""

    code: AlarmErrorCode

    def __init__(self, code: AlarmErrorCode, message: str) -> None:
        super().__init__(code, message)


@dataclass(frozen=True)
class Finding:
    """A condition a rule found now: what the evaluation upserts."""

    kind: AlarmKind
    station_pk: int
    model: str  # '' for the station as a whole
    detail: str


@dataclass(frozen=True)
class Alarm:
    id: int
    kind: AlarmKind
    station: str
    model: str | None
    detail: str
    opened_at: datetime
    last_seen_at: datetime
    cleared_at: datetime | None
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    cause: Cause | None
    note: str | None

    @property
    def is_open(self) -> bool:
        """Not yet acknowledged."""
        return self.acknowledged_at is None

    @property
    def is_active(self) -> bool:
        """The condition still held at the latest evaluation."""
        return self.cleared_at is None

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def cause_label(self) -> str | None:
        return None if self.cause is None else CAUSE_LABELS[self.cause]


@dataclass(frozen=True)
class Applied:
    """What one evaluation changed."""

    findings: int
    opened: int  # new alarms
    cleared: int  # alarms whose condition stopped holding


@dataclass(frozen=True)
class LastRun:
    evaluated_at: datetime
    took_ms: float
    findings: int
    opened: int
    cleared: int


_COLUMNS = (
    "a.id, a.kind, s.name, NULLIF(a.model, ''), a.detail, a.opened_at, a.last_seen_at, "
    "a.cleared_at, a.acknowledged_by, a.acknowledged_at, a.cause, a.note"
)


def _alarm(row: Sequence[object]) -> Alarm:
    values = list(row)
    values[1] = AlarmKind(str(values[1]))
    values[10] = None if values[10] is None else Cause(str(values[10]))
    return Alarm(*values)  # type: ignore[arg-type]


def apply_findings(conn: psycopg.Connection, findings: Sequence[Finding], now: datetime) -> Applied:
    """Upsert the findings of one evaluation and clear the live alarms no rule found now.

    Runs in the caller's transaction (the job holds the evaluation lock in it).
    Two set-based statements, whatever the number of findings.
    """
    kinds = [str(f.kind) for f in findings]
    pks = [f.station_pk for f in findings]
    models = [f.model for f in findings]
    details = [f.detail for f in findings]
    rows = conn.execute(
        "INSERT INTO alarms AS a (kind, station_pk, model, detail, opened_at, last_seen_at) "
        "SELECT f.kind, f.station_pk, f.model, f.detail, %(now)s, %(now)s "
        "FROM unnest(%(kinds)s::text[], %(pks)s::bigint[], %(models)s::text[], "
        "%(details)s::text[]) AS f (kind, station_pk, model, detail) "
        "ON CONFLICT (kind, station_pk, model) "
        "WHERE acknowledged_at IS NULL OR cleared_at IS NULL "
        "DO UPDATE SET detail = EXCLUDED.detail, "
        "last_seen_at = GREATEST(a.last_seen_at, EXCLUDED.last_seen_at), "
        "cleared_at = NULL "
        "RETURNING (xmax = 0)",
        {"now": now, "kinds": kinds, "pks": pks, "models": models, "details": details},
    ).fetchall()
    cleared = conn.execute(
        "UPDATE alarms a SET cleared_at = %(now)s WHERE a.cleared_at IS NULL "
        "AND (a.kind, a.station_pk, a.model) NOT IN ("
        "SELECT * FROM unnest(%(kinds)s::text[], %(pks)s::bigint[], %(models)s::text[]))",
        {"now": now, "kinds": kinds, "pks": pks, "models": models},
    )
    return Applied(
        findings=len(findings),
        opened=sum(1 for (inserted,) in rows if inserted),
        cleared=cleared.rowcount,
    )


def record_run(conn: psycopg.Connection, applied: Applied, now: datetime, took_ms: float) -> None:
    conn.execute(
        "INSERT INTO alarm_runs (id, evaluated_at, took_ms, findings, opened, cleared) "
        "VALUES (1, %s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET "
        "evaluated_at = EXCLUDED.evaluated_at, took_ms = EXCLUDED.took_ms, "
        "findings = EXCLUDED.findings, opened = EXCLUDED.opened, cleared = EXCLUDED.cleared",
        (now, took_ms, applied.findings, applied.opened, applied.cleared),
    )


def last_run(db: Database) -> LastRun | None:
    """When alarms were last evaluated (by any central instance), or None: never."""
    with db.pool.connection() as conn:
        row = conn.execute(
            "SELECT evaluated_at, took_ms, findings, opened, cleared FROM alarm_runs"
        ).fetchone()
    return None if row is None else LastRun(*row)


def _scope(stations: Sequence[str], models: Sequence[str]) -> sql.Composable:
    terms: list[sql.Composable] = []
    if stations:
        terms.append(sql.SQL("s.name = ANY({})").format(sql.Literal(list(stations))))
    if models:
        # A station-wide alarm (silent, yield) concerns every model the station makes.
        terms.append(
            sql.SQL("(a.model = '' OR a.model = ANY({}))").format(sql.Literal(list(models)))
        )
    return sql.SQL("").join(sql.SQL(" AND ") + t for t in terms)


_SELECT = sql.SQL("SELECT {cols} FROM alarms a JOIN stations s ON s.id = a.station_pk ").format(
    cols=sql.SQL(_COLUMNS)
)


def _listed(
    db: Database,
    state: str,
    order: str,
    stations: Sequence[str],
    models: Sequence[str],
    limit: int,
) -> list[Alarm]:
    """Alarms in one state (a WHERE condition of ours, never user text), in one order."""
    where = sql.SQL("WHERE {state}{scope} ORDER BY {order} DESC, a.id DESC LIMIT {n}")
    query = _SELECT + where.format(
        state=sql.SQL(state),
        scope=_scope(stations, models),
        order=sql.SQL(order),
        n=sql.Literal(limit),
    )
    with db.pool.connection() as conn:
        return [_alarm(row) for row in conn.execute(query)]


def open_alarms(
    db: Database,
    stations: Sequence[str] = (),
    models: Sequence[str] = (),
    limit: int = MAX_LISTED,
) -> list[Alarm]:
    """Alarms nobody has acknowledged yet, newest first (optionally of some stations/models)."""
    return _listed(db, "a.acknowledged_at IS NULL", "a.opened_at", stations, models, limit)


def acknowledged_alarms(
    db: Database,
    stations: Sequence[str] = (),
    models: Sequence[str] = (),
    limit: int = DEFAULT_ACKNOWLEDGED_SHOWN,
) -> list[Alarm]:
    """The most recently acknowledged alarms, newest acknowledgement first."""
    return _listed(
        db, "a.acknowledged_at IS NOT NULL", "a.acknowledged_at", stations, models, limit
    )


def live_acknowledged(
    db: Database, stations: Sequence[str] = (), models: Sequence[str] = ()
) -> list[Alarm]:
    """Acknowledged alarms whose condition still holds (a station still silent), newest first."""
    return _listed(
        db,
        "a.acknowledged_at IS NOT NULL AND a.cleared_at IS NULL",
        "a.opened_at",
        stations,
        models,
        MAX_LISTED,
    )


def _one(conn: psycopg.Connection, alarm_id: int) -> Alarm | None:
    where = sql.SQL("WHERE a.id = {}").format(sql.Literal(alarm_id))
    row = conn.execute(_SELECT + where).fetchone()
    return None if row is None else _alarm(row)


def get_alarm(db: Database, alarm_id: int) -> Alarm | None:
    with db.pool.connection() as conn:
        return _one(conn, alarm_id)


def parse_cause(text: str) -> Cause:
    try:
        return Cause(text.strip().lower())
    except ValueError:
        choices = ", ".join(str(c) for c in Cause)
        raise AlarmError(
            AlarmErrorCode.INVALID_CAUSE,
            f"Choose an assignable cause from the list ({choices}); nothing was changed.",
        ) from None


def _check_note(cause: Cause, note: str) -> str | None:
    text = note.strip()
    if len(text) > MAX_NOTE:
        raise AlarmError(
            AlarmErrorCode.NOTE_TOO_LONG,
            f"The note has {len(text)} characters; keep it to {MAX_NOTE} and try again.",
        )
    if cause is Cause.OTHER and not text:
        raise AlarmError(
            AlarmErrorCode.NOTE_REQUIRED,
            "With the cause 'Other', say in the note what it was; nothing was changed.",
        )
    return text or None


def acknowledge(
    db: Database, alarm_id: int, cause: Cause | str, note: str, by: Actor, now: datetime
) -> Alarm:
    """Acknowledge an open alarm with a cause and a note; audited in the same transaction.

    An alarm acknowledged already (by someone else a moment ago, or a reload of
    the form) is refused, so the first acknowledgement is never overwritten.
    """
    chosen = cause if isinstance(cause, Cause) else parse_cause(cause)
    text = _check_note(chosen, note)
    with db.pool.connection() as conn, conn.transaction():
        row = conn.execute(
            "UPDATE alarms SET acknowledged_by = %s, acknowledged_at = %s, cause = %s, note = %s "
            "WHERE id = %s AND acknowledged_at IS NULL RETURNING id",
            (by.name, now, str(chosen), text, alarm_id),
        ).fetchone()
        if row is None:
            existing = conn.execute(
                "SELECT acknowledged_by, acknowledged_at FROM alarms WHERE id = %s", (alarm_id,)
            ).fetchone()
            if existing is None:
                raise AlarmError(
                    AlarmErrorCode.NOT_FOUND,
                    f"There is no alarm {alarm_id}; reload the overview for the current list.",
                )
            raise AlarmError(
                AlarmErrorCode.ALREADY_ACKNOWLEDGED,
                f"Alarm {alarm_id} was already acknowledged by {existing[0]} at "
                f"{existing[1].astimezone(UTC):%Y-%m-%d %H:%M} UTC; their cause and note are kept.",
            )
        alarm = _one(conn, alarm_id)
        assert alarm is not None  # noqa: S101 - updated in this transaction
        target = f"alarm {alarm.id}: {alarm.kind} {alarm.station}"
        if alarm.model:
            target += f" {alarm.model}"
        audit.record_in(
            conn,
            by,
            Action.ALARM_ACKNOWLEDGE,
            target,
            f"cause {chosen}" + (f"; note: {text}" if text else ""),
        )
    return alarm
