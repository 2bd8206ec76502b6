"""The agent's JSON API, health and metrics on a real store (Flask test client)."""

from __future__ import annotations

from pathlib import Path

from agent.runtime import Runtime
from agent.store.store import Store
from tests.conftest import fill_store

CONTRACT_KEYS = {
    "result_id",
    "sha256",
    "file_name",
    "status",
    "model",
    "serial",
    "analysed_at",
    "error",
}


def test_status_on_an_empty_store(client) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/status").get_json()
    assert body["station_id"] == "station-test" and body["latest"] is None
    assert body["counts"] == {"Pass": 0, "Warning": 0, "Fail": 0, "Error": 0}
    assert body["outbox"] == {"pending": 0, "oldest_age_s": None, "oldest_at": None, "dead": 0}
    assert body["central"]["configured"] is False


def test_status_and_results_paging(client, store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    results = fill_store(store, tmp_path / "inbox", 12)
    status = client.get("/api/status").get_json()
    assert status["latest"]["file_name"] == results[-1].file_name
    assert sum(status["counts"].values()) == 12
    assert status["outbox"]["pending"] == 12
    first = client.get("/api/results?limit=5").get_json()
    assert len(first["results"]) == 5 and first["results"][0].keys() >= CONTRACT_KEYS
    rest = client.get(f"/api/results?limit=50&before={first['next_before']}").get_json()
    names = [r["file_name"] for r in first["results"] + rest["results"]]
    assert names == [r.file_name for r in reversed(results)]
    assert rest["next_before"] is None
    one = client.get(f"/api/results/{first['results'][0]['result_id']}").get_json()
    assert one["tracks"][0]["curve"]["errors"] and one["station_id"] == "station-test"
    assert client.get(f"/api/results/{first['results'][0]['pk']}").status_code == 200


def test_bad_requests_get_json_errors(client) -> None:  # type: ignore[no-untyped-def]
    for url, code in (
        ("/api/results?limit=abc", 400),
        ("/api/results?limit=0", 400),
        ("/api/results?before=-1", 400),
        ("/api/results/nope", 404),
    ):
        response = client.get(url)
        assert response.status_code == code
        assert response.get_json()["error"]["message"]


def test_health_follows_the_watcher_and_metrics_render(client, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/healthz").status_code == 503  # no scan yet
    runtime.report_scan(waiting=2)
    health = client.get("/healthz")
    assert health.status_code == 200 and health.get_json()["watcher"] == "ok"
    metrics = client.get("/metrics").get_data(as_text=True)
    assert "lta_files_waiting 2.0" in metrics and "lta_outbox_pending 0.0" in metrics
