"""`lta-agent analyze`: output formats, folders, workers and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent.cli import EXIT_FILE_ERRORS, EXIT_OK, EXIT_STARTUP_FAILED, main
from tests.factories import system_a_file, system_b_file

REQUIRED_FILE_KEYS = {
    "path",
    "sha256",
    "system",
    "model",
    "serial",
    "test_date",
    "status",
    "error",
    "tracks",
}
REQUIRED_TRACK_KEYS = {
    "track_id",
    "points",
    "sigma_gradient",
    "sigma_threshold",
    "sigma_pass",
    "optimal_offset",
    "linearity_error",
    "linearity_pass",
    "fail_points",
    "raw_fail_points",
    "linearity_spec",
    "travel_length",
    "untrimmed_resistance",
    "trimmed_resistance",
    "max_violation",
    "margin_to_spec",
    "is_anomaly",
    "status",
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    system_a_file(tmp_path / "line1" / "8340-1_SN1_TA_Test Data_11-22-2024.xlsx", tracks=2)
    system_b_file(tmp_path / "line2" / "1844202_10_TA_Test Data_11-22-2024.xls")
    (tmp_path / "notes.txt").write_text("not excel")
    (tmp_path / "~$8340-1_SN1.xlsx").write_bytes(b"lock")
    return tmp_path


def test_json_lines_have_the_contract_fields(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["analyze", str(folder), "--json"]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2  # the text file and the Office lock file are not candidates
    for line in lines:
        record = json.loads(line)
        assert record.keys() >= REQUIRED_FILE_KEYS
        assert record["status"] == "Pass" and record["error"] is None
        for track in record["tracks"]:
            assert track.keys() >= REQUIRED_TRACK_KEYS
            assert "curve" not in track  # curves only with --curves
    assert {json.loads(line)["system"] for line in lines} == {"A", "B"}


def test_curves_on_request(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["analyze", str(folder / "line2"), "--json", "--curves"])
    record = json.loads(capsys.readouterr().out)
    assert len(record["tracks"][0]["curve"]["positions"]) == 200


def test_readable_lines_and_error_exit_code(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = folder / "8340-1_SN2.xlsx"
    bad.write_text("renamed text")
    assert main(["analyze", str(folder), str(bad)]) == EXIT_FILE_ERRORS
    out = capsys.readouterr().out.splitlines()
    passed = next(line for line in out if line.startswith("PASS") and "TRK2" in line)
    assert "TRK1 sigma" in passed and "8340-1 SN100" in passed
    assert any(line.startswith("ERROR") and "[unreadable_file]" in line for line in out)


def test_many_files_with_worker_processes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for i in range(20):
        system_b_file(tmp_path / f"1844202_{i}_TA_Test Data_11-22-2024.xlsx")
    assert main(["analyze", str(tmp_path), "--json", "--workers", "2"]) == EXIT_OK
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    names = sorted(p.name for p in tmp_path.iterdir())
    assert [Path(r["path"]).name for r in records] == names  # input order is kept
    assert all(r["status"] == "Pass" for r in records)


def test_caps_from_the_command_line(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["analyze", str(folder / "line1"), "--json", "--max-rows", "20"]) == EXIT_FILE_ERRORS
    )
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "too_large"


def test_console_script_runs(folder: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "agent.cli", "analyze", str(folder / "line1")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("PASS")
    version = subprocess.run(
        [sys.executable, "-m", "agent.cli", "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.startswith("lta-agent ")


def test_simulate_command_writes_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--out", str(tmp_path / "inbox"), "--count", "4", "--seed", "3"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 4 and all(Path(p).exists() for p in printed)
    assert main(["analyze", str(tmp_path / "inbox")]) == EXIT_OK


def test_init_config_writes_a_template_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "agent.toml"
    assert main(["init-config", str(target)]) == EXIT_OK
    assert "[inbox]" in target.read_text()
    assert main(["init-config", str(target)]) == EXIT_STARTUP_FAILED
    assert "lta-agent:" in capsys.readouterr().err


def test_run_with_a_bad_config_names_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "agent.toml"
    config.write_text('[web]\nbind = "localhost:99999"\n')
    assert main(["run", "--config", str(config)]) == EXIT_STARTUP_FAILED
    err = capsys.readouterr().err
    assert "web.bind" in err and str(config) in err


def test_outbox_status_and_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from agent.store import outbox
    from agent.store.store import Store
    from tests.conftest import fill_store

    monkeypatch.setenv("LTA_AGENT_DATA_DIR", str(tmp_path / "data"))
    store = Store(tmp_path / "data" / "agent.sqlite")
    fill_store(store, tmp_path / "inbox", 3)
    store.writer.call(
        lambda conn: outbox.settle(conn, [], [(1, "central refused it (400): bad")], _now())
    )
    store.close()
    assert main(["outbox", "status"]) == EXIT_OK
    out = capsys.readouterr().out
    assert '"pending": 2' in out and '"dead": 1' in out and "central refused it" in out
    assert main(["outbox", "retry"]) == EXIT_OK
    assert "1 result(s) queued again" in capsys.readouterr().out
    assert main(["outbox", "status"]) == EXIT_OK
    assert '"pending": 3' in capsys.readouterr().out


def _now():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.now(UTC)
