"""The /api/status document, shared by the JSON API and the status page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agent.config import current_shift_start
from agent.store import reads
from agent.web.context import AgentContext
from agent.web.sync_alert import sync_alert
from shared.quality import yield_pct


def build_status(ctx: AgentContext, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    conn = ctx.store.read()
    start = current_shift_start(now.astimezone(), ctx.shift_starts)
    counts = reads.counts_since(conn, start)
    outbox = reads.outbox_stats(conn, now)
    ctx.runtime.metrics.outbox_pending.set(outbox["pending"])
    runtime = ctx.runtime
    central = runtime.central.as_dict()
    latest = reads.latest(conn)
    return {
        "station_id": runtime.station_id,
        "station_name": runtime.station_name,
        "latest": latest,
        # While no unit is shown: how many results are history (the page then says why).
        "history_results": reads.count_history(conn) if latest is None else None,
        "counts": counts,
        "shift_started_at": start.isoformat(),
        # The one definition (shared/quality.py), rounded as the page prints it.
        "yield_pct": _rounded(yield_pct(counts["Pass"], counts["Warning"], counts["Fail"])),
        "outbox": outbox,
        "history_import": runtime.history_import.snapshot(),
        "central": central,
        "sync_alert": sync_alert(central, outbox, now, ctx.sync_alert_after_s),
        "spec_version": runtime.specs.version,
        "specs": runtime.specs.as_dict(),
        "health": {
            "starting_up": runtime.starting_up,
            "analysis_error": runtime.analysis_error,
            "inbox_problems": runtime.inbox_problems,
            "disk_full": ctx.store.space.snapshot(),
            "watching": runtime.inboxes,
            "files_waiting": runtime.files_waiting,
            "last_error": runtime.last_error,
            "last_error_at": runtime.last_error_at.isoformat() if runtime.last_error_at else None,
            "scan_age_s": runtime.scan_age_s(),
        },
        "now": now.isoformat(),
    }


def _rounded(pct: float | None) -> float | None:
    return None if pct is None else round(pct, 1)
