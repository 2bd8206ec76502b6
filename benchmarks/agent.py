"""Station agent figures: landing-to-verdict latency, API/page p95 at 100k results, memory."""

from __future__ import annotations

import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np

from agent.analysis.file import analyse_file
from agent.simulate import simulate_station
from agent.store import writes
from agent.store.database import connect
from agent.store.reads import count_results
from agent.store.store import Store
from tests.e2e.agent_process import AgentProcess
from tests.waiting import wait_for

LATENCY_FILES = 40
STORED_RESULTS = 100_000
HISTORY_DAYS = 100
MEMORY_FILES = 10_000


def _wait(predicate: Callable[[], object], timeout: float, interval: float = 0.01) -> None:
    if not wait_for(predicate, timeout, interval):
        raise TimeoutError("benchmark condition not reached")


def latency_figures(tmp: Path) -> list[tuple[str, str]]:
    staging = simulate_station(tmp / "staging", count=LATENCY_FILES, seed=31)
    inbox = tmp / "inbox"
    inbox.mkdir()
    rng = random.Random(3)
    delays = []
    # Simulated units carry past test dates; history off, so each is the latest unit.
    live = AgentProcess(tmp / "data", inbox, LTA_AGENT_INBOX__HISTORY_WINDOW_HOURS="0")
    with live.start() as agent:
        client = httpx.Client(timeout=5)
        for source in staging:
            time.sleep(rng.uniform(0.2, 1.2))  # arrivals at random phases of the poll
            landed = time.monotonic()
            source.replace(inbox / source.name)
            _wait(
                lambda n=source.name: (
                    (latest := client.get(f"{agent.url}/api/status").json()["latest"])
                    and latest["file_name"] == n
                ),
                timeout=10,
            )
            delays.append(time.monotonic() - landed)
        agent.terminate()
    return [
        (
            f"file landing -> verdict in /api/status ({LATENCY_FILES} files)",
            f"median {statistics.median(delays):.2f} s, p95 {np.percentile(delays, 95):.2f} s",
        )
    ]


def _fill(store: Store, sources: list[Path], count: int) -> None:
    """A station's history: count results over the last 100 days (about 1,000 a day),
    each a really analysed file with its own sha; all but the newest 100 delivered."""
    results = [analyse_file(p) for p in sources]
    now = datetime.now(UTC)
    step = timedelta(days=HISTORY_DAYS) / count

    def fill(conn):  # type: ignore[no-untyped-def]
        conn.execute("PRAGMA synchronous=OFF")  # bench set-up only; the agent runs FULL
        for i in range(count):
            base = results[i % len(results)]
            when = now - step * (count - i)
            fake = base.model_copy(update={"sha256": f"{i:064x}", "analysed_at": when})
            writes.record_file(conn, fake, "bench-station", when, None)
        conn.execute(
            "UPDATE outbox SET state = 'delivered' WHERE id <= (SELECT MAX(id) - 100 FROM outbox)"
        )
        conn.execute("PRAGMA synchronous=FULL")

    store.writer.call(fill, timeout=3600)


def _p95_ms(client: httpx.Client, url: str, n: int = 200) -> tuple[float, float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - start)
        response.raise_for_status()
    return statistics.median(times) * 1e3, float(np.percentile(times, 95)) * 1e3


def stored_figures(tmp: Path) -> list[tuple[str, str]]:
    sources = simulate_station(tmp / "sources", count=200, seed=32)
    data = tmp / "data"
    store = Store(data / "agent.sqlite")
    start = time.perf_counter()
    _fill(store, sources, STORED_RESULTS)
    fill_s = time.perf_counter() - start
    store.close()
    size_mb = (data / "agent.sqlite").stat().st_size / 1e6
    inbox = tmp / "inbox"
    inbox.mkdir()
    rows = [(f"fill {STORED_RESULTS} results (set-up)", f"{fill_s:.1f} s, {size_mb:.0f} MB")]
    with AgentProcess(data, inbox).start() as agent:
        client = httpx.Client(timeout=10)
        for label, path in (
            ("/api/status", "/api/status"),
            ("status page /", "/"),
            ("/api/results?limit=50", "/api/results?limit=50"),
        ):
            median, p95 = _p95_ms(client, agent.url + path)
            rows.append(
                (
                    f"{label} with {STORED_RESULTS} results",
                    f"median {median:5.1f} ms, p95 {p95:5.1f} ms",
                )
            )
        agent.terminate()
    return rows


def _stored(data: Path) -> int:
    with closing(connect(data / "agent.sqlite", readonly=True)) as conn:
        return count_results(conn)


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _pss_kb(pid: int) -> int:
    """Proportional set size: shared library pages split between the processes using them,
    so the sum over the service and its worker counts each page once."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(c) for c in text]
    return found


def memory_figures(tmp: Path) -> list[tuple[str, str]]:
    """10,000 distinct files: 500 simulated units, each also with 1..19 trailing bytes."""
    unique = simulate_station(tmp / "unique", count=500, seed=33)
    inbox = tmp / "inbox"
    inbox.mkdir()
    with AgentProcess(tmp / "data", inbox).start() as agent:
        assert agent.process is not None
        pid = agent.process.pid
        start = time.perf_counter()
        per_batch = len(unique)
        for variant in range(MEMORY_FILES // per_batch):
            batch = inbox / f"batch{variant:02d}"
            batch.mkdir()
            for source in unique:
                content = source.read_bytes() + b"\0" * variant
                (batch / source.name).write_bytes(content)
            _wait(
                lambda n=(variant + 1) * per_batch: _stored(tmp / "data") >= n,
                timeout=600,
                interval=0.5,
            )
        elapsed = time.perf_counter() - start
        parent = _rss_kb(pid)
        children = sum(_rss_kb(c) for c in _children(pid))
        parent_pss = _pss_kb(pid)
        children_pss = sum(_pss_kb(c) for c in _children(pid))
        agent.terminate()
    shutil.rmtree(inbox, ignore_errors=True)
    return [
        (
            f"agent: {MEMORY_FILES} files through the service",
            f"{MEMORY_FILES / elapsed:.0f} files/s",
        ),
        (
            f"agent resident memory (RSS) after {MEMORY_FILES} files",
            f"service {parent / 1024:.0f} MB + analysis worker {children / 1024:.0f} MB "
            f"= {(parent + children) / 1024:.0f} MB",
        ),
        (
            f"agent memory (PSS, shared pages counted once) after {MEMORY_FILES} files",
            f"service {parent_pss / 1024:.0f} MB + analysis worker {children_pss / 1024:.0f} MB "
            f"= {(parent_pss + children_pss) / 1024:.0f} MB",
        ),
    ]


def run() -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for section in (latency_figures, stored_figures, memory_figures):
        with tempfile.TemporaryDirectory(prefix="lta-bench-") as tmp:
            rows += section(Path(tmp))
    return rows
