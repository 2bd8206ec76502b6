"""The /specs pages and the stations' GET /api/v1/specs, on central's real app and a real
PostgreSQL: list, search, import, edit with per-field messages, the preview on stored
units, save (versioned, audited), viewers read only, the ETag, learned thresholds."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from central.auth import audit
from central.db import Database
from central.specs import store
from central.stations import add_station
from shared.spec_wire import SPECS_PATH, SpecPush
from tests.central.auth_helpers import (
    ADMIN,
    ADMIN_PASSWORD,
    VIEWER,
    VIEWER_PASSWORD,
    Accounts,
    page_csrf,
    signed_in,
)
from tests.central.data_helpers import batch_of, ingest, renamed
from tests.central.test_specs import plant_xlsx
from tests.real_truth import REPO

RESCUED = (
    REPO
    / "tests"
    / "data"
    / "real"
    / "rules"
    / ("6607_48_TA_Test Data_4-1-2025_10-01 AMTrimmed Correct.xls")
)


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def _import(client, content: bytes, name: str = "plant.xlsx", strict: bool = False):  # type: ignore[no-untyped-def]
    data = {
        "csrf_token": page_csrf(client, "/specs"),
        "file": (__import__("io").BytesIO(content), name),
    }
    if strict:
        data["strict"] = "on"
    return client.post("/specs/import", data=data, content_type="multipart/form-data")


def test_admin_imports_edits_with_preview_and_saves(
    central_db: Database, accounts: Accounts
) -> None:
    from agent.analysis.file import analyse_file

    unit = analyse_file(RESCUED)
    assert unit.status.value == "Warning"  # the ignored rows rescue linearity; sigma warns
    ingest(central_db, batch_of([unit], "line-a"))
    admin = signed_in(central_db, ADMIN, ADMIN_PASSWORD)
    page = _import(
        admin, plant_xlsx([["6607", "", "Carbon", "Aerospace", "± 1% (Absolute)", "", "", ""]])
    )
    assert page.status_code == 200, _text(page)
    assert "added 1" in _text(page)
    listing = _text(admin.get("/specs?q=6607"))
    assert 'data-model="6607"' in listing and "Carbon" in listing

    form = {
        "original": "6607",
        "policy": "strict",
        "linearity_spec": "± 1% (Absolute)",
        "element_type": "Carbon",
        "product_class": "Aerospace",
    }
    csrf = page_csrf(admin, "/specs/m/6607")
    bad = admin.post(
        "/specs/save",
        data={
            **form,
            "csrf_token": csrf,
            "policy": "loose",
            "angle_nominal": "about 340",
            "action": "preview",
        },
    )
    assert bad.status_code == 400
    text = _text(bad)
    assert 'id="e-policy"' in text and "is not one of station, spec, strict" in text
    assert 'id="e-angle_nominal"' in text
    shown = admin.post("/specs/save", data={**form, "csrf_token": csrf, "action": "preview"})
    text = _text(shown)
    assert "This change turns 1 of the 1 WARNINGs among the last 1 units into FAIL." in text
    assert store.table_version(central_db) == 1  # a preview saves nothing
    no_reason = admin.post("/specs/save", data={**form, "csrf_token": csrf, "action": "save"})
    assert no_reason.status_code == 400 and 'id="e-reason"' in _text(no_reason)
    saved = admin.post(
        "/specs/save",
        data={
            **form,
            "csrf_token": csrf,
            "action": "save",
            "reason": "customer asks for every point",
        },
    )
    assert saved.status_code == 303
    stored = store.get_spec(central_db, "6607")
    assert stored is not None and stored.spec.policy == "strict" and stored.table_version == 2
    page = _text(admin.get("/specs/m/6607"))
    assert "customer asks for every point" in page and "policy: — → strict" in page
    assert "threshold not yet set for this model" in page
    entry = audit.entries(central_db)[0]
    assert (entry.actor, entry.action, entry.target) == (ADMIN, "spec.change", "6607")

    viewer = signed_in(central_db, VIEWER, VIEWER_PASSWORD)
    assert 'id="read-only"' in _text(viewer.get("/specs/m/6607"))
    refused = viewer.post(
        "/specs/save",
        data={**form, "csrf_token": page_csrf(viewer, "/specs"), "action": "save", "reason": "x"},
    )
    assert refused.status_code == 403
    assert _import(viewer, plant_xlsx()).status_code == 403
    assert viewer.get("/specs/export.csv").status_code == 200
    assert viewer.get("/specs/m/nope").status_code == 404


def test_import_page_reports_rows_and_strict_imports_nothing(
    central_db: Database, accounts: Accounts
) -> None:
    admin = signed_in(central_db, ADMIN, ADMIN_PASSWORD)
    bad = b"model,linearity_spec\r\n8340,0.5\r\n9000,approx 0.5\r\n"
    strict = _import(admin, bad, "bad.csv", strict=True)
    assert strict.status_code == 400
    assert "row 3, column linearity_spec" in _text(strict) and store.table_version(central_db) == 0
    loose = _text(_import(admin, bad, "bad.csv"))
    assert "added 1" in loose and "row 3, column linearity_spec" in loose
    damaged = _import(admin, b"PK\x03\x04garbage", "x.xlsx")
    assert damaged.status_code == 400 and "cannot be read" in _text(damaged)
    exported = admin.get("/specs/export.xlsx")
    assert exported.status_code == 200 and exported.data[:2] == b"PK"
    again = _text(_import(admin, exported.data, "model-specs.xlsx"))
    assert "unchanged 1" in again and store.table_version(central_db) == 1
    assert admin.get("/specs/export.pdf").status_code == 404


def test_stations_fetch_the_table_with_an_etag(central_db: Database, accounts: Accounts) -> None:
    from central.web import create_app
    from tests.central.auth_helpers import make_client

    token = add_station(central_db, "line-a")
    station = make_client(central_db)
    headers = {"Authorization": f"Bearer {token}"}
    assert station.get(SPECS_PATH).status_code == 401
    assert station.get(SPECS_PATH, headers={"Authorization": "Bearer nope"}).status_code == 401
    first = station.get(SPECS_PATH, headers=headers)
    assert first.status_code == 404 and first.get_json()["error"]["code"] == "no_spec_table"
    admin = signed_in(central_db, ADMIN, ADMIN_PASSWORD)
    _import(admin, plant_xlsx())
    same = station.get(SPECS_PATH, headers={**headers, "If-None-Match": '"central:1"'})
    assert same.status_code == 304 and same.data == b""
    moved = station.get(SPECS_PATH, headers={**headers, "If-None-Match": '"central:0"'})
    push = SpecPush.model_validate_json(moved.data)
    assert push.table.version == "central:1" and len(push.table.specs) == 3
    assert push.table.spec_for("8340-1A") is not None
    assert push.table.spec_for("8340-1").linearity_spec is None  # type: ignore[union-attr]
    assert create_app is not None


def test_learned_threshold_is_proposed_accepted_and_audited(
    central_db: Database, accounts: Accounts, tmp_path: Path
) -> None:
    from agent.analysis.file import analyse_file

    base = analyse_file(RESCUED)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    units = []
    for i in range(40):
        track = base.tracks[0]
        sigma_value = 0.02 * (1.0 + 0.01 * (i % 10))
        changed = track.model_copy(update={"sigma_gradient": sigma_value, "sigma_pass": False})
        units.append(
            renamed(
                base,
                f"u{i}",
                tracks=[changed],
                serial=f"S{i // 2}",
                analysed_at=start + timedelta(hours=i),
                status=base.status,
            )
        )
    ingest(central_db, batch_of(units, "line-a"))
    admin = signed_in(central_db, ADMIN, ADMIN_PASSWORD)
    _import(admin, b"model,element_type\n6607,Carbon\n", "m.csv")
    page = _text(admin.get("/specs/sigma/6607"))
    assert "Threshold not yet set for this model" in page
    assert 'id="proposed"' in page and 'id="warn-with"' in page
    found_value = page.split('id="sigma-value" value="')[1].split('"')[0]
    assert 0.02 < float(found_value) < 0.03
    csrf = page_csrf(admin, "/specs/sigma/6607")
    bad = admin.post(
        "/specs/sigma/6607", data={"csrf_token": csrf, "action": "accept", "value": "x"}
    )
    assert bad.status_code == 400
    done = admin.post(
        "/specs/sigma/6607",
        data={"csrf_token": csrf, "action": "accept", "value": "0.025", "note": "QA review"},
    )
    assert done.status_code == 303
    stored = store.get_spec(central_db, "6607")
    assert stored is not None and stored.spec.sigma_threshold == 0.025
    assert audit.entries(central_db)[0].action == "spec.sigma"
    assert "accepted 0.025" in _text(admin.get("/specs/sigma/6607"))
    viewer = signed_in(central_db, VIEWER, VIEWER_PASSWORD)
    assert (
        viewer.post("/specs/sigma/6607", data={"csrf_token": csrf, "action": "reject"}).status_code
        == 403
    )
    rejected = admin.post("/specs/sigma/6607", data={"csrf_token": csrf, "action": "reject"})
    assert rejected.status_code == 303
    assert store.get_spec(central_db, "6607").spec.sigma_threshold == 0.025  # type: ignore[union-attr]


@pytest.mark.parametrize("path", ["/specs", "/specs/m/x", "/specs/sigma/x", "/specs/new"])
def test_pages_need_a_sign_in(central_db: Database, path: str) -> None:
    from tests.central.auth_helpers import make_client

    response = make_client(central_db).get(path)
    assert response.status_code == 303 and "/login" in response.headers["Location"]
