"""JSON API: status, recent results (keyset paging), one result in full."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, request

from agent.store import reads
from agent.web.context import context
from agent.web.status import build_status

bp = Blueprint("api", __name__, url_prefix="/api")

MAX_LIMIT = 500


def _int_arg(name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        abort(400, description=f"'{name}' must be a whole number, got {raw!r}.")
    if not low <= value <= high:
        abort(400, description=f"'{name}' must be between {low} and {high}.")
    return value


@bp.get("/status")
def status() -> Any:
    return jsonify(build_status(context()))


@bp.get("/results")
def results() -> Any:
    limit = _int_arg("limit", 50, 1, MAX_LIMIT) or 50
    before = _int_arg("before", None, 1, 2**62)
    items = reads.recent(context().store.read(), limit=limit, before=before)
    next_before = items[-1]["pk"] if len(items) == limit else None
    return jsonify({"results": items, "next_before": next_before})


@bp.get("/results/<key>")
def result(key: str) -> Any:
    conn = context().store.read()
    pk = reads.find_pk(conn, key)
    loaded = None if pk is None else reads.load_result(conn, pk)
    meta = None if pk is None else reads.result_meta(conn, pk)
    if loaded is None or meta is None:
        abort(404, description=f"No result {key!r} on this station.")
    body = loaded.model_dump(mode="json")
    body.update(
        {"pk": pk, "result_id": meta["result_id"], "station_id": context().runtime.station_id}
    )
    body.update(  # re-analysis (agent.reanalysis): 0 = first analysis; earlier ones newest first
        revision=meta["revision"],
        revision_reason=meta["revision_reason"],
        revisions=reads.revisions(conn, int(meta["pk"])),
    )
    return jsonify(body)
