"""Retention figures: pruning speed, writer batch times, and the page while pruning runs.

The store is the one tests/agent/test_retention.py builds: 200 days x 100
results a day copied from the seven real station files (their real curves),
with 2 % waiting for central and 1.3 % refused; 180 days are kept.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent.analysis.file import analyse_file
from agent.retention import Retention
from agent.runtime import Runtime
from agent.store import outbox
from agent.store.store import Store
from agent.web import create_app
from agent.web.context import AgentContext
from tests.agent.test_retention import DAYS, KEEP_DAYS, PER_DAY, age, clone_results
from tests.real_truth import IN_REPO

STATION = "bench-station"


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


def _aged_store(folder: Path) -> Store:
    inbox = folder / "inbox"
    inbox.mkdir()
    store = Store(folder / "data" / "agent.sqlite")
    now = datetime.now(UTC)
    templates = []
    for path in sorted(IN_REPO.glob("*.xls")):
        recorded = store.record(analyse_file(path), STATION, now, None)
        assert recorded.result_pk is not None
        templates.append(recorded.result_pk)
    ids = [r[0] for r in store.read().execute("SELECT id FROM outbox")]
    store.writer.call(lambda conn: outbox.settle(conn, ids, [], now))
    age(store, templates, now - timedelta(days=DAYS - 5))
    store.writer.call(lambda conn: clone_results(conn, templates, now, DAYS, PER_DAY, inbox))
    return store


class _TimedWriter:
    """Times every writer call the retention job makes (one call = one batch or step)."""

    def __init__(self, store: Store) -> None:
        self.calls: list[float] = []
        self._call = store.writer.call

        def timed(fn, timeout: float = 60.0):  # type: ignore[no-untyped-def]
            started = time.perf_counter()
            try:
                return self._call(fn, timeout)
            finally:
                self.calls.append((time.perf_counter() - started) * 1000)

        self.timed = timed


def run() -> list[tuple[str, str]]:
    tmp = Path(tempfile.mkdtemp(prefix="lta-bench-retention-"))
    try:
        store = _aged_store(tmp)
        size_before = store.path.stat().st_size
        runtime = Runtime(station_id=STATION, station_name="Bench", inboxes=[str(tmp / "inbox")])
        app = create_app(AgentContext(store=store, runtime=runtime, shift_starts=()))
        client = app.test_client()
        idle = []
        for _ in range(60):
            started = time.perf_counter()
            client.get("/")
            idle.append((time.perf_counter() - started) * 1000)

        job = Retention(store=store, days=KEEP_DAYS, inboxes=[tmp / "inbox"], budget_s=600)
        timer = _TimedWriter(store)
        done = threading.Event()
        report: list[object] = []

        def prune() -> None:
            store.writer.call = timer.timed  # type: ignore[method-assign]
            try:
                report.append(job.run())
            finally:
                done.set()

        busy = []
        thread = threading.Thread(target=prune)
        started_all = time.perf_counter()
        thread.start()
        while not done.is_set():
            started = time.perf_counter()
            client.get("/")
            busy.append((time.perf_counter() - started) * 1000)
        thread.join()
        seconds = time.perf_counter() - started_all
        result = report[0]
        pruned = getattr(result, "results", 0)
        store.close()
        size_after = store.path.stat().st_size
        return [
            (
                f"store: {DAYS} days x {PER_DAY} results (real curves)",
                f"{size_before / 1e6:.0f} MB",
            ),
            (
                f"pruned to {KEEP_DAYS} days: results, seconds",
                f"{pruned} in {seconds:.2f} s ({pruned / seconds:.0f}/s)",
            ),
            ("file size after pruning and incremental vacuum", f"{size_after / 1e6:.0f} MB"),
            (
                "writer call of the job (batch of 200 / vacuum step) p50 / max",
                f"{statistics.median(timer.calls):.1f} / {max(timer.calls):.1f} ms",
            ),
            ("page GET / p95 idle", f"{_p95(idle):.1f} ms"),
            (
                "page GET / p95 while pruning (target <= 50 ms)",
                f"{_p95(busy):.1f} ms ({len(busy)} requests)",
            ),
        ]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":  # `python -m benchmarks.retention`, until run.py lists it
    for label, value in run():
        print(f"{label:<62} {value}", flush=True)
