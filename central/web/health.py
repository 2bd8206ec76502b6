"""/healthz for load balancers and IT; /metrics for Prometheus."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from central.db import ping
from central.web.context import context

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    ok = ping(context().db)
    return jsonify({"status": "ok" if ok else "unhealthy", "database": "ok" if ok else "failed"}), (
        200 if ok else 503
    )


@bp.get("/metrics")
def metrics() -> Response:
    return Response(generate_latest(context().metrics.registry), mimetype=CONTENT_TYPE_LATEST)
