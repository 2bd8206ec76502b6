"""The fleet overview (`/`), acknowledging alarms and the Excel download, through HTTP.

Central's real app (Flask test client) on a real PostgreSQL: stations send real
heartbeats through the ingest API and real analysed station files through the
ingest path; alarms come from the real evaluation; the download is read back
with openpyxl. Dates are today's, as the page takes them from the clock.
"""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from central.alarms import job as alarm_job
from central.alarms import rows as alarms
from central.alarms.rows import AlarmKind
from central.alarms.rules import AlarmSettings
from central.auth.audit import Action
from central.db import Database
from central.export import DATA_COLUMNS
from central.queries.filters import Filters
from central.stations import add_station
from central.web.export import XLSX, file_name
from shared.models import FileResult, Status
from shared.protocol import HEARTBEAT_PATH, PROTOCOL_VERSION, Heartbeat
from tests.central.alarm_helpers import FAILING, PASSING, real, send, unit
from tests.central.auth_helpers import (
    VIEWER,
    VIEWER_PASSWORD,
    audit_rows,
    is_login_redirect,
    make_client,
    page_csrf,
    signed_in,
)

TODAY = date.today()
WEEK_START = TODAY - timedelta(days=TODAY.weekday())


def at(day: date, minute: int) -> datetime:
    return datetime.combine(day, time(0, 0)) + timedelta(minutes=minute)


def text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def row_of(page: str, attribute: str, value: str) -> str:
    """The HTML of the table row with data-<attribute>="<value>" (the first one)."""
    found = re.search(rf'<tr data-{attribute}="{re.escape(value)}".*?</tr>', page, re.S)
    assert found, f"no row with data-{attribute}={value!r}"
    return found.group(0)


def section(page: str, ident: str) -> str:
    found = re.search(rf'<section class="panel" id="{ident}">.*?</section>', page, re.S)
    assert found, f"no section {ident}"
    return found.group(0)


def beat(client: FlaskClient, station: str, token: str, pending: int, dead: int) -> None:
    body = Heartbeat(
        protocol_version=PROTOCOL_VERSION,
        station_id=station,
        agent_version="0.4.2",
        sent_at=datetime.now(UTC),
        outbox_pending=pending,
        oldest_undelivered_age_s=125.0,
        dead_letters=dead,
        last_error=None,
    ).model_dump_json()
    sent = client.post(
        HEARTBEAT_PATH,
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert sent.status_code == 200, sent.get_json()


def line_1_units() -> list[FileResult]:
    """Today 3 pass and 1 fail; earlier this week (when today is not Monday) 2 more passes."""
    good, bad = real(PASSING), real(FAILING)
    units = [unit(good, f"l1-t{i}", at(TODAY, 1 + i)) for i in range(3)]
    units.append(unit(bad, "l1-fail", at(TODAY, 5)))
    if WEEK_START < TODAY:
        units += [unit(good, f"l1-w{i}", at(WEEK_START, 10 + i)) for i in range(2)]
    units.append(unit(good, "l1-old", at(WEEK_START - timedelta(days=3), 30)))  # last week
    return units


def line_2_units() -> list[FileResult]:
    """Today 2 passes of 6828 and a warning of 8340-1; last week a fail of 8340-1."""
    units = [unit(real(PASSING), f"l2-{i}", at(TODAY, 20 + i)) for i in range(2)]
    units.append(unit(real(FAILING), "l2-warn", at(TODAY, 23), status=Status.WARNING))
    units.append(unit(real(FAILING), "l2-old", at(WEEK_START - timedelta(days=2), 40)))
    return units


@pytest.fixture
def fleet_db(central_db: Database, accounts: object) -> Database:
    """line-1: heartbeat (outbox 7, 2 rejected) and units; line-2: units only, silent for 3 h."""
    token = add_station(central_db, "line-1")
    beat(make_client(central_db), "line-1", token, pending=7, dead=2)
    send(central_db, "line-1", line_1_units())
    send(central_db, "line-2", line_2_units())
    with central_db.pool.connection() as conn:
        conn.execute(
            "UPDATE stations SET last_seen_at = now() - interval '3 hours' WHERE name = 'line-2'"
        )
    return central_db


def evaluated(db: Database) -> alarms.Alarm:
    """Run the real evaluation; line-2's silence is the one alarm."""
    assert alarm_job.evaluate(db, AlarmSettings()) is not None
    (alarm,) = alarms.open_alarms(db)
    assert (alarm.kind, alarm.station) == (AlarmKind.SILENT, "line-2")
    return alarm


@pytest.fixture
def viewer(fleet_db: Database) -> FlaskClient:
    return signed_in(fleet_db, VIEWER, VIEWER_PASSWORD)


# --------------------------------------------------------------------------- the page


def test_the_overview_needs_a_signed_in_user(central_db: Database) -> None:
    client = make_client(central_db)
    assert is_login_redirect(client.get("/"), "/")
    assert is_login_redirect(client.get("/?station=line-1"), "/?station=line-1")


def test_every_station_with_contact_agent_outbox_and_yields(viewer: FlaskClient) -> None:
    page = text(viewer.get("/"))
    one = row_of(page, "station", "line-1")
    assert re.search(r'class="nowrap contact"[^>]*>\d+ s ago<', one)  # its heartbeat just now
    assert '<td class="mono">0.4.2</td>' in one  # agent version from the heartbeat
    assert re.search(r'class="num outbox">7<br><span class="muted small">oldest 2 min</span>', one)
    assert "2 rejected" in one
    week = 4 + (2 if WEEK_START < TODAY else 0)
    yields = re.findall(r'<td class="num yield">([^<]+)</td>', one)
    assert yields == ["75.0 %", f"{100 * (week - 1) / week:.1f} %"]
    assert f'<td class="num">{week}</td>' in one
    assert 'href="/models?station=line-1"' in one and 'href="/units?station=line-1"' in one

    two = row_of(page, "station", "line-2")
    assert "3 h ago" in two
    assert '<td class="mono">0.1.0-test</td>' in two  # no heartbeat: from its results
    assert 'title="no heartbeat yet">—' in two
    # A warning passes (shared/quality.py): 3 of 3 today, and this week too.
    assert re.findall(r'<td class="num yield">([^<]+)</td>', two) == ["100.0 %", "100.0 %"]
    tile = section_tile(page, "tile-yield-today")
    assert "85.7 %" in tile  # 6 of 7 units today
    assert "Alarms not evaluated yet" in page and 'id="stale-alarms"' in page


def section_tile(page: str, ident: str) -> str:
    found = re.search(rf'<div class="tile[^"]*" id="{ident}">.*?</div>\s*</div>', page, re.S)
    assert found
    return found.group(0)


def test_an_open_alarm_is_on_top_and_acknowledged_through_the_form(
    fleet_db: Database, viewer: FlaskClient
) -> None:
    alarm = evaluated(fleet_db)
    page = text(viewer.get("/"))
    assert page.index('id="open-alarms"') < page.index('id="stations"')
    opened = row_of(section(page, "open-alarms"), "alarm-id", str(alarm.id))
    assert 'data-kind="silent"' in opened and "Station silent" in opened
    assert f'action="/alarms/{alarm.id}/acknowledge"' in opened
    assert 'name="csrf_token"' in opened
    assert "station-silent" in row_of(page, "station", "line-2")
    assert "Alarms evaluated" in page and 'id="stale-alarms"' not in page

    done = viewer.post(
        f"/alarms/{alarm.id}/acknowledge",
        data={
            "csrf_token": page_csrf(viewer, "/"),
            "cause": "station",
            "note": "PC switched off over the weekend",
            "next": "/",
        },
    )
    assert done.status_code == 303
    assert done.headers["Location"] == f"/?acknowledged={alarm.id}"
    after = text(viewer.get(done.headers["Location"]))
    assert f"Alarm {alarm.id} (Station silent, line-2) acknowledged by {VIEWER}" in after
    assert 'id="no-open-alarms"' in after
    shown = row_of(section(after, "acknowledged-alarms"), "alarm-id", str(alarm.id))
    assert 'data-cause="station"' in shown
    for expected in (VIEWER, "Station PC or network", "PC switched off over the weekend"):
        assert expected in shown
    assert "still holds" in shown  # line-2 is still silent
    assert "(ack.)" in row_of(after, "station", "line-2")
    assert audit_rows(fleet_db)[-1][:3] == (
        VIEWER,
        str(Action.ALARM_ACKNOWLEDGE),
        f"alarm {alarm.id}: silent line-2",
    )


def test_acknowledging_without_the_csrf_token_is_refused(
    fleet_db: Database, viewer: FlaskClient
) -> None:
    alarm = evaluated(fleet_db)
    refused = viewer.post(f"/alarms/{alarm.id}/acknowledge", data={"cause": "laser"})
    assert refused.status_code == 403
    assert alarms.open_alarms(fleet_db) == [alarm]


def test_acknowledging_needs_a_session(fleet_db: Database) -> None:
    alarm = evaluated(fleet_db)
    stranger = make_client(fleet_db)
    refused = stranger.post(f"/alarms/{alarm.id}/acknowledge", data={"cause": "laser"})
    assert refused.status_code == 403  # no session: no CSRF token can match
    assert alarms.open_alarms(fleet_db) == [alarm]


def test_a_refused_acknowledgement_shows_why_and_keeps_the_form(
    fleet_db: Database, viewer: FlaskClient
) -> None:
    alarm = evaluated(fleet_db)
    refused = viewer.post(
        f"/alarms/{alarm.id}/acknowledge",
        data={
            "csrf_token": page_csrf(viewer, "/"),
            "cause": "other",
            "note": "",
            "next": "/?station=line-2",
        },
    )
    assert refused.status_code == 400
    page = text(refused)
    assert "With the cause 'Other', say in the note what it was" in page
    form = row_of(section(page, "open-alarms"), "alarm-id", str(alarm.id))
    assert '<option value="other" selected>' in form
    assert 'name="next" value="/?station=line-2"' in form
    assert 'data-station="line-1"' not in section(page, "stations")  # the filters are kept
    assert alarms.open_alarms(fleet_db) == [alarm]


def test_acknowledging_twice_or_an_unknown_alarm(fleet_db: Database, viewer: FlaskClient) -> None:
    alarm = evaluated(fleet_db)
    token = page_csrf(viewer, "/")
    form = {"csrf_token": token, "cause": "none", "note": "", "next": "/"}
    assert viewer.post(f"/alarms/{alarm.id}/acknowledge", data=form).status_code == 303
    again = viewer.post(f"/alarms/{alarm.id}/acknowledge", data={**form, "cause": "laser"})
    assert again.status_code == 409
    assert f"already acknowledged by {VIEWER}" in text(again)
    assert viewer.post("/alarms/999999/acknowledge", data=form).status_code == 404
    kept = alarms.get_alarm(fleet_db, alarm.id)
    assert kept is not None and kept.cause is alarms.Cause.NONE


def test_the_form_returns_to_the_same_view_and_never_to_another_site(
    fleet_db: Database, viewer: FlaskClient
) -> None:
    alarm = evaluated(fleet_db)
    token = page_csrf(viewer, "/")
    done = viewer.post(
        f"/alarms/{alarm.id}/acknowledge",
        data={"csrf_token": token, "cause": "planned", "next": "/?station=line-2&acknowledged=1"},
    )
    assert done.headers["Location"] == f"/?station=line-2&acknowledged={alarm.id}"
    with fleet_db.pool.connection() as conn:
        conn.execute(
            "UPDATE alarms SET acknowledged_at = NULL, acknowledged_by = NULL, cause = NULL"
        )
    away = viewer.post(
        f"/alarms/{alarm.id}/acknowledge",
        data={"csrf_token": token, "cause": "planned", "next": "https://elsewhere.invalid/x"},
    )
    assert away.headers["Location"] == f"/?acknowledged={alarm.id}"


def test_filters_narrow_the_page_and_travel_into_every_link(
    fleet_db: Database, viewer: FlaskClient
) -> None:
    alarm = evaluated(fleet_db)
    start = (TODAY - timedelta(days=30)).isoformat()
    page = text(viewer.get(f"/?station=line-1&from={start}&to={TODAY}&model=6828"))
    assert 'data-station="line-2"' not in section(page, "stations")
    assert 'id="no-open-alarms"' in page  # the silent alarm is line-2's
    assert "(counts and yields of 6828 only)" in page
    one = row_of(page, "station", "line-1")
    assert f'href="/models?station=line-1&from={start}&to={TODAY}&model=6828"' in one
    assert f'href="/units?station=line-1&from={start}&to={TODAY}&model=6828"' in one
    export = re.search(r'href="([^"]+)" id="export-link"', page)
    assert export is not None
    query = parse_qs(urlsplit(html.unescape(export.group(1))).query)
    assert query == {
        "from": [start],
        "to": [TODAY.isoformat()],
        "station": ["line-1"],
        "model": ["6828"],
    }

    two = text(viewer.get("/?station=line-2"))
    assert re.findall(r'data-alarm-id="(\d+)"', section(two, "open-alarms")) == [str(alarm.id)]


def tile_value(page: str, ident: str) -> str:
    found = re.search(r'<div class="tile-value">([^<]*)</div>', section_tile(page, ident))
    assert found
    return found.group(1).strip()


def expected_tiles(query: dict[str, str]) -> dict[str, str]:
    """The headline of `query`, counted here from the units the fixture sent."""
    sent = {"line-1": line_1_units(), "line-2": line_2_units()}
    dated = "from" in query or "to" in query
    # Without dates: this week; with dates: the range, open at the start when only `to`.
    start = date.fromisoformat(query.get("from", (date.min if dated else WEEK_START).isoformat()))
    end = date.fromisoformat(query.get("to", TODAY.isoformat()))
    day = end if dated else TODAY
    chosen = [
        u
        for station, units in sent.items()
        for u in units
        if query.get("station") in (None, station) and query.get("model") in (None, u.model)
    ]

    def made(u: FileResult) -> date:
        assert u.test_date is not None
        return u.test_date.date()

    def yield_text(units: list[FileResult]) -> str:
        judged = [u for u in units if u.status in ("Pass", "Warning", "Fail")]
        passed = [u for u in judged if u.status != "Fail"]
        return f"{100 * len(passed) / len(judged):.1f} %" if judged else "—"

    on_day = [u for u in chosen if made(u) == day]
    in_span = [u for u in chosen if start <= made(u) <= end]
    return {
        "tile-today": f"{len(on_day):,}",
        "tile-yield-today": yield_text(on_day),
        "tile-yield-week": yield_text(in_span),
        "span-units": f"{len(in_span):,} units",
    }


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"model": "6828"},
        {"model": "8340-1"},
        {"station": "line-2", "model": "8340-1"},
        {"station": "line-1"},
        {"from": (WEEK_START - timedelta(days=7)).isoformat(), "to": TODAY.isoformat()},
        {"model": "8340-1", "from": (TODAY - timedelta(days=20)).isoformat()},
        {"station": "line-1", "to": (TODAY - timedelta(days=1)).isoformat()},
    ],
)
def test_the_filtered_headline_counts_the_filtered_units(
    viewer: FlaskClient, query: dict[str, str]
) -> None:
    page = text(viewer.get("/?" + "&".join(f"{k}={v}" for k, v in query.items())))
    want = expected_tiles(query)
    assert {k: tile_value(page, k) for k in ("tile-today", "tile-yield-today")} == {
        k: want[k] for k in ("tile-today", "tile-yield-today")
    }
    assert tile_value(page, "tile-yield-week") == want["tile-yield-week"]
    assert want["span-units"] in section_tile(page, "tile-yield-week")


def test_station_rows_count_the_filtered_model_only(viewer: FlaskClient) -> None:
    page = text(viewer.get("/?model=8340-1"))
    one, two = row_of(page, "station", "line-1"), row_of(page, "station", "line-2")
    assert re.findall(r'<td class="num yield">([^<]+)</td>', one) == ["0.0 %", "0.0 %"]
    assert re.findall(r'<td class="num yield">([^<]+)</td>', two) == ["100.0 %", "100.0 %"]
    chosen = text(viewer.get(f"/?model=8340-1&from={WEEK_START - timedelta(days=7)}&to={TODAY}"))
    assert "Yield over the range" in chosen
    assert (
        re.findall(r'<td class="num yield">([^<]+)</td>', row_of(chosen, "station", "line-2"))[1]
        == "50.0 %"
    )  # last week's fail is in the range


def test_the_export_link_defaults_to_this_week(viewer: FlaskClient) -> None:
    page = text(viewer.get("/"))
    export = re.search(r'href="([^"]+)" id="export-link"', page)
    assert export is not None
    assert export.group(1) == f"/export.xlsx?from={WEEK_START}&to={TODAY}"


def test_an_unreadable_filter_is_a_clear_400(viewer: FlaskClient) -> None:
    refused = viewer.get("/?from=12/03/2025")
    assert refused.status_code == 400
    assert "'from' must be a date as YYYY-MM-DD, not '12/03/2025'." in text(refused)
    assert viewer.get("/export.xlsx?from=2025-03-12&to=2025-03-01").status_code == 400


# --------------------------------------------------------------------------- the download


def test_the_export_link_downloads_the_filtered_workbook(
    fleet_db: Database, viewer: FlaskClient
) -> None:
    evaluated(fleet_db)
    page = text(viewer.get("/?station=line-1"))
    link = re.search(r'href="([^"]+)" id="export-link"', page)
    assert link is not None
    got = viewer.get(link.group(1))
    assert got.status_code == 200
    assert got.mimetype == XLSX
    assert got.headers["Content-Disposition"] == (
        f"attachment; filename=lta-results_{WEEK_START}_to_{TODAY}_line-1.xlsx"
    )
    assert got.headers["Cache-Control"] == "no-store"
    book = load_workbook(io.BytesIO(got.data), read_only=True)
    assert book.sheetnames == ["Summary", "Data"]
    data = list(book["Data"].iter_rows(values_only=True))
    assert list(data[0]) == [c[0] for c in DATA_COLUMNS]
    week = 4 + (2 if WEEK_START < TODAY else 0)  # line-1's units this week, one track each
    assert len(data) - 1 == week == int(got.headers["X-LTA-Export-Rows"])
    assert {row[1] for row in data[1:]} == {"line-1"}
    assert sorted(row[3] for row in data[1:]) == sorted(
        r.serial or "" for r in line_1_units() if r.test_date and r.test_date.date() >= WEEK_START
    )
    summary = [row for row in book["Summary"].iter_rows(values_only=True)]
    labels = [row[0] if row else None for row in summary]
    assert "Open alarms" in labels
    assert labels[labels.index("Open alarms") + 2 :][:1] == ["None open."]  # line-2's is not here


def test_the_download_lists_the_open_alarms_of_its_stations(
    fleet_db: Database, viewer: FlaskClient
) -> None:
    alarm = evaluated(fleet_db)
    got = viewer.get(f"/export.xlsx?from={TODAY}&to={TODAY}&station=line-2")
    book = load_workbook(io.BytesIO(got.data), read_only=True)
    rows = [row for row in book["Summary"].iter_rows(values_only=True)]
    listed = [r for r in rows if len(r) >= 5 and r[1] == "line-2" and r[3] == "Station silent"]
    assert len(listed) == 1 and listed[0][4] == alarm.detail
    assert len(list(book["Data"].iter_rows())) == 1 + 3  # line-2 made three units today


def test_the_download_needs_a_signed_in_user(fleet_db: Database) -> None:
    anonymous = make_client(fleet_db)
    target = f"/export.xlsx?from={TODAY}&to={TODAY}"
    assert is_login_redirect(anonymous.get(target), target)


@pytest.mark.parametrize(
    ("filters", "name"),
    [
        (Filters(), "lta-results_all-dates.xlsx"),
        (Filters(start=date(2025, 3, 1)), "lta-results_from_2025-03-01.xlsx"),
        (Filters(end=date(2025, 3, 9)), "lta-results_to_2025-03-09.xlsx"),
        (
            Filters(date(2025, 3, 1), date(2025, 3, 9), ("line-1", "line-2"), ("8340/1 A",)),
            "lta-results_2025-03-01_to_2025-03-09_2-stations_8340-1-A.xlsx",
        ),
        (Filters(models=("a", "b", "c")), "lta-results_all-dates_3-models.xlsx"),
    ],
)
def test_download_names_say_what_is_inside(filters: Filters, name: str) -> None:
    assert file_name(filters) == name
