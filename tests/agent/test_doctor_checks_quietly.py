"""`doctor`: the store's size counts its WAL, token answers read well, and the token check
leaves no trace at central (the end-to-end run is in test_doctor.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx

from agent.analysis.file import analyse_file
from agent.config import load_config
from agent.doctor import Level, _token_answer, check_store, store_bytes
from agent.store.store import Store
from tests.conftest import STATION
from tests.real_truth import IN_REPO


def test_store_size_includes_the_wal_and_shm(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = Store(data / "agent.sqlite")
    try:
        for path in sorted(IN_REPO.glob("*.xls")):
            store.record(analyse_file(path), STATION, datetime.now(UTC), None)
        files = [data / name for name in ("agent.sqlite", "agent.sqlite-wal", "agent.sqlite-shm")]
        assert all(f.exists() for f in files)  # the writer holds the WAL open, not checkpointed
        sizes = [f.stat().st_size for f in files]
        assert sizes[1] > 0
        assert store_bytes(files[0]) == sum(sizes)
        config = load_config(None, {"LTA_AGENT_DATA_DIR": str(data)})
        check, _ = check_store(config)
        total = store_bytes(files[0])
        shown = f"{total / 1000:.1f} KB" if total < 1e6 else f"{total / 1e6:.1f} MB"
        assert shown in check.message, (check.message, sizes)
    finally:
        store.close()
    assert store_bytes(tmp_path / "missing.sqlite") == 0


def answer(status: int, code: str, message: str) -> httpx.Response:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    return httpx.Response(status, content=body, headers={"Content-Type": "application/json"})


def test_wrong_station_message_quotes_the_id_once() -> None:
    check = _token_answer(
        "wrong-id",
        answer(403, "wrong_station", "This token belongs to 'trim-08', not 'wrong-id'."),
    )
    assert check.level is Level.FAIL
    assert "''" not in check.message
    assert check.message.endswith("or use the token issued for 'wrong-id'.")


def test_a_central_without_the_token_check_is_not_sent_a_heartbeat() -> None:
    check = _token_answer("trim-07", answer(404, "not_found", "Not Found"))
    assert check.level is Level.WARN
    assert "predates the token check" in check.message
