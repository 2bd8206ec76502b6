"""Units: search them by serial, model, station and date; open one with its curves and re-trims.

`GET /units?serial=&model=&station=&from=&to=&cursor=` lists matching units
newest first, a page at a time, with an "older" link that carries a keyset
cursor, so the hundredth page costs what the first does. Every criterion
lives in the URL: a link shows a colleague the same list.

`GET /units/<result_id>` is one unit as the station saw it: every track's
error curve inside its band (the same chart as the station page, from
shared/charts/track.py), every metric, the trim history pass by pass
(shared/trim_history.py, as on the station's unit page), the station's own
spec, the file and station it came from, and every result of the same model
and serial (re-trims) with links.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from flask import Blueprint, abort, render_template, request, url_for

from central.queries import units
from central.queries.filters import Filters, QueryError
from central.web.auth import login_required
from central.web.context import context
from shared.charts.track import track_chart
from shared.models import TrackResult
from shared.trim_history import pass_views

bp = Blueprint("units", __name__)

PAGE_SIZE = units.DEFAULT_PAGE
DETAIL_CHART = (1100, 420)  # viewBox units, as the station's unit page draws a track
MAX_SERIAL_SHOWN = 200  # characters of a (refused) serial echoed back in the form


# --------------------------------------------------------------------------- search


def _link(pairs: list[tuple[str, str]]) -> str:
    query = urlencode(pairs)
    return url_for("units.search") + (f"?{query}" if query else "")


@bp.get("/units")
@login_required
def search() -> Any:
    """The search form and one page of results; a query it cannot read gets a 400 page."""
    db = context().db
    serial = request.args.get("serial", "").strip()
    cursor = request.args.get("cursor", "").strip() or None
    form = {
        "serial": serial[:MAX_SERIAL_SHOWN],
        "model": request.args.get("model", "").strip(),
        "station": request.args.get("station", "").strip(),
        "from": request.args.get("from", "").strip(),
        "to": request.args.get("to", "").strip(),
    }
    choices = {
        "stations": units.station_names(db),
        "models": units.model_names(db),
    }
    try:
        filters = Filters.from_query(request.args.items(multi=True))
        page = units.search_units(db, filters, serial=serial or None, cursor=cursor)
    except QueryError as exc:
        return render_template(
            "units.html", form=form, error=exc, rows=[], older=None, newest=None, **choices
        ), 400
    metrics = units.key_metrics(db, [row.result_id for row in page.rows])
    criteria = ([("serial", serial)] if serial else []) + filters.to_query()
    older = None
    if page.next_cursor is not None:
        older = _link([*criteria, ("cursor", page.next_cursor)])
    return render_template(
        "units.html",
        form=form,
        error=None,
        rows=[(row, metrics.get(row.result_id)) for row in page.rows],
        older=older,
        newest=_link(criteria) if cursor else None,
        searched=bool(criteria),
        **choices,
    )


# --------------------------------------------------------------------------- one unit


def track_view(track: TrackResult) -> dict[str, Any]:
    """A track's chart (untrimmed curve faint, as on the station) and its trim history."""
    return {
        "track": track,
        "svg": track_chart(track, DETAIL_CHART, show_untrimmed=True),
        "passes": pass_views(track),
    }


@bp.get("/units/<uuid:result_id>")
@login_required
def unit(result_id: UUID) -> Any:
    found = units.unit(context().db, result_id)
    if found is None:
        abort(
            404,
            description=(
                f"No unit has the result id {result_id}. It may have been mistyped, or sent "
                "to another central; search for the unit by its serial instead."
            ),
        )
    serial_search = None
    if found.row.serial:
        pairs = [("serial", found.row.serial)]
        if found.row.model:
            pairs.append(("model", found.row.model))
        serial_search = _link(pairs)
    return render_template(
        "unit.html",
        unit=found,
        result=found.result,
        tracks=[track_view(t) for t in found.result.tracks],
        serial_search=serial_search,
    )
