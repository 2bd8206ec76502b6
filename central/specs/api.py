"""GET /api/v1/specs: the spec table for stations, with an ETag so an unchanged table
costs a 304 and a header.

Stations authenticate with their bearer token exactly as for the ingest API
(central/stations.py), are rate-limited the same way, and get the table as
the SpecPush model of shared/spec_wire.py.
"""

from __future__ import annotations

from typing import Any

import psycopg
from flask import Blueprint, Response, jsonify, request

from central.specs import store
from central.stations import token_owner
from central.web.context import context
from shared.spec_wire import SPECS_PATH, SpecPush, etag_of

bp = Blueprint("specs_api", __name__)


def _refusal(status: int, code: str, message: str) -> Response:
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


def _station_refusal() -> Response | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _refusal(401, "unauthorized", "Send the station token as 'Authorization: Bearer'.")
    owner = token_owner(context().db, token.strip()[:512])
    if owner is None:
        return _refusal(401, "unauthorized", "Unknown station token.")
    if owner.revoked:
        return _refusal(403, "token_revoked", f"The token of station {owner.name!r} is revoked.")
    wait = context().limiter.acquire(owner.name)
    if wait > 0:
        response = _refusal(429, "rate_limited", "Too many requests from this station.")
        response.headers["Retry-After"] = str(max(1, int(wait) + 1))
        return response
    return None


@bp.get(SPECS_PATH)
def specs() -> Any:
    refusal = _station_refusal()
    if refusal is not None:
        return refusal
    try:
        version = store.table_version(context().db)
        if version == 0:
            # QA has not made a table yet: a station keeps its own spec file (if any)
            # rather than be told that no model has a spec.
            return _refusal(404, "no_spec_table", "Central has no model-spec table yet.")
        etag = etag_of(f"{store.VERSION_PREFIX}{version}")
        if etag in request.headers.get("If-None-Match", "")[:1024]:
            return Response(status=304, headers={"ETag": etag})
        _, table, reanalyse = store.station_table(context().db)
    except psycopg.OperationalError:
        return _refusal(503, "database_unavailable", "The database is unavailable; retry later.")
    push = SpecPush(
        table=table,
        reanalyse_days=reanalyse.get("days", 0),
        reanalyse_models=tuple(reanalyse.get("models", ())),
    )
    response = Response(push.model_dump_json(), mimetype="application/json")
    response.headers["ETag"] = etag_of(table.version)
    response.headers["Cache-Control"] = "no-cache"
    return response
