"""The read API: `GET /api/v1/...` for every figure of the dashboard, and its OpenAPI document.

Each route reads its filters exactly as its page does (Filters.from_query,
or the model pages' parse_view with their 90-day default, or the priorities
page's with its 28 days), builds its body in
central/api/figures.py from the pages' own queries, and answers JSON, or for
a table `format=csv` (central/api/csv_table.py: the same rows, one column per
field, nested figures flattened as `day_yield_pct`). A refusal is
{"error": {"code", "message"}} with its status: 400 for a parameter, 401
without a session or read token (central/api/access.py), 404 for a name or id
that is not there. Every answer is bounded: lists come from queries with a
LIMIT, and `limit` parameters have a maximum.

The routes are declared with `operation`, which registers the view and its
OpenAPI description together (central/api/openapi.py).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from functools import cache
from typing import Any
from urllib.parse import quote, urlencode
from uuid import UUID

from flask import Blueprint, Response, abort, jsonify, request
from pydantic import BaseModel
from werkzeug.datastructures import MultiDict

from central.alarms import rows as alarm_rows
from central.api import figures
from central.api import schemas as out
from central.api.access import ApiRefusal, read_access
from central.api.csv_table import bodies_table
from central.api.more_figures import model_compare as compare_body
from central.api.more_figures import quality_table as quality_body
from central.api.more_figures import station_rows as compare_rows
from central.api.more_schemas import ModelCompare, Quality, QualityRowOut, StationCompareOut
from central.api.openapi import Operation, Param, document
from central.api.priorities_schema import ImpactOut, PrioritiesOut
from central.priorities.queries import RANKINGS
from central.queries import units
from central.queries.filters import MAX_NAME, Filters, QueryError, QueryErrorCode
from central.specs import quality
from central.specs import quality_web as quality_page
from central.web import models as model_pages
from central.web import priorities as priority_pages
from central.web.context import context

bp = Blueprint("read_api", __name__, url_prefix="/api/v1")
OPERATIONS: list[Operation] = []
MAX_ALARMS = alarm_rows.MAX_LISTED
DEFAULT_ALARMS = 100

# --------------------------------------------------------------------------- parameters

# As on the pages' forms, an empty value is no filter.
NAME = {"type": "string", "maxLength": MAX_NAME}
DAY = {"type": "string", "pattern": r"^((19|2\d)\d\d-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01]))?$"}
FILTERS = (
    Param("from", DAY, "First production day included (YYYY-MM-DD)."),
    Param("to", DAY, "Last production day included (YYYY-MM-DD)."),
    Param("station", NAME, "Only these stations (repeat for several).", repeated=True),
    Param("model", NAME, "Only these models (repeat for several).", repeated=True),
    Param("element", NAME, "Only models of this element type (the spec table's)."),
    Param("cls", NAME, "Only models of this product class (the spec table's)."),
)
MODEL_VIEW = (
    Param(
        "tests",
        {"type": "string", "pattern": r"^(none|[1-8](,[1-8])*)$"},
        "Nelson tests marked on the I-MR charts (e.g. 1,2,5; 'none'); default all.",
    ),
    Param(
        "window",
        {"type": "integer", "minimum": model_pages.MIN_TREND_WINDOW, "maximum": 5000},
        "Units per window of the capability trend.",
    ),
    Param(
        "baseline",
        {"type": "integer", "minimum": 10, "maximum": model_pages.SERIES_LIMIT},
        "Estimate control limits from the first N units (default: all).",
    ),
)
FORMAT = Param(
    "format", {"type": "string", "enum": ["json", "csv"]}, "json (default), or csv: the table."
)
MODEL_PATH = Param(
    "model",
    {"type": "string", "pattern": r"^[^/\\?#%\x00-\x1f]{1,128}$"},
    "The model (part number), exactly as the stations name it.",
    in_path=True,
)


def _int(args: MultiDict[str, str], key: str, default: int, low: int, high: int) -> int:
    if key not in args:
        return default
    raw = args.get(key, "").strip()
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise QueryError(
            QueryErrorCode.INVALID_FILTER,
            f"'{key}' must be a whole number from {low} to {high}, not {raw[:20]!r}.",
        )
    return value


def _wants_csv() -> bool:
    chosen = request.args.get("format", "json").strip().lower()
    if chosen not in ("json", "csv"):
        raise QueryError(QueryErrorCode.INVALID_FILTER, "'format' is json or csv.")
    return chosen == "csv"


def _filters() -> Filters:
    return Filters.from_query(request.args.items(multi=True))


def _today() -> date:
    """Production days are the plant's (central runs in its time zone), as on the pages."""
    return date.today()


# --------------------------------------------------------------------------- answers


def _csv(name: str, row_type: type[BaseModel], rows: list[Any]) -> Response:
    response = Response(bodies_table(row_type, rows), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def _json(body: BaseModel) -> Response:
    return Response(body.model_dump_json(by_alias=True), mimetype="application/json")


def operation(
    rule: str,
    path: str,
    summary: str,
    body: type[BaseModel],
    params: tuple[Param, ...] = (),
    *,
    csv: bool = False,
    not_found: bool = False,
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Register a GET view under /api/v1 and its description in the OpenAPI document."""

    def register(view: Callable[..., Response]) -> Callable[..., Response]:
        every = params + ((FORMAT,) if csv else ())
        OPERATIONS.append(
            Operation(
                path="/api/v1" + path,
                operation_id=view.__name__,
                summary=summary,
                body=body,
                params=every,
                csv=csv,
                not_found=not_found,
            )
        )
        guarded = read_access(view)
        bp.add_url_rule(rule, view.__name__, guarded, methods=["GET"])
        return guarded

    return register


@bp.after_request
def _private(response: Response) -> Response:
    """Figures behind a sign-in: no shared cache may keep them."""
    response.headers.setdefault("Cache-Control", "private, no-store")
    return response


@bp.app_template_global("csv_url")
def csv_url(table: str, *extra: tuple[str, str]) -> str:
    """The link beside a page's table: the table's API path with the page's own query (so
    the same filters, the same page of units) and `format=csv`. `table` is ours, e.g.
    "units", or `api_path("models", model, "stations")`."""
    pairs = [(k, v) for k, v in request.args.items(multi=True) if k not in ("format", "state")]
    return f"/api/v1/{table}?" + urlencode([*pairs, *extra, ("format", "csv")])


@bp.app_template_global("api_path")
def api_path(*parts: str) -> str:
    """Path segments (a model name among them) quoted for a URL."""
    return "/".join(quote(part, safe="") for part in parts)


@bp.errorhandler(ApiRefusal)
def _refused(exc: ApiRefusal) -> Response:
    response = jsonify({"error": {"code": exc.code, "message": exc.message}})
    response.status_code = exc.status
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="lta-central read API"'
    if exc.retry_after is not None:
        response.headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    return response


@bp.errorhandler(QueryError)
def _bad_query(exc: QueryError) -> tuple[Response, int]:
    return jsonify({"error": {"code": str(exc.code), "message": exc.message}}), 400


# --------------------------------------------------------------------------- the figures


@operation(
    "/overview",
    "/overview",
    "The overview: headline tiles, station rows and alarms, with the page's filters.",
    out.Overview,
    FILTERS,
)
def overview() -> Response:
    body = figures.overview(context().db, _filters(), _today(), datetime.now(UTC))
    return _json(body)


@operation(
    "/stations",
    "/stations",
    "The overview's station table (the day's and the span's units per station).",
    out.StationRows,
    FILTERS,
    csv=True,
)
def stations() -> Response:
    csv = _wants_csv()
    found = figures.overview(context().db, _filters(), _today(), datetime.now(UTC))
    if csv:
        return _csv("stations", out.StationRowOut, found.stations)
    return _json(
        out.StationRows(
            filters=found.filters,
            day=found.day,
            span_start=found.span_start,
            span_end=found.span_end,
            chosen=found.chosen,
            rows=found.stations,
        )
    )


@operation(
    "/alarms",
    "/alarms",
    "Alarms: open (default), active (acknowledged, still holding) or acknowledged.",
    out.AlarmList,
    (
        *FILTERS,
        Param(
            "state",
            {"type": "string", "enum": ["open", "active", "acknowledged"]},
            "Which alarms.",
        ),
        Param(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": MAX_ALARMS},
            f"At most this many (default {DEFAULT_ALARMS}).",
        ),
    ),
    csv=True,
)
def alarms() -> Response:
    csv = _wants_csv()
    state = request.args.get("state", "open").strip()
    if state not in ("open", "active", "acknowledged"):
        raise QueryError(QueryErrorCode.INVALID_FILTER, "'state' is open, active or acknowledged.")
    limit = _int(request.args, "limit", DEFAULT_ALARMS, 1, MAX_ALARMS)
    body = figures.alarm_list(context().db, _filters(), state, limit)
    return _csv("alarms", out.AlarmOut, body.rows) if csv else _json(body)


@operation(
    "/models",
    "/models",
    "The model list: counts, yield, Cpk with its interval, drift and open alarms per model "
    "(default window: the last 90 days).",
    out.ModelList,
    FILTERS,
    csv=True,
)
def model_list() -> Response:
    csv = _wants_csv()
    view = model_pages.parse_view(request.args)
    body = figures.model_list(context().db, view, context().alarms.baseline_days)
    return _csv("models", out.ModelRowOut, body.rows) if csv else _json(body)


def _model_view(model: str) -> tuple[model_pages.View, Any]:
    view = model_pages.parse_view(request.args)
    view = replace(view, filters=view.filters.with_models())  # the path names the model
    return view, model_pages._summary_or_404(model, view)  # the page's 404, word for word


@operation(
    "/models/<path:model>/stations",
    "/models/{model}/stations",
    "A model's rows per station: units, yield, near misses, drift state.",
    out.ModelStations,
    (MODEL_PATH, *FILTERS),
    csv=True,
    not_found=True,
)
def model_stations(model: str) -> Response:
    csv = _wants_csv()
    view, _ = _model_view(model)
    rows = figures.model_stations(context().db, model, view)
    if csv:
        return _csv("model-stations", out.ModelStationOut, rows)
    return _json(out.ModelStations(model=model, filters=out.FiltersOut.of(view.filters), rows=rows))


@operation(
    "/models/<path:model>",
    "/models/{model}",
    "A model's figures: counts, Cpk/Ppk with intervals, I-MR limits, drift per station, "
    "failing positions along the travel, per-station rows, the SPC series.",
    out.ModelDetail,
    (
        MODEL_PATH,
        *FILTERS,
        *MODEL_VIEW,
        Param(
            "points",
            {"type": "integer", "minimum": 0, "maximum": model_pages.SERIES_LIMIT},
            f"The latest N units of the SPC series in the answer (default and most "
            f"{model_pages.SERIES_LIMIT}; 0 for none).",
        ),
    ),
    not_found=True,
)
def model_detail(model: str) -> Response:
    view, summary = _model_view(model)
    points = _int(request.args, "points", model_pages.SERIES_LIMIT, 0, model_pages.SERIES_LIMIT)
    db = context().db
    body = figures.model_detail(db, model, view, summary, points, context().alarms.baseline_days)
    return _json(body)


@operation(
    "/units",
    "/units",
    "Units, newest first (by serial when one is given), a page at a time.",
    out.UnitList,
    (
        *FILTERS,
        Param("serial", {"type": "string", "maxLength": 128}, "Serial prefix, any case."),
        Param(
            "cursor",
            {"type": "string", "maxLength": units.MAX_CURSOR},
            "The next_cursor of the previous page.",
        ),
        Param(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": units.MAX_PAGE},
            f"Units per page (default {units.DEFAULT_PAGE}).",
        ),
    ),
    csv=True,
)
def unit_list() -> Response:
    csv = _wants_csv()
    serial = request.args.get("serial", "").strip() or None
    cursor = request.args.get("cursor", "").strip() or None
    limit = _int(request.args, "limit", units.DEFAULT_PAGE, 1, units.MAX_PAGE)
    body = figures.unit_list(context().db, _filters(), serial, cursor, limit)
    if csv:
        response = _csv("units", out.UnitRowOut, body.rows)
        if body.next_cursor:
            response.headers["X-Next-Cursor"] = body.next_cursor
        return response
    return _json(body)


@operation(
    "/units/<uuid:result_id>",
    "/units/{result_id}",
    "One unit: every track's figures and the unit's re-trims.",
    out.UnitDetail,
    (
        Param(
            "result_id",
            {"type": "string", "format": "uuid"},
            "The unit's result id.",
            in_path=True,
        ),
    ),
    not_found=True,
)
def unit_detail(result_id: UUID) -> Response:
    body = figures.unit_detail(context().db, result_id)
    if body is None:
        abort(404, description=f"No unit has the result id {result_id}.")
    return _json(body)


@operation(
    "/priorities",
    "/priorities",
    "Where to look first: models and stations ranked by failing units or their cost, this "
    "week against the four before, failing positions along the travel, recommendations "
    "with their evidence (default window: the last 28 days).",
    PrioritiesOut,
    (
        *FILTERS,
        Param(
            "rank",
            {"type": "string", "enum": list(RANKINGS)},
            "Rank by failing units (fails, default) or by their cost (cost).",
        ),
    ),
    csv=True,
)
def priorities() -> Response:
    """The page's own parser and gathering, so page and API cannot disagree. The CSV is
    the ranked models table (the page's main table, both its shown and folded rows):
    the stations ranking and the weekly tables stay in the JSON."""
    csv = _wants_csv()
    body = PrioritiesOut.of(priority_pages.gathered(priority_pages.parse_view(request.args)))
    return _csv("priorities-models", ImpactOut, body.models) if csv else _json(body)


@cache
def _document_text() -> str:
    """Built once per process: the operations are all declared when this module loads."""
    return json.dumps(document(OPERATIONS), sort_keys=True)


@bp.get("/openapi.json")
def openapi() -> Response:
    """The document is public, like any API's reference: it holds no figure."""
    return Response(_document_text(), mimetype="application/json")


# --------------------------------------------------------------------------- quality, compare


@operation(
    "/quality",
    "/quality",
    "The quality page's rows: per group, yield under the governing policy and the strict "
    "rule, rescued units by adjustment, first-pass and final yield (default: 30 days).",
    Quality,
    (
        *FILTERS,
        Param(
            "group",
            {"type": "string", "enum": list(quality.GROUPINGS)},
            "Rows per this grouping (default model_station).",
        ),
    ),
    csv=True,
)
def quality_table() -> Response:
    csv = _wants_csv()
    grouping = request.args.get("group", "model_station")
    if grouping not in quality.GROUPINGS:  # the page falls back; a script is told
        raise QueryError(
            QueryErrorCode.INVALID_FILTER, f"'group' is one of {', '.join(quality.GROUPINGS)}."
        )
    _filters()  # refused as on every route (length, NUL, dates); the page then truncates
    body = quality_body(quality_page.read_view(request.args))
    return _csv("quality", QualityRowOut, body.rows) if csv else _json(body)


@operation(
    "/models/<path:model>/compare",
    "/models/{model}/compare",
    "A model's stations compared: sigma gradient and linearity error per station (n, mean, "
    "sd, percentiles) and whether they differ (Kruskal-Wallis, Welch, one-way ANOVA).",
    ModelCompare,
    (MODEL_PATH, *FILTERS),
    csv=True,
    not_found=True,
)
def model_compare(model: str) -> Response:
    csv = _wants_csv()
    view, _ = _model_view(model)
    found = model_pages.compare_figures(model, view)
    if csv:
        return _csv("model-compare", StationCompareOut, compare_rows(found))
    return _json(compare_body(model, view.filters, found))
