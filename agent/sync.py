"""Send the outbox to central: batches over httpx, exactly-once by result_id.

A row leaves the queue only when central answers for it: accepted or
duplicate (already stored) is delivered, rejected goes to the dead-letter
state with central's reason. Anything else (network down, central busy,
timeouts) leaves the rows pending and backs off with jitter, from seconds up
to minutes. An authentication failure stops sending and is shown on the page
until the token is fixed. A resend after a lost acknowledgement or a kill -9
is harmless: central reports those ids as duplicates.
"""

from __future__ import annotations

import gzip
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from loguru import logger

from agent.runtime import CentralState, Runtime
from agent.store import outbox, reads
from agent.store.store import Store
from shared.protocol import (
    HEARTBEAT_PATH,
    PROTOCOL_VERSION,
    RESULTS_PATH,
    Heartbeat,
    IngestBatch,
    IngestResponse,
)
from shared.version import __version__

MIN_BACKOFF_S = 2.0
MAX_BACKOFF_S = 300.0
HEARTBEAT_EVERY_S = 30.0
GZIP_LEVEL = 1  # the network is rarely the bottleneck on a shop floor; CPU on the station is


class CentralClient:
    def __init__(
        self, url: str, token: str, ca_bundle: Path | None = None, timeout_s: float = 30.0
    ) -> None:
        self._http = httpx.Client(
            base_url=url.rstrip("/"),
            verify=str(ca_bundle) if ca_bundle else True,
            timeout=httpx.Timeout(timeout_s, connect=5.0),
            headers={"Authorization": f"Bearer {token}", "User-Agent": f"lta-agent/{__version__}"},
        )

    def post(self, path: str, body: bytes) -> httpx.Response:
        return self._http.post(
            path,
            content=gzip.compress(body, GZIP_LEVEL),
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        )

    def get(self, path: str, headers: dict[str, str]) -> httpx.Response:
        """A GET (the spec table, agent.spec_sync), with the caller's conditional headers."""
        return self._http.get(path, headers=headers)

    def close(self) -> None:
        self._http.close()


@dataclass
class Syncer:
    store: Store
    runtime: Runtime
    client: CentralClient
    state: CentralState
    batch_size: int = 200
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)
    _failures: int = 0
    _resume_at: float = 0.0
    _next_heartbeat: float = 0.0
    _batch_limit: int = 0

    def __post_init__(self) -> None:
        self.state.configured = True
        self._batch_limit = self.batch_size

    # ---------------------------------------------------------------- scheduling
    def run(self, stop: threading.Event | None = None, budget_s: float = 20.0) -> int:
        """Send batches until the outbox is empty, central fails, or the budget is spent."""
        now = self.clock()
        if now < self._resume_at:
            return 0
        if now >= self._next_heartbeat:
            self._heartbeat()
        sent = 0
        deadline = now + budget_s
        while self.clock() < deadline and not (stop is not None and stop.is_set()):
            if self.clock() < self._resume_at:
                break
            items = outbox.pending(self.store.read(), self._batch_limit)
            if not items:
                break
            delivered = self._send(items)
            if delivered < 0:
                break
            sent += delivered
        return sent

    def _back_off(self, reason: str, retry_after: float | None = None) -> None:
        self._failures += 1
        ceiling = min(MAX_BACKOFF_S, MIN_BACKOFF_S * 2 ** (self._failures - 1))
        delay = self.rng.uniform(ceiling / 2, ceiling)  # jitter: stations do not stampede
        if retry_after is not None:
            delay = max(delay, retry_after)
        self._resume_at = self.clock() + delay
        self.state.last_error = reason
        logger.warning("Sync to central paused {:.0f} s: {}", delay, reason)

    def _succeeded(self) -> None:
        self._failures = 0
        self._resume_at = 0.0
        self.state.reachable = True
        self.state.auth_failed = False
        self.state.last_error = None
        self.state.last_sync_at = datetime.now(UTC)

    # ---------------------------------------------------------------- sending
    def _send(self, items: list[outbox.OutboxItem]) -> int:
        """Returns results settled, or -1 when sending has to pause."""
        batch = IngestBatch(
            protocol_version=PROTOCOL_VERSION,
            station_id=self.runtime.station_id,
            agent_version=__version__,
            sent_at=datetime.now(UTC),
            results=[item.station for item in items],
        )
        ids = [item.outbox_id for item in items]
        try:
            response = self.client.post(RESULTS_PATH, batch.model_dump_json().encode())
        except httpx.HTTPError as exc:
            self.state.reachable = False
            self._record_failure(ids, f"central unreachable: {_describe(exc)}")
            return -1
        if response.status_code == 200:
            return self._settle(items, IngestResponse.model_validate_json(response.content))
        return self._refused(items, response)

    def _settle(self, items: list[outbox.OutboxItem], answer: IngestResponse) -> int:
        by_id = {item.result_id: item.outbox_id for item in items}
        done = [by_id[i] for i in (*answer.accepted, *answer.duplicate) if i in by_id]
        dead = [(by_id[r.result_id], r.reason) for r in answer.rejected if r.result_id in by_id]
        now = datetime.now(UTC)
        self.store.writer.call(lambda conn: outbox.settle(conn, done, dead, now))
        for _, reason in dead:
            self.runtime.report_error(f"Central rejected a result: {reason}")
        self._batch_limit = min(self.batch_size, self._batch_limit * 2)
        self._succeeded()
        return len(done) + len(dead)

    def _refused(self, items: list[outbox.OutboxItem], response: httpx.Response) -> int:
        status = response.status_code
        message = _error_message(response)
        ids = [item.outbox_id for item in items]
        self.state.reachable = True
        if status in (401, 403):
            self.state.auth_failed = True
            self._record_failure(ids, f"central refused the station token ({status}): {message}")
            self.runtime.report_error(f"Central refused this station: {message}")
            self._resume_at = self.clock() + MAX_BACKOFF_S
            return -1
        if status in (400, 413) and len(items) > 1:
            self._batch_limit = max(1, len(items) // 2)  # find the one it objects to
            return 0
        if status in (400, 413):
            reason = f"central refused it ({status}): {message}"
            self.store.writer.call(
                lambda conn: outbox.settle(conn, [], [(ids[0], reason)], datetime.now(UTC))
            )
            self.runtime.report_error(f"Central rejected {items[0].station.result.file_name}")
            return 1
        retry_after = _retry_after(response)
        self._record_failure(ids, f"central answered {status}: {message}", retry_after)
        return -1

    def _record_failure(
        self, ids: list[int], reason: str, retry_after: float | None = None
    ) -> None:
        self.store.writer.call(lambda conn: outbox.note_failure(conn, ids, reason))
        self._back_off(reason, retry_after)

    def _heartbeat(self) -> None:
        self._next_heartbeat = self.clock() + HEARTBEAT_EVERY_S
        stats = reads.outbox_stats(self.store.read(), datetime.now(UTC))
        beat = Heartbeat(
            protocol_version=PROTOCOL_VERSION,
            station_id=self.runtime.station_id,
            agent_version=__version__,
            sent_at=datetime.now(UTC),
            outbox_pending=stats["pending"],
            oldest_undelivered_age_s=stats["oldest_age_s"],
            dead_letters=stats["dead"],
            last_error=(self.runtime.last_error or None) and self.runtime.last_error[:2000],
        )
        try:
            response = self.client.post(HEARTBEAT_PATH, beat.model_dump_json().encode())
        except httpx.HTTPError as exc:
            self.state.reachable = False
            self.state.last_error = f"central unreachable: {_describe(exc)}"
            return
        self.state.reachable = True
        if response.status_code in (401, 403):
            self.state.auth_failed = True
            self.state.last_error = (
                f"central refused the station token ({response.status_code}): "
                f"{_error_message(response)}"
            )


def _describe(exc: httpx.HTTPError) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
        return str(body["error"]["message"])[:300]
    except (ValueError, KeyError, TypeError):
        return response.reason_phrase or f"HTTP {response.status_code}"


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
