"""The fleet overview at `/`: every station at a glance, and the alarms to act on.

What a QA engineer opens every morning: each station's last contact, agent
version, results waiting in its outbox (as of its latest heartbeat), yield
today and this week (or over the chosen dates), and its alarms. Open alarms
(nobody has acknowledged them yet) are listed first, newest first, each with
a form to acknowledge it with an assignable cause and a note; acknowledged
ones below show who, when, the cause and the note.

The filters in the URL (`station`, `model`, `from`, `to`, element type and
product class) narrow everything on the page: the headline tiles and each
station's counts (those models' units only; the dates choose the day and the
span, central/queries/fleet.py), the station list and the alarms. They are
carried into the links to each station's views and to the Excel export, so
a link shows a colleague the same page. The
page reads the fleet query (one statement over the rollups) and the alarm
table; the rules run in the background (central/alarms/job.py), never here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, abort, redirect, render_template, request

from central.alarms import rows as alarms
from central.alarms.rows import CAUSE_LABELS, Alarm, AlarmError, AlarmErrorCode
from central.auth.users import Role
from central.queries import spec_groups
from central.queries.filters import Filters, QueryError
from central.queries.fleet import Fleet, StationStatus, fleet
from central.web.auth import actor, login_required, role_required, safe_next
from central.web.context import context

bp = Blueprint("overview", __name__)

#: An alarm evaluation older than this is shown as a warning: the job may have stopped.
STALE_EVALUATION = timedelta(minutes=10)
ERROR_STATUS = {
    AlarmErrorCode.NOT_FOUND: 404,
    AlarmErrorCode.ALREADY_ACKNOWLEDGED: 409,
}


@dataclass(frozen=True)
class StationRow:
    """A station as its table row shows it, with the alarms that concern it."""

    status: StationStatus
    open_alarms: list[Alarm]
    active_alarms: list[Alarm]  # acknowledged, but the condition still holds

    @property
    def is_silent(self) -> bool:
        return any(a.kind is alarms.AlarmKind.SILENT for a in self.open_alarms + self.active_alarms)


def _filters(pairs: Iterable[tuple[str, str]]) -> Filters:
    try:
        return Filters.from_query(pairs)
    except QueryError as exc:
        abort(400, description=exc.message)


def export_filters(filters: Filters, overview: Fleet) -> Filters:
    """The export link's filters: the page's, with this week when no dates are chosen."""
    if filters.start or filters.end:
        return filters
    return filters.with_dates(overview.span_start, overview.span_end)


def link(path: str, pairs: list[tuple[str, str]]) -> str:
    return f"{path}?{urlencode(pairs)}" if pairs else path


def _rows(overview: Fleet, filters: Filters, live: list[Alarm]) -> list[StationRow]:
    rows = []
    for status in overview.stations:
        if filters.stations and status.name not in filters.stations:
            continue
        mine = [a for a in live if a.station == status.name]
        rows.append(
            StationRow(
                status=status,
                open_alarms=[a for a in mine if a.is_open],
                active_alarms=[a for a in mine if not a.is_open and a.is_active],
            )
        )
    return rows


def _page(
    filters: Filters,
    here: str,
    status: int = 200,
    error: str | None = None,
    form: dict[str, Any] | None = None,
) -> tuple[str, int]:
    db = context().db
    now = datetime.now(UTC)
    today = date.today()
    classes = spec_groups.spec_classes(db)
    spec_groups.check(filters, classes)  # an unknown element type or class: 400

    def kept(found: list[Alarm]) -> list[Alarm]:  # the model filter's SQL, by spec class
        return [a for a in found if not filters.by_spec or classes.matches(a.model, filters)]

    overview = fleet(db, today, now, filters)
    day_total, span_total = overview.total(filters.stations)
    live = kept(alarms.open_alarms(db, filters.stations, filters.models))
    active = kept(alarms.live_acknowledged(db, filters.stations, filters.models))
    acknowledged = kept(alarms.acknowledged_alarms(db, filters.stations, filters.models))
    run = alarms.last_run(db)
    done = _acknowledged_message()
    page = render_template(
        "overview.html",
        filters=filters,
        fleet=overview,
        day_total=day_total,
        span_total=span_total,
        stations=_rows(overview, filters, live + active),
        open_alarms=live,
        acknowledged=acknowledged,
        last_run=run,
        stale=run is None or now - run.evaluated_at > STALE_EVALUATION,
        causes=CAUSE_LABELS,
        export_url=link("/export.xlsx", export_filters(filters, overview).to_query()),
        export_filters=export_filters(filters, overview),
        here=here,
        station_links=_station_links(filters),
        error=error,
        done=done,
        form=form or {},
        classes=classes,
    )
    return page, status


def _station_links(filters: Filters) -> Any:
    """Links to one station's views, keeping the page's dates and models."""
    kept = [(k, v) for k, v in filters.to_query() if k != "station"]

    def links(name: str) -> dict[str, str]:
        pairs = [("station", name), *kept]
        return {"models": link("/models", pairs), "units": link("/units", pairs)}

    return links


def _acknowledged_message() -> str | None:
    raw = request.args.get("acknowledged", "")
    if not raw.isdigit():
        return None
    alarm = alarms.get_alarm(context().db, int(raw))
    if alarm is None or alarm.is_open:
        return None
    return (
        f"Alarm {alarm.id} ({alarm.kind_label}, {alarm.station}) acknowledged by "
        f"{alarm.acknowledged_by}: {alarm.cause_label}."
    )


@bp.get("/")
@login_required
def index() -> Any:
    here = request.full_path if request.query_string else request.path
    return _page(_filters(request.args.items(multi=True)), here)


def _back_to(target: str, alarm_id: int | None = None) -> tuple[str, list[tuple[str, str]]]:
    """The overview the form came from (this site only) and its query, without an old
    "acknowledged" notice; with alarm_id, a new notice saying what was acknowledged."""
    parts = urlsplit(safe_next(target))
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "acknowledged"]
    if alarm_id is not None:
        query.append(("acknowledged", str(alarm_id)))
    return urlunsplit(("", "", parts.path, urlencode(query), "")), query


@bp.post("/alarms/<int:alarm_id>/acknowledge")
@role_required(Role.VIEWER)  # acknowledging is QA work: viewers may, admins too
def acknowledge(alarm_id: int) -> Any:
    cause = request.form.get("cause", "")
    note = request.form.get("note", "")
    came_from = request.form.get("next", "/")
    try:
        alarms.acknowledge(context().db, alarm_id, cause, note, actor(), datetime.now(UTC))
    except AlarmError as exc:
        # The same overview again, saying why, with what was typed kept in the form.
        here, query = _back_to(came_from)
        form = {"alarm_id": alarm_id, "cause": cause, "note": note[: 2 * alarms.MAX_NOTE]}
        return _page(_filters(query), here, ERROR_STATUS.get(exc.code, 400), exc.message, form)
    return redirect(_back_to(came_from, alarm_id)[0], 303)
