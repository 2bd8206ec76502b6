"""The read API over real HTTP (Flask's test client) against a real PostgreSQL.

One database per module, seeded by `lta-central seed`'s own code (three
stations, four models, a month up to now) plus one open alarm and one
acknowledged alarm whose note is a formula. Every answer is compared with
the page that shows the same figures, asked with the same URL: the pages
and the API must not disagree, whatever the filters.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any
from uuid import uuid4

import pytest
from flask.testing import FlaskClient

from central import stations as station_store
from central.alarms.rows import AlarmKind, Finding, acknowledge, apply_findings
from central.api.csv_table import cell
from central.auth import read_tokens
from central.auth.audit import CLI, Actor
from central.auth.users import Role, add_user
from central.db import Database
from central.seed import SeedPlan, seed
from central.web import create_app
from central.web.context import CentralContext, IngestLimits
from tests.central.auth_helpers import AUTH, make_client, sign_in
from tests.conftest import migrated_database

VIEWER, PASSWORD = "vera.viewer", "Read-Api-Viewer-55"
HOSTILE_NOTE = '=HYPERLINK("http://evil","x")'
PLAN = SeedPlan(tracks=1200, stations=3, models=4, days=30, seed=11, batch_results=200)


@dataclass(frozen=True)
class World:
    db: Database
    token: str  # a live read token
    revoked: str  # a revoked read token
    station_token: str
    stations: list[str]
    models: list[str]


@pytest.fixture(scope="module")
def world(postgres_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    for db in migrated_database(postgres_admin_url, tmp_path_factory.mktemp("api")):
        report = seed(db, PLAN)
        add_user(db, VIEWER, Role.VIEWER, PASSWORD, CLI)
        station_token = station_store.add_station(db, "line-token")
        live = read_tokens.issue(db, "JMP on QA-PC-3", CLI).secret
        old = read_tokens.issue(db, "old laptop", CLI)
        read_tokens.revoke(db, old.token.pk, CLI)
        now = datetime.now(UTC)
        with db.pool.connection() as conn:
            pks = dict(conn.execute("SELECT name, id FROM stations").fetchall())
            models = [r[0] for r in conn.execute("SELECT DISTINCT model FROM results ORDER BY 1")]
            first, second = report.stations[0], report.stations[1]
            apply_findings(
                conn,
                [
                    Finding(AlarmKind.SILENT, pks[first], "", "no contact for 2 h"),
                    Finding(
                        AlarmKind.YIELD_DROP, pks[second], models[0], "yield 61 % over 40 units"
                    ),
                ],
                now,
            )
            acked = conn.execute(
                "SELECT id FROM alarms WHERE station_pk = %s", (pks[second],)
            ).fetchone()
        assert acked is not None
        acknowledge(db, acked[0], "other", HOSTILE_NOTE, Actor("qa"), now)
        yield World(db, live, old.secret, station_token, sorted(report.stations), models)


@pytest.fixture
def anonymous(world: World) -> FlaskClient:
    return make_client(world.db)


@pytest.fixture(scope="module")
def viewer(world: World) -> FlaskClient:
    client = make_client(world.db)
    assert sign_in(client, VIEWER, PASSWORD).status_code == 303
    return client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def get_json(client: FlaskClient, url: str, token: str | None = None) -> Any:
    response = client.get(url, headers=bearer(token) if token else {})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


def csv_rows(client: FlaskClient, url: str, token: str) -> list[dict[str, str]]:
    response = client.get(url, headers=bearer(token))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def attribute_values(html: str, name: str, table_id: str | None = None) -> list[str]:
    """The values of a data attribute on the rows of a page (of one table, when given)."""
    if table_id is not None:
        start = html.index(f'id="{table_id}"')
        html = html[start : html.index("</table>", start)]
    return [unescape(v) for v in re.findall(rf'<tr {name}="([^"]*)"', html)]


# --------------------------------------------------------------------------- who may read


def test_without_credentials_the_answer_is_a_json_401(anonymous: FlaskClient) -> None:
    response = anonymous.get("/api/v1/overview")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    error = response.get_json()["error"]
    assert error["code"] == "unauthorized"
    assert "read token" in error["message"]


def test_a_signed_in_viewer_reads_with_the_session(viewer: FlaskClient) -> None:
    body = get_json(viewer, "/api/v1/overview")
    assert body["stations"]


def test_a_read_token_reads_and_its_use_is_noted(anonymous: FlaskClient, world: World) -> None:
    assert get_json(anonymous, "/api/v1/models", world.token)["rows"]
    listed = {t.name: t for t in read_tokens.list_tokens(world.db)}
    assert listed["JMP on QA-PC-3"].last_used_at is not None
    assert listed["old laptop"].revoked_at is not None


@pytest.mark.parametrize(
    ("which", "code"),
    [
        ("revoked", "token_revoked"),
        ("station", "not_a_read_token"),
        ("unknown", "unauthorized"),
        ("empty", "unauthorized"),
    ],
)
def test_other_tokens_are_refused(
    anonymous: FlaskClient, world: World, which: str, code: str
) -> None:
    header = {
        "revoked": f"Bearer {world.revoked}",
        "station": f"Bearer {world.station_token}",
        "unknown": f"Bearer {read_tokens.PREFIX}{uuid4().hex}",
        "empty": "Bearer ",
    }[which]
    response = anonymous.get("/api/v1/units", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == code


def test_a_read_token_cannot_send_results_nor_open_a_page(
    anonymous: FlaskClient, world: World
) -> None:
    ingest = anonymous.post("/api/v1/token-check", headers=bearer(world.token))
    assert ingest.status_code == 401
    page = anonymous.get("/models", headers=bearer(world.token))
    assert page.status_code == 303 and "/login" in page.headers["Location"]


def test_the_openapi_document_is_public_and_lists_only_the_read_api(
    anonymous: FlaskClient,
) -> None:
    document = anonymous.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    paths = set(document["paths"])
    assert "/api/v1/models/{model}" in paths and "/api/v1/units/{result_id}" in paths
    assert not paths & {"/api/v1/results", "/api/v1/heartbeat", "/api/v1/token-check"}


# --------------------------------------------------------------------------- the same as the pages


def test_overview_rows_and_headline_follow_the_station_filter(
    anonymous: FlaskClient, viewer: FlaskClient, world: World
) -> None:
    station = world.stations[1]
    query = f"?station={station}"
    body = get_json(anonymous, "/api/v1/overview" + query, world.token)
    page = viewer.get("/" + query).get_data(as_text=True)
    assert [r["station"] for r in body["stations"]] == attribute_values(page, "data-station")
    assert [r["station"] for r in body["stations"]] == [station]
    row = body["stations"][0]
    assert body["headline"]["span"] == row["span"]
    assert body["headline"]["day"] == row["day"]
    everyone = get_json(anonymous, "/api/v1/overview", world.token)
    assert len(everyone["stations"]) == len(world.stations) + 1  # line-token: no results
    assert everyone["headline"]["span"]["results"] == sum(
        r["span"]["results"] for r in everyone["stations"]
    )


def test_station_yield_is_the_pages_figure(
    anonymous: FlaskClient, viewer: FlaskClient, world: World
) -> None:
    body = get_json(anonymous, "/api/v1/stations", world.token)
    page = viewer.get("/").get_data(as_text=True)
    for row in body["rows"]:
        week = row["span"]
        if week["yield_pct"] is None:
            continue
        good = week["passes"] + week["warnings"]  # ADR 0021: a Warning passes linearity
        assert week["yield_pct"] == pytest.approx(100.0 * good / week["verdicts"])
        start = page.index(f'<tr data-station="{row["station"]}"')
        shown = re.findall(
            r'class="num yield">([\d.]+) %', page[start : page.index("</tr>", start)]
        )
        assert f"{week['yield_pct']:.1f}" in shown


@pytest.mark.parametrize("which", ["none", "station", "model", "dates"])
def test_model_list_is_the_pages_list(
    anonymous: FlaskClient, viewer: FlaskClient, world: World, which: str
) -> None:
    today = datetime.now().date()
    query = {
        "none": "",
        "station": f"?station={world.stations[0]}",
        "model": f"?model={world.models[0]}&model={world.models[2]}",
        "dates": f"?from={today - timedelta(days=6)}&to={today}",
    }[which]
    body = get_json(anonymous, "/api/v1/models" + query, world.token)
    page = viewer.get("/models" + query).get_data(as_text=True)
    assert [r["model"] for r in body["rows"]] == attribute_values(page, "data-model", "models")
    assert body["total"]["results"] == sum(r["counts"]["results"] for r in body["rows"])
    rows = csv_rows(
        anonymous, "/api/v1/models" + query + ("&" if query else "?") + "format=csv", world.token
    )
    assert [r["model"] for r in rows] == [r["model"] for r in body["rows"]]
    for flat, row in zip(rows, body["rows"], strict=True):
        assert int(flat["counts_results"]) == row["counts"]["results"]
        assert flat["cpk_value"] == (
            "" if not row["cpk"] or row["cpk"]["value"] is None else repr(row["cpk"]["value"])
        )


def test_units_are_the_pages_units_page_after_page(
    anonymous: FlaskClient, viewer: FlaskClient, world: World
) -> None:
    newest = get_json(anonymous, "/api/v1/units?limit=1", world.token)["rows"][0]
    station, model = newest["station"], newest["model"]
    query = f"?station={station}&model={model}"
    body = get_json(anonymous, "/api/v1/units" + query, world.token)
    page = viewer.get("/units" + query).get_data(as_text=True)
    ids = [r["result_id"] for r in body["rows"]]
    assert ids == attribute_values(page, "data-result-id", "units")
    assert {(r["station"], r["model"]) for r in body["rows"]} == {(station, model)}
    if body["next_cursor"]:
        older = get_json(
            anonymous, f"/api/v1/units{query}&cursor={body['next_cursor']}", world.token
        )
        assert not set(ids) & {r["result_id"] for r in older["rows"]}
    flat = csv_rows(anonymous, "/api/v1/units" + query + "&format=csv", world.token)
    assert [r["result_id"] for r in flat] == ids


def test_one_unit_has_its_tracks_and_retrims(anonymous: FlaskClient, world: World) -> None:
    listed = get_json(anonymous, "/api/v1/units?limit=1", world.token)["rows"][0]
    unit = get_json(anonymous, f"/api/v1/units/{listed['result_id']}", world.token)
    assert unit["result_id"] == listed["result_id"]
    assert len(unit["tracks"]) == listed["tracks"]
    assert listed["result_id"] in {r["result_id"] for r in unit["retrims"]}
    missing = anonymous.get(f"/api/v1/units/{uuid4()}", headers=bearer(world.token))
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"


def test_a_models_figures_agree_with_its_list_row_and_stations(
    anonymous: FlaskClient, world: World
) -> None:
    model = world.models[0]
    row = next(
        r for r in get_json(anonymous, "/api/v1/models", world.token)["rows"] if r["model"] == model
    )
    detail = get_json(anonymous, f"/api/v1/models/{model}?points=25", world.token)
    assert detail["counts"] == row["counts"]
    assert detail["cpk"] == row["cpk"]
    assert len(detail["series"]) == 25
    assert [c["metric"] for c in detail["capability"]] == ["linearity", "sigma"]
    assert len(detail["fail_positions"]) == 20
    stations = get_json(anonymous, f"/api/v1/models/{model}/stations", world.token)["rows"]
    assert [s["station"] for s in stations] == [s["station"] for s in detail["stations"]]
    assert sum(s["counts"]["results"] for s in stations) == row["counts"]["results"]
    flat = csv_rows(anonymous, f"/api/v1/models/{model}/stations?format=csv", world.token)
    assert [int(r["counts_results"]) for r in flat] == [s["counts"]["results"] for s in stations]
    unknown = anonymous.get("/api/v1/models/NO-SUCH-MODEL", headers=bearer(world.token))
    assert unknown.status_code == 404


def test_alarms_csv_keeps_a_formula_note_as_text(anonymous: FlaskClient, world: World) -> None:
    body = get_json(anonymous, "/api/v1/alarms?state=acknowledged", world.token)
    assert [a["note"] for a in body["rows"]] == [HOSTILE_NOTE]
    flat = csv_rows(anonymous, "/api/v1/alarms?state=acknowledged&format=csv", world.token)
    assert [r["note"] for r in flat] == ["'" + HOSTILE_NOTE]
    opened = get_json(anonymous, "/api/v1/alarms", world.token)
    assert [a["kind"] for a in opened["rows"]] == ["silent"]
    overview = get_json(anonymous, "/api/v1/overview", world.token)
    assert [a["id"] for a in overview["open_alarms"]] == [a["id"] for a in opened["rows"]]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/overview?from=2025-13-01",
        "/api/v1/models?from=2025-03-10&to=2025-03-01",
        "/api/v1/units?limit=0",
        "/api/v1/units?cursor=not-a-cursor",
        "/api/v1/alarms?state=everything",
        "/api/v1/models?format=xlsx",
        "/api/v1/models/X?tests=9",
        "/api/v1/overview?element=No-such-element",
        "/api/v1/priorities?rank=yield",
        "/api/v1/priorities?to=2025-02-30",
    ],
)
def test_a_bad_parameter_is_a_json_400(anonymous: FlaskClient, world: World, url: str) -> None:
    response = anonymous.get(url, headers=bearer(world.token))
    assert response.status_code == 400, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] in ("invalid_filter", "invalid_cursor", "bad_request")
    assert error["message"]


def ranked_models(page: str) -> list[str]:
    """The priorities page's ranked models: the table in view, then the folded one."""
    more = (
        attribute_values(page, "data-model", "rank-models-more")
        if "rank-models-more" in page
        else []
    )
    return attribute_values(page, "data-model", "rank-models") + more


@pytest.mark.parametrize("query", ["", "?rank=cost", "?station={station}"])
def test_priorities_are_the_pages_figures_for_a_read_token(
    anonymous: FlaskClient, viewer: FlaskClient, world: World, query: str
) -> None:
    assert anonymous.get("/api/v1/priorities").status_code == 401
    query = query.format(station=world.stations[0])
    body = get_json(anonymous, "/api/v1/priorities" + query, world.token)
    page = viewer.get("/priorities" + query).get_data(as_text=True)
    assert [m["name"] for m in body["models"]] == ranked_models(page)
    top = body["models"][0]
    row = page[page.index(f'<tr data-model="{top["name"]}"') :]
    shown = re.search(r'class="num fails">(\d+)<', row)
    assert shown and int(shown.group(1)) == top["counts"]["fails"] > 0
    assert body["filters"]["station"] == ([world.stations[0]] if "station" in query else [])
    assert sum(m["counts"]["fails"] for m in body["models"]) == sum(
        s["counts"]["fails"] for s in body["stations"]
    )
    rows = csv_rows(anonymous, csv_link(page, "rank-models-csv"), world.token)
    assert [r["name"] for r in rows] == [m["name"] for m in body["models"]]
    assert [int(r["counts_fails"]) for r in rows] == [m["counts"]["fails"] for m in body["models"]]
    assert [r["cost"] for r in rows] == [m["cost"] or "" for m in body["models"]]


# --------------------------------------------------------------------------- CSV links on the pages


def csv_link(page: str, link_id: str) -> str:
    found = re.search(rf'id="{link_id}" href="([^"]+)"', page)
    assert found, f"no {link_id} link"
    return unescape(found.group(1))


def test_each_table_has_a_csv_link_with_the_pages_rows(viewer: FlaskClient, world: World) -> None:
    station = world.stations[0]
    overview = viewer.get(f"/?station={station}").get_data(as_text=True)
    rows = csv_rows(viewer, csv_link(overview, "stations-csv"), world.token)
    assert [r["station"] for r in rows] == attribute_values(overview, "data-station")
    other = viewer.get(f"/?station={world.stations[1]}").get_data(as_text=True)
    acknowledged = csv_rows(viewer, csv_link(other, "acknowledged-csv"), world.token)
    assert [(r["station"], r["note"]) for r in acknowledged] == [
        (world.stations[1], "'" + HOSTILE_NOTE)
    ]
    assert csv_rows(viewer, csv_link(overview, "acknowledged-csv"), world.token) == []

    models = viewer.get(f"/models?station={station}").get_data(as_text=True)
    rows = csv_rows(viewer, csv_link(models, "models-csv"), world.token)
    assert [r["model"] for r in rows] == attribute_values(models, "data-model", "models")

    model = rows[0]["model"]
    page = viewer.get(f"/models/{model}?station={station}").get_data(as_text=True)
    rows = csv_rows(viewer, csv_link(page, "stations-csv"), world.token)
    assert [r["station"] for r in rows] == [station]

    units = viewer.get(f"/units?model={model}").get_data(as_text=True)
    rows = csv_rows(viewer, csv_link(units, "units-csv"), world.token)
    assert [r["result_id"] for r in rows] == attribute_values(units, "data-result-id", "units")
    older = re.search(r'id="older" href="([^"]+)"', units)
    if older:
        second = viewer.get(unescape(older.group(1))).get_data(as_text=True)
        rows = csv_rows(viewer, csv_link(second, "units-csv"), world.token)
        assert [r["result_id"] for r in rows] == attribute_values(second, "data-result-id", "units")


def test_a_busy_token_is_slowed_with_retry_after(world: World) -> None:
    app = create_app(
        CentralContext(
            db=world.db, limits=IngestLimits(rate_limit_per_minute=1, rate_burst=1), auth=AUTH
        )
    )
    client = app.test_client()
    assert client.get("/api/v1/alarms", headers=bearer(world.token)).status_code == 200
    slowed = client.get("/api/v1/alarms", headers=bearer(world.token))
    assert slowed.status_code == 429
    assert slowed.get_json()["error"]["code"] == "rate_limited"
    assert int(slowed.headers["Retry-After"]) >= 1


# --------------------------------------------------------------------------- quality, compare


def quality_cells(page: str) -> list[tuple[str, str, str]]:
    """(group key, units, governing yield) of each row of the /quality table."""
    body = page[page.index('id="quality"') : page.index("</tbody>")]
    rows = re.findall(
        r'<tr data-key="([^"]*)">.*?<td>(\d+)</td><td class="pass-governing">([^<]*)</td>',
        body,
        re.S,
    )
    return [(unescape(key), units, text.strip()) for key, units, text in rows]


def as_page(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} %"


@pytest.mark.parametrize("query", ["", "?group=station", "?group=model&from={day}"])
def test_quality_is_the_pages_table(viewer: FlaskClient, world: World, query: str) -> None:
    query = query.format(day=(datetime.now(UTC) - timedelta(days=20)).date().isoformat())
    page = viewer.get(f"/quality{query}").get_data(as_text=True)
    body = get_json(viewer, f"/api/v1/quality{query}", world.token)
    shown = [
        (
            "|".join(str(r[k]) for k in body["group_by"]),
            str(r["units"]),
            as_page(r["yield_pct"]),
        )
        for r in body["rows"]
    ]
    assert body["rows"] and shown == quality_cells(page)
    assert body["total"]["units"] == sum(r["units"] for r in body["rows"])
    rows = csv_rows(viewer, csv_link(page, "quality-csv"), world.token)
    assert rows == [{k: cell(v) for k, v in r.items()} for r in body["rows"]]


def test_quality_follows_the_station_filter(anonymous: FlaskClient, world: World) -> None:
    station = world.stations[0]
    body = get_json(anonymous, f"/api/v1/quality?group=station&station={station}", world.token)
    assert [r["station"] for r in body["rows"]] == [station]
    assert body["filters"]["station"] == [station] and body["group_by"] == ["station"]


def compare_means(page: str, key: str) -> list[tuple[str, str]]:
    """(station, tracks) of a metric's means table on the comparison page."""
    start = page.index(f'id="means-{key}"')
    table = page[start : page.index("</table>", start)]
    found = re.findall(
        r'<tr data-station="([^"]*)"><td>[^<]*</td><td class="num">(\d+)</td>', table
    )
    return [(unescape(station), n) for station, n in found]


def test_station_comparison_is_the_pages(viewer: FlaskClient, world: World) -> None:
    model = world.models[0]
    page = viewer.get(f"/models/{model}/compare").get_data(as_text=True)
    body = get_json(viewer, f"/api/v1/models/{model}/compare", world.token)
    assert body["model"] == model and len(body["rows"]) >= 2
    for key in ("sigma", "linearity"):
        assert [(r["station"], str(r[key]["n"])) for r in body["rows"]] == compare_means(page, key)
    comparisons = {c["metric"]: c for c in body["comparisons"]}
    for key, comparison in comparisons.items():
        headline = comparison["tests"][0]
        assert headline["name"] == "Kruskal-Wallis"
        verdict = page[page.index(f'id="verdict-{key}"') :]
        verdict = verdict[: verdict.index("</p>")]
        expected = {True: "The stations differ", False: "No evidence", None: "No test"}
        assert expected[comparison["differ"]] in verdict
    rows = csv_rows(viewer, csv_link(page, "compare-csv"), world.token)
    assert [(r["station"], r["sigma_n"], r["linearity_mean"]) for r in rows] == [
        (r["station"], str(r["sigma"]["n"]), cell(r["linearity"]["mean"])) for r in body["rows"]
    ]


def test_a_station_filter_narrows_the_comparison(anonymous: FlaskClient, world: World) -> None:
    model, station = world.models[0], world.stations[1]
    body = get_json(anonymous, f"/api/v1/models/{model}/compare?station={station}", world.token)
    assert [r["station"] for r in body["rows"]] in ([station], [])
    missing = anonymous.get("/api/v1/models/No-such-model/compare", headers=bearer(world.token))
    assert missing.status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/quality", "/api/v1/models/{model}/compare"])
def test_quality_and_compare_need_a_session_or_token(
    anonymous: FlaskClient, world: World, path: str
) -> None:
    url = path.format(model=world.models[0])
    refused = anonymous.get(url)
    assert refused.status_code == 401 and refused.get_json()["error"]["code"]
    assert get_json(anonymous, url, world.token)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/quality?group=everything",
        "/api/v1/quality?from=2025-02-30",
        "/api/v1/quality?format=xlsx",
        "/api/v1/models/{model}/compare?from=2025-03-10&to=2025-03-01",
        "/api/v1/models/{model}/compare?format=pdf",
    ],
)
def test_quality_and_compare_refuse_a_bad_parameter(
    anonymous: FlaskClient, world: World, url: str
) -> None:
    response = anonymous.get(url.format(model=world.models[0]), headers=bearer(world.token))
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "invalid_filter"
