"""What the running agent knows about itself: health, last error, metrics.

The watcher and sync job report into it; the web app reads it. Metrics use
prometheus_client with a registry per agent, so tests can run many agents in
one process.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from agent.history import HistoryImport
from agent.spec_sync import SpecState

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.files = Counter(
            "lta_files_analysed_total",
            "Files analysed and recorded, by verdict.",
            ["status"],
            registry=self.registry,
        )
        self.errors = Counter(
            "lta_file_errors_total",
            "Files whose verdict is Error, by error code.",
            ["code"],
            registry=self.registry,
        )
        self.read_retries = Counter(
            "lta_file_read_retries_total",
            "Reads of inbox files that failed (locked, vanished) and will be retried.",
            registry=self.registry,
        )
        self.latency = Histogram(
            "lta_analysis_seconds",
            "Time from reading a file to its verdict being stored.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.outbox_pending = Gauge(
            "lta_outbox_pending", "Results not yet delivered to central.", registry=self.registry
        )
        self.files_waiting = Gauge(
            "lta_files_waiting", "Inbox files seen but not yet analysed.", registry=self.registry
        )


@dataclass
class CentralState:
    """What the page and /api/status say about central."""

    configured: bool = False
    reachable: bool | None = None
    last_sync_at: datetime | None = None
    last_error: str | None = None
    auth_failed: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "configured": self.configured,
            "reachable": self.reachable,
            "last_sync_at": self.last_sync_at.isoformat() if self.last_sync_at else None,
            "last_error": self.last_error,
            "auth_failed": self.auth_failed,
        }


@dataclass
class Runtime:
    station_id: str
    station_name: str
    inboxes: list[str]
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    metrics: Metrics = field(default_factory=Metrics)
    files_waiting: int = 0
    last_error: str | None = None
    last_error_at: datetime | None = None
    last_scan_monotonic: float | None = None
    watching: bool = False
    # True while the analysis worker loads its kernels (compiles them on the first start
    # after an install): the page and /healthz answer and say "starting up".
    starting_up: bool = False
    # Why the analysis worker cannot start (None: it can, or has not tried): the page,
    # /healthz and `doctor` (through the state file) say it.
    analysis_error: str | None = None
    # Inbox folders the service cannot reach, with why: a mapped drive, no rights.
    inbox_problems: dict[str, str] = field(default_factory=dict)
    account: str = ""  # the account the service runs as, for `doctor`
    central: CentralState = field(default_factory=CentralState)
    history_import: HistoryImport = field(default_factory=HistoryImport)
    specs: SpecState = field(default_factory=SpecState)  # the spec table judged by
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def report_scan(self, waiting: int) -> None:
        with self._lock:
            self.files_waiting = waiting
            self.last_scan_monotonic = time.monotonic()
            self.watching = True
        self.metrics.files_waiting.set(waiting)

    def report_error(self, message: str) -> None:
        with self._lock:
            self.last_error = message
            self.last_error_at = datetime.now(UTC)

    def report_analysis_error(self, message: str | None) -> None:
        """The worker cannot start (message), or started again (None)."""
        with self._lock:
            self.analysis_error = message
            if message is not None:
                self.last_error = f"analysis cannot start: {message}"
                self.last_error_at = datetime.now(UTC)

    def state(self) -> dict[str, Any]:
        """What `doctor` (run by IT under another account) needs from the service."""
        with self._lock:
            return {
                "pid": os.getpid(),
                "account": self.account,
                "inboxes": self.inboxes,
                "inbox_problems": dict(self.inbox_problems),
                "analysis_error": self.analysis_error,
                "starting_up": self.starting_up,
                "last_error": self.last_error,
            }

    def scan_age_s(self) -> float | None:
        last = self.last_scan_monotonic
        return None if last is None else time.monotonic() - last


STATE_FILE = "service-state.json"
STATE_STALE_S = 300.0  # the service rewrites the file at least this often while it runs


def write_state(data_dir: Path, runtime: Runtime) -> None:
    """Write the service's view of itself, atomically, for `lta-agent doctor`.

    `doctor` runs as whoever IT is logged in as; the service may run as another
    account that cannot see the same drives and shares. This file says what the
    service itself saw.
    """
    body = {**runtime.state(), "written_at": datetime.now(UTC).isoformat()}
    path = data_dir / STATE_FILE
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(body, indent=1), encoding="utf-8")
    os.replace(partial, path)


def read_state(data_dir: Path) -> dict[str, Any] | None:
    """The last state the service wrote, or None (never ran here, or unreadable)."""
    try:
        body: dict[str, Any] = json.loads((data_dir / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return body
