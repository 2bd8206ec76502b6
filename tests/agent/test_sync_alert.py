"""The sync-health banner: central down, token refused, results waiting too long."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask.testing import FlaskClient

from agent.runtime import Runtime
from agent.store.store import Store
from agent.web.sync_alert import clock_words, duration_words, sync_alert, waiting_words
from tests.conftest import fill_store

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)


def outbox(pending: int, age_s: float | None) -> dict[str, object]:
    oldest = None if age_s is None else (NOW - timedelta(seconds=age_s)).isoformat()
    return {"pending": pending, "oldest_age_s": age_s, "oldest_at": oldest, "dead": 0}


def central(**state: object) -> dict[str, object]:
    base: dict[str, object] = {
        "configured": True,
        "reachable": True,
        "last_sync_at": None,
        "last_error": None,
        "auth_failed": False,
    }
    return {**base, **state}


def test_no_banner_without_central_or_while_results_flow() -> None:
    assert sync_alert(None, outbox(5, 9999), NOW) is None
    assert sync_alert({"configured": False}, outbox(5, 9999), NOW) is None
    assert sync_alert(central(), outbox(0, None), NOW) is None
    assert sync_alert(central(), outbox(3, 14 * 60), NOW) is None  # under 15 min
    assert sync_alert(central(reachable=None), outbox(3, 60), NOW) is None  # connecting


def test_unreachable_says_how_many_wait_and_since_when() -> None:
    oldest_local = (NOW - timedelta(hours=2, seconds=5)).astimezone().strftime("%H:%M")
    alert = sync_alert(central(reachable=False), outbox(37, 2 * 3600 + 5), NOW)
    assert alert is not None
    assert alert["kind"] == "unreachable"
    assert alert["headline"] == "CENTRAL UNREACHABLE"
    assert alert["detail"].startswith(f"37 results waiting since {oldest_local} (2 h) · ")
    assert "no sync yet" in alert["detail"]


def test_token_refused_wins_over_unreachable_and_names_the_setting() -> None:
    alert = sync_alert(central(reachable=False, auth_failed=True), outbox(1, 30), NOW)
    assert alert is not None and alert["kind"] == "token"
    assert "TOKEN" in alert["headline"]
    assert alert["detail"].startswith("1 result waiting since ")
    assert "central.token" in alert["detail"]


def test_results_waiting_past_the_threshold() -> None:
    synced = (NOW - timedelta(minutes=50)).isoformat()
    alert = sync_alert(central(last_sync_at=synced), outbox(4, 40 * 60), NOW, after_s=30 * 60)
    assert alert is not None and alert["kind"] == "waiting"
    assert alert["headline"] == "RESULTS NOT SENT FOR 40 MIN"
    assert "last sync " in alert["detail"]
    assert sync_alert(central(), outbox(4, 40 * 60), NOW, after_s=60 * 60) is None


def test_words() -> None:
    assert [duration_words(s) for s in (5, 125, 7300, 200000, None)] == [
        "5 s",
        "2 min",
        "2 h",
        "2 d",
        "—",
    ]
    assert clock_words(None, NOW) == "—" and clock_words("not a time", NOW) == "—"
    yesterday = (NOW - timedelta(days=1)).astimezone()
    assert clock_words(yesterday.isoformat(), NOW) == yesterday.strftime("%m-%d %H:%M")
    assert waiting_words(outbox(0, None), NOW) == "no results waiting to be sent"


def test_page_and_api_show_the_banner_when_central_is_down(
    client: FlaskClient, store: Store, runtime: Runtime, tmp_path: Path
) -> None:
    fill_store(store, tmp_path / "inbox", 3)
    html = client.get("/").get_data(as_text=True)
    assert re.search(r'id="sync-alert"[^>]*hidden', html)  # not configured: no banner

    runtime.central.configured = True
    runtime.central.reachable = False
    runtime.central.last_error = "ConnectError: connection refused"
    body = client.get("/api/status").get_json()
    assert body["sync_alert"]["kind"] == "unreachable"
    assert body["sync_alert"]["detail"].startswith("3 results waiting since ")
    html = client.get("/").get_data(as_text=True)
    assert not re.search(r'id="sync-alert"[^>]*hidden', html)
    assert "sync-alert-unreachable" in html
    assert ">CENTRAL UNREACHABLE<" in html
    assert body["sync_alert"]["detail"] in html
