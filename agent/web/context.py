"""What every request handler may use, stored on the Flask app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from agent.config import WebConfig
from agent.runtime import Runtime
from agent.store.store import Store
from agent.web.sync_alert import DEFAULT_AFTER_S


@dataclass(frozen=True)
class AgentContext:
    store: Store
    runtime: Runtime
    shift_starts: tuple[str, ...]  # "HH:MM" local; empty = calendar day
    page_refresh_ms: int = WebConfig.default_of("page_refresh_ms")
    health_max_scan_age_s: float = 30.0
    # Results waiting longer than this raise the sync banner (web.sync_alert_minutes).
    sync_alert_after_s: float = DEFAULT_AFTER_S
    # Test dates older than this many hours are history (inbox.history_window_hours).
    history_window_hours: float = 12.0
    # Host names the page answers to besides this PC's own and IP addresses (web.allowed_hosts).
    allowed_hosts: tuple[str, ...] = ()


def context() -> AgentContext:
    ctx: Any = current_app.extensions["lta"]
    return ctx  # type: ignore[no-any-return]
