"""Evaluating the alarm rules in `lta-central serve`: once a minute, one instance at a time.

Central runs as several stateless instances behind a load balancer; each
starts this job, and a PostgreSQL advisory lock taken inside the
evaluation's transaction lets only one of them evaluate at a time: the
others find the lock taken and skip that round (they do not queue up behind
it). The lock ends with the transaction, so an instance that dies mid-way
leaves nothing held. Every round records when it ran (table `alarm_runs`),
so the overview can say how fresh its alarms are.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from loguru import logger

from central.alarms.rows import Applied, apply_findings, record_run
from central.alarms.rules import AlarmSettings, describe, find_all
from central.db import Database

EVALUATION_LOCK_KEY = 0x4C54_414C  # "LTAL"; the migrations use "LTAC"
STATEMENT_TIMEOUT_MS = 60_000  # one evaluation must never hold a connection for longer
JOB_ID = "alarms"


@dataclass(frozen=True)
class Evaluation:
    applied: Applied
    took_ms: float
    by_kind: dict[str, int]


def evaluate(
    db: Database,
    settings: AlarmSettings,
    now: datetime | None = None,
    today: date | None = None,
) -> Evaluation | None:
    """Run every rule and store the findings; None when another instance is evaluating.

    now: an aware instant (default: the clock). today: the production day
    (default: this machine's local date, as the dashboard's pages take it).
    """
    moment = now or datetime.now(UTC)
    day = today or date.today()
    started = time.perf_counter()
    with db.pool.connection() as conn, conn.transaction():
        conn.execute(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")
        # The series query's estimated cost trips PostgreSQL's JIT, whose compiling costs
        # more than the short index walks it would speed up.
        conn.execute("SET LOCAL jit = off")
        locked = conn.execute(
            "SELECT pg_try_advisory_xact_lock(%s)", (EVALUATION_LOCK_KEY,)
        ).fetchone()
        if locked is None or not locked[0]:
            return None
        findings = find_all(conn, settings, moment, day)
        applied = apply_findings(conn, findings, moment)
        took_ms = (time.perf_counter() - started) * 1000.0
        record_run(conn, applied, moment, took_ms)
    return Evaluation(applied=applied, took_ms=took_ms, by_kind=describe(findings))


def _round(db: Database, settings: AlarmSettings) -> None:
    """One scheduled round; an error is logged and the next round tries again."""
    try:
        done = evaluate(db, settings)
    except Exception:
        logger.exception("Alarm evaluation failed; trying again next round")
        return
    if done is None:
        logger.debug("Alarm evaluation skipped: another central instance is evaluating")
        return
    if done.applied.opened or done.applied.cleared:
        logger.info(
            "Alarms: {} opened, {} cleared; conditions now {} ({:.0f} ms)",
            done.applied.opened,
            done.applied.cleared,
            done.by_kind,
            done.took_ms,
        )


def start(db: Database, settings: AlarmSettings, every_s: float) -> BackgroundScheduler:
    """Evaluate now and then every `every_s` seconds in a background thread."""
    scheduler = BackgroundScheduler(
        daemon=True, executors={"default": ThreadPoolExecutor(1)}, timezone=UTC
    )
    scheduler.add_job(
        _round,
        "interval",
        args=(db, settings),
        seconds=every_s,
        id=JOB_ID,
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC),
    )
    scheduler.start()
    return scheduler
