"""Issue 13 on central's dashboard: what a curious viewer (or a hostile station's text) could do.

One database per module, filled once through central's real ingest with
really analysed station files, some of them renamed the way a hostile
station would name them. Requests go through central's real app (the Flask
test client) or its real waitress server on loopback.
"""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from psycopg.conninfo import conninfo_to_dict

from agent.analysis.file import analyse_file
from agent.simulate import simulate_station
from central.auth.audit import CLI
from central.auth.lockout import LockoutPolicy
from central.auth.users import Role, add_user, check_login
from central.config import CentralConfig
from central.db import Database
from central.embedded_pg import embedded_url
from central.service import server_adjustments
from central.web import create_app
from central.web.context import AuthSettings, CentralContext
from central.web.models import MAX_LISTED_MODELS
from shared.models import FileResult
from shared.service import bind_server
from tests.central.auth_helpers import (
    AUTH,
    NO_RATE_LIMIT,
    csrf_from,
    sign_in,
)
from tests.central.data_helpers import batch_of, ingest, renamed

PASSWORD = "Hardening-Pass-2025"  # noqa: S105 - test accounts only
FORMULA_MODEL = '=HYPERLINK("http://attacker.example/","open me")'
FORMULA_SERIAL = "+SUM(1,1)"
CONTROL_MODEL = "ctl\x1b[2Jmodel\u202e"
LINE_1 = "line-1"
FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def sent(tmp_path_factory: pytest.TempPathFactory) -> list[FileResult]:
    paths = simulate_station(tmp_path_factory.mktemp("station"), count=4, seed=21)
    files = [analyse_file(p) for p in paths]
    base = next(r for r in files if r.tracks)
    hostile = [
        renamed(base, "formula", model=FORMULA_MODEL, serial=FORMULA_SERIAL, file_name="@x.xlsx"),
        renamed(base, "control", model=CONTROL_MODEL, serial="a\x07b", file_name="=cmd|' /c'!A1"),
    ]
    return [*files, *hostile]


@pytest.fixture(scope="module")
def db(module_db: Database, sent: list[FileResult]) -> Database:
    ingest(module_db, batch_of(sent, LINE_1))
    return module_db


_names = iter(f"user{k}" for k in range(10_000))


def user(db: Database, role: Role = Role.VIEWER) -> str:
    name = next(_names)
    add_user(db, name, role, PASSWORD, CLI)
    return name


def client_for(db: Database, auth: AuthSettings = AUTH, **ctx: Any) -> FlaskClient:
    app = create_app(CentralContext(db=db, limits=NO_RATE_LIMIT, auth=auth, **ctx))
    app.config["TESTING"] = True
    return app.test_client()


def signed_in_client(
    db: Database, auth: AuthSettings = AUTH, **ctx: Any
) -> tuple[FlaskClient, str]:
    client = client_for(db, auth, **ctx)
    name = user(db, Role.ADMIN)
    assert sign_in(client, name, PASSWORD).status_code == 303
    return client, name


@pytest.fixture
def viewer(db: Database) -> FlaskClient:
    return signed_in_client(db)[0]


# --------------------------------------------------------------------------- 2, 3: export


def _export(client: FlaskClient, query: str = "") -> Any:
    response = client.get(f"/export.xlsx{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return load_workbook(io.BytesIO(response.data))


def _cells(sheet: Any) -> list[Any]:
    return [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]


def test_station_text_in_the_export_is_text_never_a_formula(viewer: FlaskClient) -> None:
    book = _export(viewer)
    cells = {c.value: c for c in _cells(book["Data"])}
    for text in (FORMULA_MODEL, FORMULA_SERIAL, "@x.xlsx", "=cmd|' /c'!A1"):
        assert text in cells, text
        assert cells[text].data_type == "s", text
    assert all(c.data_type != "f" for c in _cells(book["Data"]) + _cells(book["Summary"]))


def test_a_filter_typed_as_a_formula_is_text_in_the_summary(viewer: FlaskClient) -> None:
    book = _export(viewer, "?model==1%2B1&station=%3D2%2B2")
    cells = {c.value: c for c in _cells(book["Summary"])}
    assert cells["=1+1"].data_type == "s"
    assert cells["=2+2"].data_type == "s"


def test_control_characters_in_station_text_do_not_break_the_export(viewer: FlaskClient) -> None:
    book = _export(viewer)
    values = {c.value for c in _cells(book["Data"])}
    assert "ctl\\x1b[2Jmodel\\u202e" in values
    assert "a\\x07b" in values


def test_an_export_with_a_control_character_filter_is_not_a_server_error(
    viewer: FlaskClient,
) -> None:
    book = _export(viewer, "?model=a%1Bb")
    assert "a\\x1bb" in {c.value for c in _cells(book["Summary"])}


# --------------------------------------------------------------------------- 4: password change


def _change(client: FlaskClient, current: str, new: str = "Another-Pass-2025") -> Any:
    token = csrf_from(client.get("/account"))
    form = {"csrf_token": token, "current_password": current}
    return client.post(
        "/account/password", data={**form, "new_password": new, "confirm_password": new}
    )


def test_password_change_counts_towards_the_lock_and_obeys_it(db: Database) -> None:
    auth = AuthSettings(
        lockout=LockoutPolicy(max_failures=3), login_rate_per_minute=10_000, login_burst=10_000
    )
    client, name = signed_in_client(db, auth)
    for guess in range(2):
        assert _change(client, f"wrong-guess-{guess}").status_code == 400
    third = _change(client, "wrong-guess-3")
    assert third.status_code == 400
    assert "locked" in third.get_data(as_text=True)

    right = _change(client, PASSWORD)  # the right password, while locked

    assert right.status_code == 403
    assert "Nothing was changed" in right.get_data(as_text=True)
    assert check_login(db, name, PASSWORD).user is not None  # the password stayed
    assert sign_in(client_for(db, auth), name, PASSWORD).status_code == 401  # still locked


def test_password_checks_per_address_are_limited_on_the_account_page(db: Database) -> None:
    auth = AuthSettings(login_rate_per_minute=1, login_burst=3)
    client, name = signed_in_client(db, auth)  # the sign-in used one attempt
    assert _change(client, "wrong-1").status_code == 400
    assert _change(client, "wrong-2").status_code == 400
    limited = _change(client, PASSWORD)
    assert limited.status_code == 429
    assert "Too many password checks from this computer" in limited.get_data(as_text=True)
    assert check_login(db, name, PASSWORD).user is not None


# --------------------------------------------------------------------------- 6: malformed input


@pytest.mark.parametrize("name", ["ada\x00", "\x00", "a" * 500, "ada admin", "ädä"])
def test_impossible_user_names_are_refused_like_wrong_passwords(db: Database, name: str) -> None:
    assert sign_in(client_for(db), name, PASSWORD).status_code == 401


@pytest.mark.parametrize(
    "query",
    [
        "/?to=9999-12-31",
        "/models?from=0001-01-01",
        "/models?model=a%00b",
        "/?station=%00",
        "/units?serial=%00",
        "/units?model=x%00",
        "/export.xlsx?to=9999-12-31",
        "/models/M%00/compare",
        "/models/" + "m" * 300,
        "/units?cursor=" + "W" * 2000,
        "/units?cursor=e30=",  # {}
        "/units?cursor=" + "WwAA" * 10,
        "/units?serial=a&cursor=WyJhIiwgMSwgMl0=",  # ["a", 1, 2]
        "/units?cursor=%C2%B2",
    ],
)
def test_malformed_parameters_are_400(viewer: FlaskClient, query: str) -> None:
    assert viewer.get(query).status_code in (400, 404), query


def test_a_deeply_nested_cursor_is_400(viewer: FlaskClient) -> None:
    import base64

    cursor = base64.urlsafe_b64encode(b"[" * 100_000).decode()
    assert viewer.get(f"/units?cursor={cursor}").status_code == 400


def test_an_out_of_range_value_stored_before_the_limits_does_not_break_compare(
    viewer: FlaskClient, db: Database, sent: list[FileResult]
) -> None:
    model = sent[0].model
    with db.pool.connection() as conn:
        conn.execute(
            "UPDATE track_series SET sigma_gradient = 1.7e308, linearity_error = -1.7e308 "
            "WHERE model = %s",
            (model,),
        )
    try:
        assert viewer.get(f"/models/{model}/compare").status_code == 200
    finally:
        with db.pool.connection() as conn:
            conn.execute(
                "UPDATE track_series ts SET sigma_gradient = t.sigma_gradient, "
                "linearity_error = t.linearity_error FROM tracks t "
                "WHERE t.result_id = ts.result_id AND t.track_id = ts.track_id"
            )


_PATHS = ["/", "/units", "/models", "/models/8340-1", "/models/8340-1/compare", "/admin/audit"]
_KEYS = [
    "from", "to", "station", "model", "serial", "cursor", "window", "baseline", "tests",
    "before", "acknowledged", "done", "name",
]  # fmt: skip
_VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "9999-12-31",
            "0001-01-01",
            "2025-02-30",
            "99999999999999999999",
            "-1",
            "1e308",
            "\x00",
            "NaN",
            "WyJ4Il0=",
            "none",
            "²",
            "1,2,99",
        ]
    ),
    st.integers().map(str),
)


@FUZZ
@given(
    path=st.sampled_from(_PATHS),
    params=st.lists(st.tuples(st.sampled_from(_KEYS), _VALUES), max_size=4),
)
def test_no_query_string_gives_a_server_error(
    fuzz_client: FlaskClient, path: str, params: list[tuple[str, str]]
) -> None:
    response = fuzz_client.get(path, query_string=params)
    assert response.status_code < 500, (path, params, response.get_data(as_text=True)[:300])


@pytest.fixture(scope="module")
def fuzz_client(db: Database) -> FlaskClient:
    return signed_in_client(db)[0]


# --------------------------------------------------------------------------- 6: exports, /models


def test_one_export_too_many_waits_and_health_is_still_served(db: Database) -> None:
    client, _ = signed_in_client(db, max_exports=1)
    slots = client.application.extensions["lta-central"].export_slots
    assert slots.acquire(blocking=False)  # an export is being written
    try:
        busy = client.get("/export.xlsx")
        assert busy.status_code == 429
        assert int(busy.headers["Retry-After"]) > 0
        assert "try again" in busy.get_data(as_text=True)
        assert client.get("/healthz").status_code == 200
    finally:
        slots.release()
    assert client.get("/export.xlsx").status_code == 200


# --------------------------------------------------------------------------- 7: headers


def test_every_page_has_a_policy_without_inline_script_and_no_framing(
    viewer: FlaskClient, db: Database
) -> None:
    for path in ("/login", "/", "/models", "/units", "/account", "/no-such-page"):
        response = (viewer if path != "/login" else client_for(db)).get(path)
        policy = response.headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in policy, path
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy, path
        assert response.headers.get("X-Frame-Options") == "DENY", path


def test_direction_overrides_in_station_text_are_shown_not_obeyed(viewer: FlaskClient) -> None:
    page = viewer.get("/units").get_data(as_text=True)  # lists every model in its filter
    assert "\u202e" not in page and "\x1b" not in page
    assert "ctl\\x1b[2Jmodel\\u202e" in page


# --------------------------------------------------------------------------- 5: body limits


@pytest.fixture
def served(db: Database, tmp_path: Path) -> Iterator[int]:
    """Central's real app behind waitress with its configured limits, on a free port."""
    config = CentralConfig.model_validate(
        {"ingest": {"max_body_bytes": 1024 * 1024}, "storage": {"data_dir": str(tmp_path)}}
    )
    app = create_app(CentralContext(db=db, limits=NO_RATE_LIMIT))
    server = bind_server(
        app, "127.0.0.1", 0, "test", threads=2, ident="lta-central", **server_adjustments(config)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield int(server.effective_port)
    finally:
        server.close()
        thread.join(timeout=10)


def _raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(60)  # a guard against hanging forever, not a measurement
        sock.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer


def test_a_body_over_the_limit_is_refused_unread_before_authentication(served: int) -> None:
    """512 MiB announced, nothing sent: waitress answers 413 at once instead of reading it
    (its default limit, 1 GiB, would have it wait for the body)."""
    head = (
        "POST /api/v1/results HTTP/1.1\r\nHost: central\r\nContent-Type: application/json\r\n"
        f"Content-Length: {512 * 1024**2}\r\n\r\n"
    ).encode()
    assert _raw(served, head).startswith(b"HTTP/1.1 413")


def test_huge_headers_are_refused(served: int) -> None:
    head = b"GET /healthz HTTP/1.1\r\nHost: central\r\nX-Pad: " + b"a" * 200_000 + b"\r\n\r\n"
    assert b" 431 Request Header Fields Too Large" in _raw(served, head).split(b"\r\n")[0]


def test_a_body_within_the_limit_still_reaches_the_api(served: int) -> None:
    head = b"POST /api/v1/results HTTP/1.1\r\nHost: central\r\nContent-Length: 2\r\n\r\n{}"
    assert _raw(served, head).startswith(b"HTTP/1.1 401")


# --------------------------------------------------------------------------- 9: embedded URL


def test_the_embedded_database_url_survives_any_folder_name(tmp_path: Path) -> None:
    from pgserver.utils import PostmasterInfo

    folder = tmp_path / "data#1?x=y&host=evil%20"
    info = PostmasterInfo(
        [
            "1",
            str(folder),
            str(int(datetime.now(UTC).timestamp())),
            "5432",
            str(folder),
            "",
            "",
            "ready",
        ]
    )
    params = conninfo_to_dict(embedded_url(info))
    assert params["host"] == str(folder)
    assert params["dbname"] == "postgres"


# --------------------------------------------------------------------------- last: it adds models


def test_the_model_list_stays_bounded_however_many_names_stations_invent(
    viewer: FlaskClient, db: Database, sent: list[FileResult]
) -> None:
    base = sent[0]
    extra = 5
    today = datetime.now().replace(microsecond=0)  # in the page's default window, alone
    invented = [
        renamed(base, f"invented-{k}", model=f"zz-invented-{k:04d}", test_date=today)
        for k in range(MAX_LISTED_MODELS + extra)
    ]
    ingest(db, batch_of(invented, "line-9"))

    page = viewer.get("/models").get_data(as_text=True)

    assert page.count("<tr data-model=") == MAX_LISTED_MODELS
    assert 'id="unlisted"' in page
    assert f"{extra} more models" in page
