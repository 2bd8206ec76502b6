"""/quality: the spec-aware picture of quality (central/specs/quality.py) for QA.

Per model and station by default, or by element type, product class, model or
station; filtered by the dashboard's date, station and model filters (in the
URL, like every page) and by element type and product class from the spec
table. Without dates it shows the last 30 production days.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, render_template, request

from central.queries.filters import Filters
from central.specs import quality, store
from central.web.auth import login_required
from central.web.context import context

bp = Blueprint("quality", __name__, template_folder="templates")

DEFAULT_DAYS = 30
MAX_ARG = 64


@bp.get("/quality")
@login_required
def quality_page() -> Any:
    pairs = [(k, v[:MAX_ARG]) for k, v in request.args.items(multi=True)]
    filters = Filters.from_query(pairs)
    if filters.start is None and filters.end is None:
        today = date.today()
        filters = Filters(
            today - timedelta(days=DEFAULT_DAYS - 1), today, filters.stations, filters.models
        )
    grouping = request.args.get("group", "model_station")
    if grouping not in quality.GROUPINGS:
        grouping = "model_station"
    element = request.args.get("element", "")[:MAX_ARG] or None
    product_class = request.args.get("cls", "")[:MAX_ARG] or None
    db = context().db
    rows = quality.quality(db, filters, grouping, element, product_class)
    kinds, classes = store.facets(db)
    base = [*filters.to_query(), ("element", element or ""), ("cls", product_class or "")]
    return render_template(
        "specs/quality.html",
        rows=rows,
        total=quality.totals(rows),
        keys=quality.GROUPINGS[grouping],
        grouping=grouping,
        groupings=list(quality.GROUPINGS),
        filters=filters,
        element=element or "",
        product_class=product_class or "",
        kinds=kinds,
        classes=classes,
        group_link=lambda g: "/quality?" + urlencode([*base, ("group", g)]),
    )
