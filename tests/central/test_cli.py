"""`lta-central`: the commands IT runs, in-process against a real PostgreSQL."""

from __future__ import annotations

import gzip
import json
import os
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import psycopg
import pytest
from loguru import logger

from agent.analysis.file import analyse_file
from agent.simulate import simulate_station
from central.cli import EXIT_FAILED, EXIT_OK, main
from central.db import Database, migration_scripts, open_database
from central.stations import hash_token, token_owner
from central.web import create_app
from central.web.context import CentralContext, IngestLimits
from shared.ids import result_id
from shared.protocol import PROTOCOL_VERSION, RESULTS_PATH, IngestBatch, StationResult
from shared.version import __version__

TOKEN_LINE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)


@pytest.fixture(autouse=True)
def _restore_loguru() -> Iterator[None]:
    """The database commands point loguru at the (captured) stderr; undo that afterwards."""
    yield
    logger.remove()
    logger.add(sys.stderr)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> str:
    """Central's environment: this test's database, a data folder in tmp_path, no config file."""
    for name in list(os.environ):
        if name.startswith("LTA_CENTRAL_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LTA_CENTRAL_DATABASE_URL", database_url)
    monkeypatch.setenv("LTA_CENTRAL_DATA_DIR", str(tmp_path / "central"))
    return database_url


@pytest.fixture
def db(env: str, tmp_path: Path) -> Iterator[Database]:
    """A second connection to the database the commands use, to look at what they did."""
    assert main(["migrate"]) == EXIT_OK
    opened = open_database(env, tmp_path / "unused-pg", min_size=1, max_size=2)
    yield opened
    opened.close()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def add(capsys: pytest.CaptureFixture[str], name: str) -> str:
    code, out, _ = run(capsys, "station", "add", name)
    assert code == EXIT_OK
    return out.rstrip("\n").splitlines()[-1]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"lta-central {__version__}"


def test_migrate_creates_the_schema_and_can_run_again(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for _ in range(2):
        code, out, _ = run(capsys, "migrate")
        assert code == EXIT_OK
        assert out.strip() == "database schema is up to date"
    with psycopg.connect(env) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_version")]
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        }
    numbers = [number for number, _ in migration_scripts()]
    # Every script applied once, in order, numbered without a gap or a repeat (a second
    # script with a number already applied would be skipped silently).
    assert versions == numbers == list(range(1, len(numbers) + 1))
    assert numbers[:3] == [1, 2, 3]
    assert {"stations", "results", "tracks", "heartbeats", "schema_version"} <= tables
    assert {"users", "sessions", "login_failures", "audit_log"} <= tables


def test_station_add_prints_the_token_once_and_stores_only_its_hash(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "station", "add", "line-1")

    assert code == EXIT_OK
    token = out.rstrip("\n").splitlines()[-1]
    assert TOKEN_LINE.match(token)
    assert out.count(token) == 1
    assert token not in err
    assert "LTA_AGENT_CENTRAL_TOKEN" in out
    with db.pool.connection() as conn:
        rows = [r[0] for r in conn.execute("SELECT s::text FROM stations s")]
        stored = conn.execute("SELECT token_hash FROM stations").fetchone()
    assert len(rows) == 1
    assert token not in rows[0]
    assert stored == (hash_token(token),)
    owner = token_owner(db, token)
    assert owner is not None
    assert (owner.name, owner.revoked) == ("line-1", False)


def test_each_station_gets_its_own_token(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = add(capsys, "line-1"), add(capsys, "line-2")
    assert first != second
    assert token_owner(db, second).name == "line-2"  # type: ignore[union-attr]


def test_adding_a_station_twice_fails_with_a_message(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    token = add(capsys, "line-1")

    code, out, err = run(capsys, "station", "add", "line-1")

    assert code == EXIT_FAILED
    assert out == ""
    assert "already exists" in err
    assert "line-1" in err
    assert token_owner(db, token) is not None  # the first token still works
    with db.pool.connection() as conn:
        assert conn.execute("SELECT COUNT(*) FROM stations").fetchone() == (1,)


@pytest.mark.parametrize(
    "name",
    [
        "Line 1",
        "UPPER",
        "_first",
        "x" * 65,
        "a/b",
        "",
        "line-1\n",
    ],
)
def test_a_bad_station_name_fails_with_a_message(
    db: Database, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    code, out, err = run(capsys, "station", "add", name)

    assert code == EXIT_FAILED
    assert out == ""
    assert "not allowed" in err
    with db.pool.connection() as conn:
        assert conn.execute("SELECT COUNT(*) FROM stations").fetchone() == (0,)


def test_station_list_and_revoke(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    add(capsys, "line-2")
    token = add(capsys, "line-1")

    code, out, _ = run(capsys, "station", "revoke", "line-1")
    assert code == EXIT_OK
    assert "line-1 revoked" in out
    owner = token_owner(db, token)
    assert owner is not None
    assert owner.revoked

    code, out, _ = run(capsys, "station", "list")
    assert code == EXIT_OK
    lines = out.splitlines()
    assert [line.split()[:2] for line in lines] == [["line-1", "revoked"], ["line-2", "active"]]
    assert all(line.endswith("last seen never") for line in lines)

    code, out, err = run(capsys, "station", "revoke", "line-1")  # already revoked
    assert code == EXIT_FAILED
    assert "No active station named 'line-1'" in err
    code, _, err = run(capsys, "station", "revoke", "nobody")
    assert code == EXIT_FAILED
    assert "nobody" in err


def test_station_list_of_an_empty_database_prints_nothing(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "station", "list") == (EXIT_OK, "", "")


def test_stats_json_counts_results_ids_and_tracks_per_station(
    db: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    token = add(capsys, "line-1")
    add(capsys, "line-2")
    results = [analyse_file(p) for p in simulate_station(tmp_path / "in", count=8, seed=10)]
    items = [StationResult.from_result(result_id("line-1", r.sha256 or ""), r) for r in results]
    batch = IngestBatch(
        protocol_version=PROTOCOL_VERSION,
        station_id="line-1",
        agent_version="0.1.0",
        sent_at=datetime.now(UTC),
        results=items,
    )
    client = create_app(CentralContext(db=db, limits=IngestLimits())).test_client()
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
    }
    body = gzip.compress(batch.model_dump_json().encode())
    for _ in range(2):  # the resend is all duplicates
        assert client.post(RESULTS_PATH, data=body, headers=headers).status_code == 200

    code, out, _ = run(capsys, "stats", "--json")

    assert code == EXIT_OK
    rows = {row["station"]: row for row in json.loads(out)}
    tracks = sum(len(r.tracks) for r in results)
    assert tracks > len(results)  # one of them has two tracks
    line_1 = rows["line-1"]
    assert (line_1["results"], line_1["distinct_result_ids"], line_1["tracks"]) == (8, 8, tracks)
    assert line_1["revoked"] is False
    assert line_1["last_seen_at"] is not None
    line_2 = rows["line-2"]
    assert (line_2["results"], line_2["distinct_result_ids"], line_2["tracks"]) == (0, 0, 0)
    assert line_2["last_seen_at"] is None

    code, out, _ = run(capsys, "stats")
    assert code == EXIT_OK
    first = out.splitlines()[0].split()
    assert first == ["line-1", "results", "8", "distinct", "8", "tracks", str(tracks)]


def test_init_config_writes_the_template_and_refuses_to_overwrite(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "etc" / "central.toml"
    template = resources.files("central").joinpath("config_template.toml").read_text("utf-8")

    code, out, _ = run(capsys, "init-config", str(path))
    assert code == EXIT_OK
    assert str(path) in out
    assert path.read_text(encoding="utf-8") == template

    path.write_text('[database]\nurl = "postgresql://lta:secret@db/lta"\n', encoding="utf-8")
    code, out, err = run(capsys, "init-config", str(path))
    assert code == EXIT_FAILED
    assert out == ""
    assert "already exists" in err
    assert "secret" in path.read_text(encoding="utf-8")


def test_a_bad_database_url_fails_without_showing_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("LTA_CENTRAL_CONFIG", raising=False)
    monkeypatch.setenv("LTA_CENTRAL_DATABASE_URL", "mysql://lta:hunter2@db/lta")
    monkeypatch.setenv("LTA_CENTRAL_DATA_DIR", str(tmp_path))

    code, out, err = run(capsys, "migrate")

    assert code == EXIT_FAILED
    assert out == ""
    assert "database.url" in err
    assert "hunter2" not in err


def test_a_revoked_station_can_be_given_a_new_token(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    old = add(capsys, "line-1")
    _, _, err = run(capsys, "station", "add", "line-1")
    assert "Revoke it first" in err
    assert run(capsys, "station", "revoke", "line-1")[0] == EXIT_OK

    code, out, err = run(capsys, "station", "add", "line-1")

    assert code == EXIT_OK, err
    new = out.rstrip("\n").splitlines()[-1]
    assert TOKEN_LINE.match(new)
    assert token_owner(db, new) is not None
    old_owner = token_owner(db, old)
    assert old_owner is None or old_owner.revoked
