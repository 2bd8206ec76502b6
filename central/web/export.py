"""`GET /export.xlsx?<filters>`: the Excel export of the filtered results, as a download.

The workbook is central/export.py's (Summary and Data sheets); this module
only reads the filters from the URL (the same `from`, `to`, `station`,
`model` as every dashboard page, so the overview's and the model page's
links export what they show), adds the open alarms of those stations and
models to the Summary, and sends the file under a name that says what is in
it, e.g. `lta-results_2025-03-10_to_2025-03-16_line-1_8340-1.xlsx`.

openpyxl assembles the zip only when the workbook is saved, so the file is
written to a spooled temporary file (memory up to 32 MiB, then disk) and
streamed from there; its rows come from a server-side cursor, so a large
export never sits in memory. A web export holds at most WEB_MAX_ROWS data
rows (the Summary says when more matched); every signed-in user may export.
At most `web.max_concurrent_exports` run at once per process; one more gets
429 with Retry-After instead of a web thread (docs/security.md).
"""

from __future__ import annotations

import re
import tempfile
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, request, send_file
from werkzeug.exceptions import TooManyRequests

from central.alarms import rows as alarms
from central.export import AlarmRow, write_workbook
from central.queries.filters import Filters, QueryError
from central.web.auth import login_required
from central.web.context import context

bp = Blueprint("export", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WEB_MAX_ROWS = 250_000
EXPORT_RETRY_S = 30
SPOOL_BYTES = 32 * 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _part(text: str) -> str:
    """A piece of a file name every operating system accepts."""
    return _UNSAFE.sub("-", text).strip("-.")[:40] or "x"


def file_name(filters: Filters) -> str:
    """What the download is called: the date range, then the station and model if one each."""
    if filters.start and filters.end:
        parts = [f"{filters.start}_to_{filters.end}"]
    elif filters.start:
        parts = [f"from_{filters.start}"]
    elif filters.end:
        parts = [f"to_{filters.end}"]
    else:
        parts = ["all-dates"]
    for values, kind in ((filters.stations, "stations"), (filters.models, "models")):
        if len(values) == 1:
            parts.append(_part(values[0]))
        elif values:
            parts.append(f"{len(values)}-{kind}")
    return "lta-results_" + "_".join(parts) + ".xlsx"


def _alarm_rows(filters: Filters) -> list[AlarmRow]:
    found = alarms.open_alarms(context().db, filters.stations, filters.models)
    return [
        AlarmRow(
            raised_at=a.opened_at,
            station=a.station,
            model=a.model,
            kind=a.kind_label,
            detail=a.detail,
        )
        for a in found
    ]


@bp.get("/export.xlsx")
@login_required
def download() -> Any:
    try:
        filters = Filters.from_query(request.args.items(multi=True))
    except QueryError as exc:
        abort(400, description=exc.message)
    slots = context().export_slots
    if not slots.acquire(blocking=False):
        raise TooManyRequests(
            "Other Excel exports are being written right now; try again in half a minute. "
            "(IT: web.max_concurrent_exports sets how many may run at once.)",
            retry_after=EXPORT_RETRY_S,
        )
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - send_file closes it
    try:
        done = write_workbook(
            context().db,
            filters,
            spool,
            alarms=_alarm_rows(filters),
            max_rows=WEB_MAX_ROWS,
            generated_at=datetime.now(UTC),
        )
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    finally:
        slots.release()  # the workbook is written; sending it holds no database connection
    response = send_file(
        spool,
        mimetype=XLSX,
        as_attachment=True,
        download_name=file_name(filters),
        max_age=0,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-LTA-Export-Rows"] = str(done.rows)
    response.headers["X-LTA-Export-Truncated"] = "true" if done.truncated else "false"
    return response
