"""/healthz for IT monitoring and /metrics for Prometheus."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from agent.store import reads
from agent.web.context import context

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    ctx = context()
    store_ok = ctx.store.healthy()
    age = ctx.runtime.scan_age_s()
    watcher_ok = age is not None and age <= ctx.health_max_scan_age_s
    disk_full = ctx.store.space.snapshot()  # stored results still read fine; new ones wait
    store_state = "failed" if not store_ok else ("disk_full" if disk_full else "ok")
    runtime = ctx.runtime
    cannot = runtime.analysis_error
    body: dict[str, Any] = {
        "status": "ok"
        if store_state == "ok" and watcher_ok and not cannot and not runtime.inbox_problems
        else "unhealthy",
        "store": store_state,
        "watcher": "ok" if watcher_ok else ("starting" if age is None else "stalled"),
        "analysis": f"cannot start: {cannot}"
        if cannot
        else ("starting up" if runtime.starting_up else "ready"),
        "last_scan_age_s": age,
    }
    if runtime.inbox_problems:
        body["inbox"] = dict(runtime.inbox_problems)
    if disk_full:
        body["reason"] = disk_full["message"]
    elif cannot:
        body["reason"] = f"analysis cannot start: {cannot}"
    elif runtime.inbox_problems:
        body["reason"] = next(iter(runtime.inbox_problems.values()))
    return jsonify(body), 200 if body["status"] == "ok" else 503


@bp.get("/metrics")
def metrics() -> Response:
    ctx = context()
    if ctx.store.healthy():
        pending = reads.outbox_stats(ctx.store.read(), datetime.now(UTC))["pending"]
        ctx.runtime.metrics.outbox_pending.set(pending)
    return Response(generate_latest(ctx.runtime.metrics.registry), mimetype=CONTENT_TYPE_LATEST)
