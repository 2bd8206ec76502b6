"""The priorities page at `/priorities`: where to look first (docs/central.md).

- `GET /priorities`: models and stations ranked by the failures they cost,
  Pareto charts of failing models and of failing positions along the travel,
  this week against the four before, and recommendations with their evidence.
  The URL holds the filters of the other pages (`from`, `to`, `station`,
  `model`, `element`, `cls`) and `rank=fails|cost`; without dates the page
  shows the last DEFAULT_DAYS days. The same figures as JSON, or the ranked
  models as CSV: `GET /api/v1/priorities` (central/api/routes.py), which reads
  the URL with this module's parse_view and gathers with `gathered`.
- `POST /priorities/costs`: an admin sets or clears a model's cost per failing
  unit (CSRF-checked like every form; audited).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from flask import Blueprint, abort, redirect, render_template, request
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from central.auth.users import Role
from central.priorities.costs import CostError, clear_cost, set_cost
from central.priorities.page import Priorities, gather
from central.priorities.queries import RANKINGS
from central.queries import spec_groups
from central.queries.filters import Filters, QueryError, QueryErrorCode
from central.rollup_columns import FAIL_BINS
from central.stations import list_stations
from central.web.auth import actor, login_required, role_required, safe_next
from central.web.context import context
from shared.charts.pareto import pareto_chart, pareto_order

bp = Blueprint("priorities", __name__)

DEFAULT_DAYS = 28  # four weeks: long enough to rank, short enough to be about now
SHOWN_MODELS = 15  # ranked models in view; the others fold under a "the other n models"


@dataclass(frozen=True)
class View:
    filters: Filters  # dates resolved
    start: date
    end: date
    defaulted: bool
    rank: str

    def query(self, **changes: str) -> str:
        """This view's query string (a defaulted window stays relative), with changes."""
        pairs = [
            (k, v)
            for k, v in self.filters.to_query()
            if not self.defaulted or k not in ("from", "to")
        ]
        if self.rank != RANKINGS[0]:
            pairs.append(("rank", self.rank))
        pairs = [(k, v) for k, v in pairs if k not in changes] + list(changes.items())
        return urlencode(pairs)

    def others_query(self) -> str:
        """The filters for links to the other pages (units, models, export)."""
        return urlencode(
            [
                (k, v)
                for k, v in self.filters.to_query()
                if not self.defaulted or k not in ("from", "to")
            ]
        )


def parse_view(args: MultiDict[str, str]) -> View:
    filters = Filters.from_query(args.items(multi=True))
    defaulted = filters.start is None and filters.end is None
    end = filters.end or date.today()
    start = filters.start or end - timedelta(days=DEFAULT_DAYS - 1)
    rank = args.get("rank", RANKINGS[0]).strip() or RANKINGS[0]
    if rank not in RANKINGS:
        raise QueryError(
            QueryErrorCode.INVALID_FILTER,
            f"'rank' is one of {', '.join(RANKINGS)}, not {rank[:20]!r}.",
        )
    return View(filters.with_dates(start, end), start, end, defaulted, rank)


def _charts(found: Priorities, view: View) -> tuple[Markup, Markup]:
    by_cost = view.rank == "cost" and found.priced
    items = [
        (m.name or "(no model)", float(m.cost or 0) if by_cost else float(m.counts.fails))
        for m in found.models
    ]
    links = {
        m.name: f"/models/{quote(m.name, safe='')}?{view.others_query()}"
        for m in found.models
        if m.name
    }
    models = pareto_chart(
        "pareto-models",
        "Failing models" + (" by cost" if by_cost else ""),
        pareto_order(items, hrefs=links),
        y_label="cost of failing units" if by_cost else "failing units",
        x_title="model, largest first",
    )
    width = 100 // FAIL_BINS
    places = [
        (f"{i * width}-{(i + 1) * width} %", float(n)) for i, n in enumerate(found.positions.points)
    ]
    positions = pareto_chart(
        "pareto-positions",
        "Failing points along the travel",
        pareto_order(places, max_bars=FAIL_BINS),
        y_label="failing points",
        x_title="part of the travel (0 % = start), largest first",
    )
    return models, positions


def gathered(view: View) -> Priorities:
    """The page's figures for a view; the read API's `/api/v1/priorities` answers them too."""
    db = context().db
    classes = spec_groups.spec_classes(db)
    spec_groups.check(view.filters, classes)  # an unknown element type or class: 400
    return gather(
        db,
        view.filters,
        classes,
        view.rank,
        (view.start, view.end),
        context().alarms,
        date.today(),
    )


def _page(view: View, status: int = 200, error: str | None = None) -> tuple[str, int]:
    db = context().db
    classes = spec_groups.spec_classes(db)
    found = gathered(view)
    models_chart, positions_chart = _charts(found, view)
    here = request.full_path if request.query_string else request.path
    return (
        render_template(
            "priorities.html",
            view=view,
            found=found,
            models_chart=models_chart,
            positions_chart=positions_chart,
            stations=[s.name for s in list_stations(db)],
            classes=classes,
            rankings=RANKINGS,
            shown=SHOWN_MODELS,
            here=here,
            error=error,
        ),
        status,
    )


@bp.get("/priorities")
@login_required
def priorities() -> Any:
    try:
        view = parse_view(request.args)
    except QueryError as exc:
        abort(400, description=exc.message)
    return _page(view)


@bp.post("/priorities/costs")
@role_required(Role.ADMIN)
def costs() -> Any:
    came_from = safe_next(request.form.get("next", "/priorities"))
    model = request.form.get("model", "")
    try:
        if request.form.get("action") == "clear":
            clear_cost(context().db, model, actor())
        else:
            set_cost(context().db, model, request.form.get("cost", ""), actor())
    except CostError as exc:
        query = came_from.partition("?")[2]
        try:
            view = parse_view(MultiDict(parse_qsl(query)))
        except QueryError:
            view = parse_view(MultiDict())
        return _page(view, 400, exc.message)
    return redirect(came_from, 303)
