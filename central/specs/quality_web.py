"""/quality: the spec-aware picture of quality (central/specs/quality.py) for QA.

Per model and station by default, or by element type, product class, model or
station; filtered by the dashboard's date, station and model filters (in the
URL, like every page) and by element type and product class from the spec
table. Without dates it shows the last 30 production days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, render_template, request
from werkzeug.datastructures import MultiDict

from central.queries.filters import Filters
from central.specs import quality, store
from central.web.auth import login_required
from central.web.context import context

bp = Blueprint("quality", __name__, template_folder="templates")

DEFAULT_DAYS = 30
MAX_ARG = 64


@dataclass(frozen=True)
class QualityView:
    """What /quality shows, as read from its URL: the page and GET /api/v1/quality both
    read it here, so they cannot answer for different filters."""

    filters: Filters
    grouping: str
    element: str | None
    product_class: str | None


def read_view(args: MultiDict[str, str]) -> QualityView:
    """The page's filters (the last DEFAULT_DAYS days without dates), grouping (an unknown
    one is the default) and spec facets."""
    pairs = [(k, v[:MAX_ARG]) for k, v in args.items(multi=True)]
    filters = Filters.from_query(pairs)
    if filters.start is None and filters.end is None:
        today = date.today()
        filters = Filters(
            today - timedelta(days=DEFAULT_DAYS - 1), today, filters.stations, filters.models
        )
    grouping = args.get("group", "model_station")
    if grouping not in quality.GROUPINGS:
        grouping = "model_station"
    element = args.get("element", "")[:MAX_ARG] or None
    product_class = args.get("cls", "")[:MAX_ARG] or None
    return QualityView(filters, grouping, element, product_class)


def rows_of(view: QualityView) -> list[quality.QualityRow]:
    """The page's rows for a view (the API copies these)."""
    return quality.quality(
        context().db, view.filters, view.grouping, view.element, view.product_class
    )


@bp.get("/quality")
@login_required
def quality_page() -> Any:
    view = read_view(request.args)
    filters, grouping = view.filters, view.grouping
    element, product_class = view.element, view.product_class
    db = context().db
    rows = rows_of(view)
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
