"""QA's spec table from central: fetched on the sync timer, cached in the store, judged by.

Central owns the table (central/specs). On every sync round the station asks
for it with the ETag of the copy it holds; central answers 304 while nothing
changed, so an unchanged table costs one small request. A new version is
validated whole (shared/spec_wire.py), written to the store's `spec_cache`
(one row), and handed to the analysis: the next file is judged by it. When
central is away the station keeps judging by the cached copy, also after a
restart; a table it cannot read is refused and the copy it has stays.

A new version that comes with a re-analysis request (QA chose a window when
saving) re-judges that window of the changed models once, in the background.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import httpx
from loguru import logger
from pydantic import ValidationError

from agent.store.store import Store
from shared.model_specs import SpecTable
from shared.spec_wire import MAX_SPECS_BYTES, SPECS_PATH, SpecPush


@dataclass(frozen=True)
class CachedSpecs:
    push: SpecPush
    etag: str
    fetched_at: str

    @property
    def version(self) -> str:
        return self.push.table.version


def load_cached(store: Store) -> CachedSpecs | None:
    """The copy central last sent, or None (never fetched, or unreadable: logged)."""
    try:
        row = store.read().execute("SELECT etag, document, fetched_at FROM spec_cache").fetchone()
    except sqlite3.Error as exc:
        logger.warning("Cannot read the cached spec table: {}", exc)
        return None
    if row is None:
        return None
    try:
        push = SpecPush.model_validate_json(row[1])
    except ValidationError:
        logger.warning("The cached spec table cannot be read; waiting for central's copy")
        return None
    return CachedSpecs(push=push, etag=str(row[0]), fetched_at=str(row[2]))


def save_cached(store: Store, push: SpecPush, etag: str) -> None:
    document = push.model_dump_json()
    at = datetime.now(UTC).isoformat()

    def write(conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT INTO spec_cache (id, version, etag, document, fetched_at) "
            "VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version, "
            "etag = excluded.etag, document = excluded.document, fetched_at = excluded.fetched_at",
            (push.table.version, etag, document, at),
        )

    store.writer.call(write)


@dataclass
class SpecState:
    """What the page and /api/status say about the spec table the station judges by."""

    version: str | None = None
    source: str | None = None  # "central", "central (cached)", "file", or None
    models: int = 0
    fetched_at: str | None = None
    last_error: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "version": self.version,
            "source": self.source,
            "models": self.models,
            "fetched_at": self.fetched_at,
            "last_error": self.last_error,
        }


class SpecClient(Protocol):
    """What the fetcher needs of the central client (agent.sync.CentralClient)."""

    def get(self, path: str, headers: dict[str, str]) -> httpx.Response: ...


@dataclass
class SpecFetcher:
    store: Store
    client: SpecClient
    state: SpecState
    apply: Callable[[SpecTable], None]
    reanalyse: Callable[[SpecPush], None] | None = None
    etag: str | None = None

    def start_from_cache(self) -> CachedSpecs | None:
        """Judge by the cached copy from the first file on (central may be away)."""
        cached = load_cached(self.store)
        if cached is not None:
            self.etag = cached.etag
            self._use(cached.push.table, "central (cached)", cached.fetched_at)
        return cached

    def run(self) -> bool:
        """One round; True when a new version was taken."""
        headers = {"If-None-Match": self.etag} if self.etag else {}
        try:
            response = self.client.get(SPECS_PATH, headers)
        except httpx.HTTPError as exc:
            self.state.last_error = f"central unreachable: {str(exc)[:200] or type(exc).__name__}"
            return False
        if response.status_code == 304:
            self.state.last_error = None
            return False
        if response.status_code == 404:  # no table yet (or an older central): keep ours
            self.state.last_error = None
            return False
        if response.status_code != 200:
            self.state.last_error = f"central answered {response.status_code} for the specs"
            return False
        if len(response.content) > MAX_SPECS_BYTES:
            self.state.last_error = f"central's spec table is over {MAX_SPECS_BYTES} bytes"
            return False
        try:
            push = SpecPush.model_validate_json(response.content)
        except ValidationError as exc:
            count = exc.error_count()
            self.state.last_error = f"central's spec table was refused: {count} problem(s)"
            logger.error("Central sent a spec table this agent cannot use: {}", exc)
            return False
        etag = response.headers.get("ETag", "")[:200] or push.table.version
        save_cached(self.store, push, etag)
        self.etag = etag
        self._use(push.table, "central", datetime.now(UTC).isoformat())
        self.state.last_error = None
        logger.info("Judging by spec table {} from central", push.table.version)
        if self.reanalyse is not None and push.reanalyse_days > 0:
            self.reanalyse(push)
        return True

    def _use(self, table: SpecTable, source: str, fetched_at: str) -> None:
        self.apply(table)
        self.state.version = table.version
        self.state.source = source
        self.state.models = len(table.specs)
        self.state.fetched_at = fetched_at
