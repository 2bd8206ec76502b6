"""The unit search and a unit's page through HTTP, against a real PostgreSQL filled through
central's ingest with really analysed station files.

One database per module: line-1 sent the repository's seven real station
files, line-2 re-trimmed two of those units later, line-3 runs an agent of
protocol 1 (no trim history, no station spec), line-4 sent enough copies of
real units for several pages. Every expectation is computed here from what
was sent.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit
from uuid import UUID

import pytest
from flask.testing import FlaskClient

from agent.analysis.file import analyse_file
from central.auth.audit import CLI
from central.auth.users import Role, add_user
from central.db import Database
from central.queries import units as unit_queries
from central.web.units import PAGE_SIZE
from shared.charts.numbers import format_number, signed
from shared.charts.track import failing_indices
from shared.ids import result_id
from shared.models import FileResult, Status, TrackResult
from tests.central.auth_helpers import (
    VIEWER,
    VIEWER_PASSWORD,
    is_login_redirect,
    make_client,
    signed_in,
)
from tests.central.data_helpers import batch_of, ingest, renamed
from tests.real_truth import IN_REPO

LINE_1, LINE_2, LINE_3, LINE_4 = "line-1", "line-2", "line-3", "line-4"
BULK = 2 * PAGE_SIZE + 7  # three pages of line-4 units
SVG = "{http://www.w3.org/2000/svg}"
ROW_ID = re.compile(r'<tr data-result-id="([0-9a-f-]{36})" class="unit-row">')
OLDER = re.compile(r'<a href="([^"]+)" id="older">')


@dataclass(frozen=True)
class Sent:
    station: str
    result: FileResult

    @property
    def rid(self) -> UUID:
        assert self.result.sha256 is not None
        return UUID(result_id(self.station, self.result.sha256))

    @property
    def made_at(self) -> datetime:
        if self.result.test_date is not None:
            return self.result.test_date
        return self.result.analysed_at.replace(tzinfo=None)  # analysed_at is UTC


@dataclass(frozen=True)
class World:
    db: Database
    sent: list[Sent]
    real: dict[str, FileResult]  # by serial, as analysed (curves included)

    def one(self, station: str, serial: str) -> Sent:
        return next(s for s in self.sent if s.station == station and s.result.serial == serial)

    @property
    def unreadable(self) -> Sent:
        return next(s for s in self.sent if s.result.status is Status.ERROR)


def newest_first(sent: list[Sent]) -> list[UUID]:
    return [s.rid for s in sorted(sent, key=lambda s: (s.made_at, s.rid), reverse=True)]


def by_serial_then_newest(sent: list[Sent]) -> list[UUID]:
    """A serial search lists serials in order, each serial's units newest first.

    (Serials grow with time, so newest-first over a prefix had slow cases:
    docs/decisions/0012, migration 007.)
    """
    newest = sorted(sent, key=lambda s: (s.made_at, s.rid), reverse=True)
    return [s.rid for s in sorted(newest, key=lambda s: (s.result.serial or "").lower())]


@pytest.fixture(scope="module")
def world(module_db: Database, tmp_path_factory: pytest.TempPathFactory) -> World:
    real = [analyse_file(path) for path in sorted(IN_REPO.glob("*.xls"))]
    broken = tmp_path_factory.mktemp("station") / "8340-1_SN999_TA_Test Data_1-2-2025.xls"
    broken.write_bytes(b"this is not a workbook")
    unreadable = analyse_file(broken)
    assert unreadable.status is Status.ERROR and not unreadable.tracks

    by_serial = {r.serial: r for r in real if r.serial}
    retrims = [
        renamed(r, "retrim", test_date=r.test_date + timedelta(days=2))  # type: ignore[operator]
        for r in (by_serial["82"], by_serial["254A"])
    ]
    old_agent = [renamed(by_serial["44"], "old", serial="OLD44")]
    hostile = renamed(by_serial["3"], "hostile", serial="<b>X1</b>")
    mixed = _fail_beside_a_worse_warning(by_serial["54"])
    bulk = [
        renamed(
            real[i % len(real)],
            f"bulk-{i}",
            serial=f"BULK{i:03d}",
            test_date=datetime(2025, 1, 1, 6) + timedelta(hours=i // 2),  # pairs share a time
        )
        for i in range(BULK)
    ]
    sent = [Sent(LINE_1, r) for r in [*real, unreadable, hostile, mixed]]
    sent += [Sent(LINE_2, r) for r in retrims]
    sent += [Sent(LINE_3, r) for r in old_agent]
    sent += [Sent(LINE_4, r) for r in bulk]
    ingest(module_db, batch_of([*real, unreadable, hostile, mixed], LINE_1))
    ingest(module_db, batch_of(retrims, LINE_2))
    ingest(module_db, batch_of(old_agent, LINE_3, protocol=1))
    ingest(module_db, batch_of(bulk, LINE_4))
    add_user(module_db, VIEWER, Role.VIEWER, VIEWER_PASSWORD, CLI)
    return World(module_db, sent, by_serial)


def _fail_beside_a_worse_warning(base: FileResult) -> FileResult:
    """A two-track unit whose Warning track has the larger linearity error / spec."""
    fail, other = base.tracks
    warning = other.model_copy(
        update={
            "status": Status.WARNING,
            "linearity_error": (fail.linearity_error or 0) * 10,
            "fail_points": 0,
            "linearity_pass": True,
        }
    )
    return renamed(base, "mixed", serial="MIXED1", tracks=[fail, warning])


def worst_track(result: FileResult) -> TrackResult:
    """The track a search row shows: worst status, then largest linearity error / spec."""

    def rank(track: TrackResult) -> tuple[int, float, str]:
        ratio = (track.linearity_error or 0) / (track.linearity_spec or 1)
        return (-track.status.severity, -ratio, track.track_id)

    return min(result.tracks, key=rank)


@pytest.fixture
def viewer(world: World) -> FlaskClient:
    return signed_in(world.db, VIEWER, VIEWER_PASSWORD)


def page(client: FlaskClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    body = response.get_data(as_text=True)
    assert response.status_code == status, body[:2000]
    return body


def listed(body: str) -> list[UUID]:
    return [UUID(rid) for rid in ROW_ID.findall(body)]


def older_link(body: str) -> str | None:
    found = OLDER.search(body)
    return html.unescape(found.group(1)) if found else None


def row_html(body: str, rid: UUID) -> str:
    start = body.index(f'<tr data-result-id="{rid}"')
    return body[start : body.index("</tr>", start)]


def section(body: str, element_id: str) -> str:
    start = body.index(f'id="{element_id}"')
    return body[start : body.index("</section>", start)]


def svgs(fragment: str) -> list[ET.Element]:
    """Every chart in the fragment, parsed as XML: proof too that our SVG is well-formed."""
    found = re.findall(r"<svg .*?</svg>", fragment, flags=re.S)
    return [ET.fromstring(m) for m in found]  # noqa: S314 - our own output


# --------------------------------------------------------------------------- access


@pytest.mark.parametrize(
    "path", ["/units?serial=82", "/units/00000000-0000-0000-0000-000000000000"]
)
def test_strangers_are_sent_to_sign_in(world: World, path: str) -> None:
    response = make_client(world.db).get(path)
    assert is_login_redirect(response, path)


# --------------------------------------------------------------------------- search


def test_no_criteria_lists_the_newest_page_of_every_station(
    world: World, viewer: FlaskClient
) -> None:
    body = page(viewer, "/units")
    assert listed(body) == newest_first(world.sent)[:PAGE_SIZE]
    assert 'id="newest"' not in body  # already the first page
    assert older_link(body) is not None
    for name in (LINE_1, LINE_2, LINE_3, LINE_4):
        assert f'<option value="{name}" >{name}</option>' in body
    for model in {s.result.model for s in world.sent if s.result.model}:
        assert f'<option value="{model}" >' in body


def test_a_serial_prefix_finds_the_unit_and_its_retrims_ignoring_case(
    world: World, viewer: FlaskClient
) -> None:
    expected = [s for s in world.sent if (s.result.serial or "").lower().startswith("25")]
    assert {s.result.serial for s in expected} == {"254A", "256A"}
    body = page(viewer, "/units?serial=25")
    assert listed(body) == by_serial_then_newest(expected)
    assert listed(page(viewer, "/units?serial=254a")) == by_serial_then_newest(
        [s for s in expected if s.result.serial == "254A"]
    )
    assert 'value="25"' in body  # the form keeps what was searched


def test_a_row_shows_status_model_station_date_and_its_worst_tracks_figures(
    world: World, viewer: FlaskClient
) -> None:
    two_tracks = world.one(LINE_1, "54")  # 8555: both tracks fail
    worst = worst_track(two_tracks.result)
    row = row_html(page(viewer, "/units?serial=54"), two_tracks.rid)
    assert "verdict-fail" in row and ">Fail<" in row
    assert f"<td>{two_tracks.result.model}</td>" in row and f"<td>{LINE_1}</td>" in row
    assert "2022-09-03 13:09" in row
    assert f'<td class="num">{len(two_tracks.result.tracks)}</td>' in row
    assert f"<td>{worst.track_id}</td>" in row
    assert f"{format_number(worst.linearity_error)} / {format_number(worst.linearity_spec)}" in row
    assert f'<td class="num">{worst.fail_points}</td>' in row
    assert f"out {format_number(worst.max_violation)}" in row  # a failing track has no margin
    assert f"{format_number(worst.sigma_gradient)} / {format_number(worst.sigma_threshold)}" in row
    assert f'href="/units/{two_tracks.rid}"' in row


def test_a_file_without_tracks_is_listed_without_figures(world: World, viewer: FlaskClient) -> None:
    unreadable = world.unreadable  # no test date, no serial: found by station and day
    day = unreadable.made_at.date()
    body = page(viewer, f"/units?station={LINE_1}&from={day}&to={day}")
    assert listed(body) == [unreadable.rid]
    row = row_html(body, unreadable.rid)
    assert ">Error<" in row and "no analysed track" in row
    assert "(no serial)" in row and ">analysed</span>" in row  # made_at is the analysis time


def test_model_station_and_dates_narrow_the_search(world: World, viewer: FlaskClient) -> None:
    model = world.real["82"].model
    expected = [s for s in world.sent if s.result.model == model and s.station == LINE_2]
    assert expected
    body = page(viewer, f"/units?model={model}&station={LINE_2}")
    assert listed(body) == newest_first(expected)
    assert f'<option value="{model}" selected>' in body
    assert f'<option value="{LINE_2}" selected>' in body

    start, end = date(2025, 1, 3), date(2025, 1, 5)
    in_range = [s for s in world.sent if start <= s.made_at.date() <= end]
    assert 0 < len(in_range) < PAGE_SIZE
    body = page(viewer, f"/units?from={start}&to={end}")
    assert listed(body) == newest_first(in_range)
    assert f'value="{start}"' in body and f'value="{end}"' in body


def test_older_links_page_through_every_unit_once_keeping_the_criteria(
    world: World, viewer: FlaskClient
) -> None:
    expected = by_serial_then_newest([s for s in world.sent if s.station == LINE_4])
    url: str | None = f"/units?station={LINE_4}&serial=bulk"
    seen: list[UUID] = []
    pages = 0
    while url is not None:
        body = page(viewer, url)
        rows = listed(body)
        assert len(rows) <= PAGE_SIZE
        seen += rows
        pages += 1
        if pages > 1:
            assert 'id="newest"' in body
        url = older_link(body)
        if url is not None:
            query = dict(parse_qsl(urlsplit(url).query))
            assert query["station"] == LINE_4 and query["serial"] == "bulk" and query["cursor"]
    assert seen == expected  # every unit once, in order, across pairs made at the same time
    assert pages == 3


def test_nothing_found_says_so(world: World, viewer: FlaskClient) -> None:
    body = page(viewer, "/units?serial=no-such-serial")
    assert listed(body) == [] and 'id="no-units"' in body and older_link(body) is None


@pytest.mark.parametrize(
    ("query", "code", "words"),
    [
        ("from=2025-13-01", "invalid_filter", "YYYY-MM-DD"),
        ("from=2025-03-01&to=2025-02-01", "invalid_filter", "after it ends"),
        ("cursor=yesterday", "invalid_cursor", "start again from the first page"),
        ("serial=" + "x" * 200, "invalid_filter", "at most 128 characters"),
    ],
)
def test_a_query_it_cannot_read_gets_a_400_that_says_what_to_send(
    world: World, viewer: FlaskClient, query: str, code: str, words: str
) -> None:
    body = page(viewer, f"/units?{query}", status=400)
    error = body[body.index('id="search-error"') :]
    assert f"<code>{code}</code>" in error and words in html.unescape(error)
    assert 'id="unit-search"' in body  # the form is there to correct it


def test_text_from_a_file_is_escaped(world: World, viewer: FlaskClient) -> None:
    hostile = world.one(LINE_1, "<b>X1</b>")
    body = page(viewer, "/units?serial=%3Cb%3E")
    assert listed(body) == [hostile.rid]
    assert "<b>X1</b>" not in body and "&lt;b&gt;X1&lt;/b&gt;" in body
    assert "<b>X1</b>" not in page(viewer, f"/units/{hostile.rid}")


# --------------------------------------------------------------------------- one unit


def test_a_unit_shows_the_file_and_station_it_came_from(world: World, viewer: FlaskClient) -> None:
    sent = world.one(LINE_1, "82")
    result = sent.result
    body = page(viewer, f"/units/{sent.rid}")
    facts = html.unescape(section(body, "unit-file"))
    assert f'id="file-name">{result.file_name}<' in facts
    assert f'id="file-sha256">{result.sha256}<' in facts
    assert 'id="test-date">2025-04-17 05:59<' in facts
    assert f"{result.analysed_at:%Y-%m-%d %H:%M:%S} UTC" in facts
    assert f'id="agent-version">{result.agent_version}' in facts
    assert f"<dd>{LINE_1}</dd>" in facts and str(sent.rid) in facts
    assert 'id="verdict" class="verdict verdict-fail">FAIL<' in body
    assert f'id="unit-station">{LINE_1}<' in body


def test_a_unit_shows_its_curve_in_its_band_with_the_failing_points(
    world: World, viewer: FlaskClient
) -> None:
    sent = world.one(LINE_1, "82")
    track = sent.result.tracks[0]
    assert track.curve is not None and track.fail_points
    body = page(viewer, f"/units/{sent.rid}")
    plot_html = body[body.index('<div class="unit-plot">') :]
    chart = svgs(plot_html)[0]
    classes = {p.get("class"): p.get("d") for p in chart.iter(f"{SVG}path")}
    assert classes["curve"] and classes["band"] and classes["limit"] and classes["untrimmed"]
    dots = chart.findall(f"{SVG}g[@class='fail-pts']/{SVG}circle")
    assert len(dots) == track.fail_points
    expected = failing_indices(
        track.curve.errors, track.curve.upper, track.curve.lower, track.optimal_offset or 0.0
    )
    assert len(expected) == track.fail_points
    assert f"offset {signed(track.optimal_offset)}" in (
        chart.findtext(f"{SVG}text[@class='offset']") or ""
    )


def test_a_unit_shows_every_metric_and_the_stations_own_spec(
    world: World, viewer: FlaskClient
) -> None:
    sent = world.one(LINE_1, "54")
    body = html.unescape(page(viewer, f"/units/{sent.rid}"))
    for index, track in enumerate(sent.result.tracks, start=1):
        part = section(body, f"track-{index}")
        assert f'data-track="{track.track_id}"' in part
        assert f'class="metric-sigma">{format_number(track.sigma_gradient, 4)}<' in part
        assert f'class="metric-linearity">{format_number(track.linearity_error, 4)}<' in part
        assert f'class="metric-fails">{track.fail_points}<' in part
        assert f"<dd>{signed(track.optimal_offset, 4)}</dd>" in part
        assert f"<dd>{track.raw_fail_points}</dd>" in part
        assert f"<dd>±{format_number(track.linearity_spec, 4)}</dd>" in part
        spec = track.station_spec
        assert spec is not None
        assert "What the station's own program says" in part
        expected = (
            "—" if spec.resistance_in_spec is None else ("yes" if spec.resistance_in_spec else "no")
        )
        assert f'class="spec-resistance">{expected}<' in part
        assert (
            f"{format_number(spec.angle_nominal, 5)} / {format_number(spec.angle_measured, 5)}"
            in part
        )


def test_a_unit_shows_its_trim_history_pass_by_pass(world: World, viewer: FlaskClient) -> None:
    sent = world.one(LINE_1, "254A")
    track = sent.result.tracks[0]
    assert len(track.passes) == 5
    body = page(viewer, f"/units/{sent.rid}")
    part = section(body, "track-1")
    table = part[part.index('class="table trim-history"') : part.index("</table>")]
    rows = re.findall(r"<tr class=\"(final-pass)?\"><td>([^<]+)</td><td>([^<]+)</td>", table)
    assert [sheet for _, _, sheet in rows] == [p.sheet for p in track.passes]
    assert [bool(final) for final, _, _ in rows] == [p.final for p in track.passes]
    assert rows[0][1] == "untrimmed" and rows[-1][1].endswith("final")
    for entry in track.passes:
        assert format_number(entry.linearity_error, 4) in table
    charts = svgs(part[part.index('class="pass-charts"') :])
    assert len(charts) == len(track.passes)
    assert all(c.find(f"{SVG}path[@class='curve']") is not None for c in charts)
    # every measurement over one another, as on the station's unit page (shared/charts/track.py)
    overlay = svgs(part[part.index('class="history-chart"') : part.index('class="table')])
    assert len(overlay) == 1 and overlay[0].get("class") == "plot plot-history"
    assert len([p for p in overlay[0].iter(f"{SVG}path") if p.get("stroke")]) == 5
    assert "error (V) vs position (°), as measured" in part


def test_retrims_of_the_same_model_and_serial_are_listed_together(
    world: World, viewer: FlaskClient
) -> None:
    first, again = world.one(LINE_1, "82"), world.one(LINE_2, "82")
    for this, other in ((first, again), (again, first)):
        part = section(page(viewer, f"/units/{this.rid}"), "retrims")
        assert listed_retrims(part) == [first.rid, again.rid]  # oldest first
        assert 'class="this-unit"' in row_html(part, this.rid)
        assert f'href="/units/{other.rid}"' in part
        assert f'href="/units/{this.rid}"' not in part
        assert LINE_1 in part and LINE_2 in part
    body = page(viewer, f"/units/{first.rid}")
    assert 'id="serial-search"' in body and "serial=82&amp;model=8340-1" in body


def listed_retrims(part: str) -> list[UUID]:
    return [UUID(m) for m in re.findall(r'data-result-id="([0-9a-f-]{36})"', part)]


def test_a_unit_trimmed_once_says_so(world: World, viewer: FlaskClient) -> None:
    body = page(viewer, f"/units/{world.one(LINE_1, '256A').rid}")
    assert 'id="no-retrims"' in body and "trimmed once" in body


def test_a_protocol_1_unit_has_its_curve_and_says_why_no_history(
    world: World, viewer: FlaskClient
) -> None:
    body = page(viewer, f"/units/{world.one(LINE_3, 'OLD44').rid}")
    part = section(body, "track-1")
    chart = svgs(part[part.index('<div class="unit-plot">') :])[0]
    assert chart.find(f"{SVG}path[@class='curve']") is not None
    assert "No trim history: the station's agent predates it." in html.unescape(part)
    assert "predates the station spec" in html.unescape(part)


def test_a_file_that_could_not_be_read_shows_its_error(world: World, viewer: FlaskClient) -> None:
    sent = world.unreadable
    assert sent.result.error is not None
    body = html.unescape(page(viewer, f"/units/{sent.rid}"))
    assert f"<code>{sent.result.error.code}</code> {sent.result.error.message}" in body
    assert "No tracks in this file." in body
    assert "names no serial, so its re-trims cannot be found" in body


def test_an_unknown_unit_is_a_404_page_that_says_what_to_do(
    world: World, viewer: FlaskClient
) -> None:
    body = page(viewer, "/units/00000000-0000-0000-0000-000000000000", status=404)
    assert "No unit has the result id" in body and "search for the unit by its serial" in body
    assert viewer.get("/units/not-a-uuid").status_code == 404


# --------------------------------------------------------------------------- queries


def test_key_metrics_of_a_page_name_each_units_worst_track(world: World) -> None:
    two_tracks, mixed = world.one(LINE_1, "54"), world.one(LINE_1, "MIXED1")
    unreadable = world.unreadable
    ids = [two_tracks.rid, mixed.rid, unreadable.rid, UUID(int=1)]
    found = unit_queries.key_metrics(world.db, ids)
    assert set(found) == set(ids[:3])  # an unknown id is left out
    for sent in (two_tracks, mixed):
        track = worst_track(sent.result)
        metrics = found[sent.rid]
        assert metrics.track_id == track.track_id
        assert (metrics.linearity_error, metrics.fail_points) == (
            track.linearity_error,
            track.fail_points,
        )
        assert (metrics.sigma_gradient, metrics.margin_to_spec, metrics.max_violation) == (
            track.sigma_gradient,
            track.margin_to_spec,
            track.max_violation,
        )
        assert metrics.test_date == sent.result.test_date
    # status first: the Fail track, though the Warning one has ten times its linearity error
    assert found[mixed.rid].track_id == mixed.result.tracks[0].track_id
    assert found[mixed.rid].fail_points
    assert found[unreadable.rid].track_id is None
    assert unit_queries.key_metrics(world.db, []) == {}


def test_the_search_choices_are_every_station_and_model(world: World) -> None:
    assert unit_queries.station_names(world.db) == [LINE_1, LINE_2, LINE_3, LINE_4]
    models = sorted({s.result.model for s in world.sent if s.result.model})
    assert unit_queries.model_names(world.db) == models


def test_a_rotated_unit_says_how_its_verdict_was_reached(world: World, viewer: FlaskClient) -> None:
    """6828_47: the station's rules pass it by rotating the theory line and leaving
    4 + 2 end rows out; strict, 6 points are outside."""
    sent = world.one(LINE_1, "47")
    (track,) = sent.result.tracks
    assert track.adjustment is not None and track.strict is not None
    part = html.unescape(section(page(viewer, f"/units/{sent.rid}"), "track-1"))
    block = part[part.index('<div class="adjustment"') :]
    assert (
        "Judged by the station's rules: offset -0.00536 V, rotated -0.38 % "
        "(angle 340.787° → 339.507°), 4 + 2 end rows left out"
    ) in block
    assert "Strict (offset only, every point): <strong>6 points outside</strong>" in block
    assert "the strict check alone would fail it" in block
    assert "<dt>Left-out points (from 0)</dt><dd>0, 1, 2, 3, 339, 340</dd>" in block
    assert "<dt>Angle window</dt><dd>335\u2013345° (ok" in block
    assert "Sigma gradient" in block[block.index("Why it is not a plain pass") :]
    chart = svgs(part[part.index('<div class="unit-plot">') :])[0]
    dots = chart.findall(f"{SVG}g[@class='fail-pts']/{SVG}circle")
    rings = chart.findall(f"{SVG}g[@class='excluded-pts']/{SVG}circle")
    assert (len(dots), len(rings)) == (track.fail_points, 6) == (0, 6)
    table = part[part.index('class="table trim-history"') : part.index("</table>")]
    strict = re.findall(r'<td class="num strict-fails">(\d+)</td>', table)
    assert strict == [str(p.strict.fail_points) for p in track.passes if p.strict] == ["226", "6"]
