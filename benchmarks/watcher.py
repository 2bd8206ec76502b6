"""The watcher over years of files: scan time per 10,000 known files, idle CPU at 20,000.

A station folder that holds years of results must not cost the PC a core: a
scan of files the watcher already knows should cost what the unchanged folders
cost, not what the files in them cost (issue 14, item 6). Two figures:

- scan time of an inbox whose files are all known (recorded in the store),
  per 10,000 files, in one flat folder and spread over 200 sub-folders;
- the CPU of a real idle agent process (`lta-agent run`, its analysis worker
  idle) watching 20,000 known files, in % of one core (goal: under 2 %).

The figures from before the per-folder index are in
docs/decisions/0017-windows-seam.md.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from agent.runtime import Runtime
from agent.store.store import Store
from agent.watcher import Watcher
from tests.e2e.agent_process import AgentProcess
from tests.factories import known_files
from tests.waiting import wait_for

KNOWN_FILES = 20_000
SCANS = 20
IDLE_S = 20.0
FOLDERS = 200


def _never(path: Path, content: bytes) -> object:
    raise AssertionError(f"a known file was analysed again: {path}")


def scan_figures(tmp: Path, folders: int) -> tuple[float, float]:
    """(first scan s, steady scan ms) per 10,000 known files."""
    inbox = tmp / f"inbox-{folders}"
    store = Store(tmp / f"data-{folders}" / "agent.sqlite")
    try:
        known_files(inbox, store, KNOWN_FILES, folders)
        runtime = Runtime(station_id="bench", station_name="bench", inboxes=[str(inbox)])
        watcher = Watcher(inboxes=[inbox], store=store, analyse=_never, runtime=runtime)  # type: ignore[arg-type]
        started = time.perf_counter()
        watcher.scan()
        first = time.perf_counter() - started
        assert watcher.waiting == 0, "known files were not recognised"
        started = time.perf_counter()
        for _ in range(SCANS):
            watcher.scan()
        steady = (time.perf_counter() - started) / SCANS
    finally:
        store.close()
    per = 10_000 / KNOWN_FILES
    return first * per, steady * 1000 * per


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def idle_cpu_figure(tmp: Path) -> float:
    """% of one core used by an idle agent process watching 20,000 known files."""
    inbox, data = tmp / "idle-inbox", tmp / "idle-data"
    store = Store(data / "agent.sqlite")
    try:
        known_files(inbox, store, KNOWN_FILES, 1)
    finally:
        store.close()
    with AgentProcess(data, inbox).start() as agent:
        assert agent.process is not None

        def settled() -> bool:
            health = agent.get("/api/status")["health"]
            return bool(
                not health["starting_up"]
                and health["scan_age_s"] is not None
                and health["files_waiting"] == 0
            )

        if not wait_for(settled, 300, 0.5):
            raise TimeoutError("the agent did not settle on its known files")
        time.sleep(2.0)  # past the first scans
        pid = agent.process.pid
        before, started = _cpu_s(pid), time.monotonic()
        time.sleep(IDLE_S)
        used = _cpu_s(pid) - before
        elapsed = time.monotonic() - started
        agent.terminate()
    return 100.0 * used / elapsed


def run() -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory(prefix="lta-bench-watcher-") as name:
        tmp = Path(name)
        flat_first, flat_steady = scan_figures(tmp, 1)
        tree_first, tree_steady = scan_figures(tmp, FOLDERS)
        idle = idle_cpu_figure(tmp)
    return [
        (
            f"watcher: first scan per 10,000 known files ({KNOWN_FILES:,} in one folder)",
            f"{flat_first:.2f} s",
        ),
        (
            f"watcher: scan per 10,000 known files, unchanged ({KNOWN_FILES:,}, one folder)",
            f"{flat_steady:.1f} ms",
        ),
        (
            f"watcher: scan per 10,000 known files, unchanged ({FOLDERS} folders)",
            f"{tree_steady:.1f} ms (first scan {tree_first:.2f} s)",
        ),
        (
            f"idle agent CPU, {KNOWN_FILES:,} known files in the inbox (goal < 2 %)",
            f"{idle:.1f} % of one core",
        ),
    ]
