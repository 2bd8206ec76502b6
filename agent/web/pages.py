"""The operator's status page, a unit's detail page, and the fragments the page polls for.

Everything is rendered on the server: the station has no internet and the
screen is read from across the room, so the page is plain HTML + inline SVG
with a small script (static/status.js) that polls /api/status and swaps in
`/partials/latest` and `/partials/recent` when a new unit lands. The initial
page and the fragments come from the same templates, so a poll never shows
anything the first render would not.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from flask import Blueprint, render_template, url_for

from agent.store import reads
from agent.web.context import AgentContext, context
from agent.web.deciding import adjustment_marks, verdict_detail
from agent.web.status import build_status
from agent.web.sync_alert import duration_words
from shared.charts.numbers import format_number, signed
from shared.charts.track import track_chart
from shared.explain import explain
from shared.formats import pct, yesno
from shared.models import FileResult, Status, TrackResult

bp = Blueprint("pages", __name__)

RECENT_ROWS = 50
# Chart sizes in viewBox units: one track gets the whole width, several share it.
WIDE_CHART = (1500, 400)
HALF_CHART = (800, 360)
DETAIL_CHART = (1100, 420)
# Shown in the header while the analysis worker loads (or first compiles) its kernels.
STARTING_UP_TEXT = "starting up"
# The sigma gauge is full at twice the threshold, so the threshold sits mid-bar.
GAUGE_FULL_SCALE = 2.0


# --- formatting shared by the templates (filters) -----------------------------------------


def _as_datetime(value: datetime | str | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


@bp.app_template_filter("local_time")
def local_time(value: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """Stored times are UTC; the operator reads the station PC's own clock."""
    moment = _as_datetime(value)
    if moment is None:
        return "—"
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    return moment.strftime(fmt)


@bp.app_template_filter("short_time")
def short_time(value: datetime | str | None) -> str:
    """Time of day for today's rows, date and time for older ones (the list spans shifts)."""
    moment = _as_datetime(value)
    if moment is None:
        return "—"
    local = moment.astimezone() if moment.tzinfo is not None else moment
    if local.date() == datetime.now().astimezone().date():
        return local.strftime("%H:%M:%S")
    return local.strftime("%m-%d %H:%M")


@bp.app_template_filter("num")
def num(value: float | None, digits: int = 3) -> str:
    """Same number format as the charts, so a value reads alike on the card and the plot."""
    return format_number(value, digits)


@bp.app_template_filter("signed")
def signed_num(value: float | None, digits: int = 3) -> str:
    """Offsets and changes: the sign tells the direction."""
    return signed(value, digits)


# Percentages and flags read as on the dashboard (shared/formats.py).
bp.add_app_template_filter(pct, "pct")
bp.add_app_template_filter(yesno, "yesno")


@bp.app_template_filter("age")
def age(seconds: float | None) -> str:
    """A duration as an operator says it: '12 s', '5 min', '3 h', '2 d' (status.js: ageText)."""
    return duration_words(seconds)


@bp.app_template_filter("verdict_class")
def verdict_class(status: Status | str | None) -> str:
    """CSS suffix of a verdict: pass, warning, fail, error (the page's colour classes)."""
    if status is None:
        return "none"
    try:
        return Status(status).value.lower()
    except ValueError:
        return "none"


@bp.app_template_filter("verdict_word")
def verdict_word(status: Status | str | None) -> str:
    """PASS / WARNING / FAIL / ERROR: the word shown in large type."""
    if status is None:
        return "—"
    return str(status).upper()


# --- view models ------------------------------------------------------------------------


def sigma_gauge(track: TrackResult) -> dict[str, Any] | None:
    """Bar fill (% of the gauge) and colour for sigma vs its threshold."""
    sigma, threshold = track.sigma_gradient, track.sigma_threshold
    if sigma is None or threshold is None or threshold <= 0:
        return None
    fill = min(1.0, max(0.0, sigma / threshold / GAUGE_FULL_SCALE))
    return {
        "fill_pct": round(100.0 * fill, 1),
        "mark_pct": round(100.0 / GAUGE_FULL_SCALE, 1),
        "ok": sigma <= threshold,
        "ratio_pct": 100.0 * sigma / threshold,
    }


def track_views(
    result: FileResult, size: tuple[int, int] | None = None, show_untrimmed: bool = False
) -> list[dict[str, Any]]:
    """What a track card shows: the track, its chart, its sigma gauge, and how it was judged."""
    if size is None:
        size = WIDE_CHART if len(result.tracks) <= 1 else HALF_CHART
    return [
        {
            "track": track,
            "svg": track_chart(track, size, show_untrimmed),
            "gauge": sigma_gauge(track),
            "explained": explain(track),
        }
        for track in result.tracks
    ]


def history_only_text(conn: sqlite3.Connection, hours: float) -> str:
    """Why the page waits although files were analysed: they were all history, or ""."""
    count = reads.count_history(conn)
    if count == 0 or hours <= 0:
        return ""
    files = "1 file" if count == 1 else f"{count} files"
    return (
        f"{files} imported as history (older than {hours:g} h): stored and sent to central, "
        "not shown as this shift's units. Units tested now appear here."
    )


def latest_view(
    conn: sqlite3.Connection, meta: dict[str, Any] | None, history_hours: float = 0.0
) -> dict[str, Any]:
    """The newest unit in full (curves included), or, while none is shown, why not."""
    if meta is None:
        return {
            "latest": None,
            "result": None,
            "tracks": [],
            "history_only": history_only_text(conn, history_hours),
        }
    result = reads.load_result(conn, int(meta["pk"]))
    if result is None:  # pragma: no cover - deleted between the two reads
        return {"latest": None, "result": None, "tracks": []}
    return {"latest": meta, "result": result, "tracks": track_views(result)}


def recent_rows(conn: sqlite3.Connection, limit: int = RECENT_ROWS) -> list[dict[str, Any]]:
    """The shift's recent units (history left out), each with what decided its verdict."""
    rows = reads.recent(conn, limit, include_history=False)
    for row in rows:
        row["detail"] = verdict_detail(row["tracks"])
        row["marks"] = adjustment_marks(row["tracks"])
    return rows


def health_texts(status: dict[str, Any], max_scan_age_s: float) -> dict[str, Any]:
    """The agent-health line's parts (status.js: healthTexts builds the same strings)."""
    health = status["health"]
    watching = ", ".join(health["watching"]) or "no folder configured"
    scan_age = health["scan_age_s"]
    if health.get("starting_up"):
        watching += " (starting up: preparing the analysis)"
    elif scan_age is None:
        watching += " (not scanning yet)"
    elif scan_age > max_scan_age_s:
        watching += f" (stalled {age(scan_age)})"
    waiting = health["files_waiting"]
    if health["last_error"]:
        when = local_time(health["last_error_at"], "%H:%M:%S")
        last_error = f"last error {when}: {health['last_error']}"
    else:
        last_error = "last error: none"
    outbox = status["outbox"]
    outbox_text = f"outbox: {outbox['pending']} pending"
    if outbox["pending"] and outbox["oldest_age_s"] is not None:
        outbox_text += f", oldest {age(outbox['oldest_age_s'])}"
    if outbox.get("dead"):
        outbox_text += f", {outbox['dead']} rejected"
    central_text, central_bad = central_health(status.get("central"))
    return {
        "starting_up": STARTING_UP_TEXT if health.get("starting_up") else "",
        "disk_full": disk_full_text(health.get("disk_full")),
        "history_import": history_import_text(status.get("history_import")),
        "watching": f"watching {watching}",
        "waiting": f"{waiting} file{'' if waiting == 1 else 's'} waiting",
        "last_error": last_error,
        "outbox": outbox_text,
        "central": central_text,
        "central_bad": central_bad,
        "specs": specs_text(status.get("specs")),
    }


def disk_full_text(disk_full: dict[str, Any] | None) -> str:
    """ "DISK FULL ..." while new results cannot be stored, else "" (status.js too)."""
    if not disk_full:
        return ""
    return f"DISK FULL: new results are not stored; free space on the disk of {disk_full['folder']}"


def history_import_text(progress: dict[str, int] | None) -> str:
    """ "importing history: n of m" while old files are imported, else "" (status.js too)."""
    if not progress:
        return ""
    return f"importing history: {progress['done']} of {progress['found']}"


def specs_text(specs: dict[str, Any] | None) -> str:
    """Which spec table the verdicts follow (status.js: specsText builds the same)."""
    if not specs or not specs.get("version"):
        return "specs: none (station rules)"
    text = f"specs: {specs['version']} ({specs.get('source') or '?'})"
    return text + (f", {specs['last_error']}" if specs.get("last_error") else "")


def central_health(central: dict[str, Any] | None) -> tuple[str, bool]:
    """The central part of the health line, and whether it is bad (status.js: centralText)."""
    if not central or not central.get("configured"):
        return "central: not configured", False
    last = central.get("last_sync_at")
    since = f", last sync {local_time(last, '%H:%M:%S')}" if last else ", no sync yet"
    error = central.get("last_error") or ""
    if central.get("auth_failed"):
        return f"central: TOKEN REFUSED{since} ({error})", True
    if central.get("reachable") is False:
        return f"central: unreachable{since} ({error})", True
    if central.get("reachable") is None:
        return "central: connecting", False
    return f"central: connected{since}", False


def page_title(status: dict[str, Any]) -> str:
    """Verdict first, so a glance at the browser tab tells the story (status.js: titleFor)."""
    latest = status["latest"]
    station = status["station_name"] or status["station_id"]
    if latest is None:
        return f"Waiting · {station}"
    unit = " ".join(str(part) for part in (latest["model"], latest["serial"]) if part)
    return f"{verdict_word(latest['status'])} {unit} · {station}".replace("  ", " ")


# --- routes -----------------------------------------------------------------------------


def _page_config(ctx: AgentContext) -> dict[str, Any]:
    """What status.js reads from <body data-...>: URLs come from url_for, never hard-coded."""
    return {
        "refresh_ms": ctx.page_refresh_ms,
        "max_scan_age_s": ctx.health_max_scan_age_s,
        "status_url": url_for("api.status"),
        "latest_url": url_for("pages.partial_latest"),
        "recent_url": url_for("pages.partial_recent"),
    }


@bp.get("/")
def index() -> str:
    """The whole screen; later updates come from the fragments below, not reloads."""
    ctx = context()
    status = build_status(ctx)
    conn = ctx.store.read()
    return render_template(
        "status.html",
        status=status,
        title=page_title(status),
        health=health_texts(status, ctx.health_max_scan_age_s),
        recent=recent_rows(conn),
        config=_page_config(ctx),
        **latest_view(conn, status["latest"], ctx.history_window_hours),
    )


@bp.get("/partials/latest")
def partial_latest() -> str:
    """#latest's content, fetched by status.js when /api/status reports a new unit."""
    ctx = context()
    conn = ctx.store.read()
    return render_template(
        "_latest.html", **latest_view(conn, reads.latest(conn), ctx.history_window_hours)
    )


@bp.get("/partials/recent")
def partial_recent() -> str:
    """#recent's content, fetched together with /partials/latest."""
    return render_template("_recent.html", recent=recent_rows(context().store.read()))


@bp.get("/units/<key>")
def unit(key: str) -> tuple[str, int]:
    """One unit by pk or result_id; an unknown key gets an HTML 404 with a way back."""
    conn = context().store.read()
    pk = reads.find_pk(conn, key)
    result = None if pk is None else reads.load_result(conn, pk)
    meta = None if pk is None else reads.result_meta(conn, pk)
    if result is None or meta is None:
        return render_template("not_found.html", key=key), 404
    return render_template(
        "unit.html",
        meta=meta,
        result=result,
        tracks=track_views(result, DETAIL_CHART, show_untrimmed=True),
    ), 200
