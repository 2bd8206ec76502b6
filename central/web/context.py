"""What central's request handlers may use, stored on the Flask app."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import current_app
from prometheus_client import CollectorRegistry, Counter, Histogram

from central.alarms.rules import AlarmSettings
from central.auth.lockout import LockoutPolicy
from central.config import IngestConfig, LoginConfig, WebConfig
from central.db import Database
from central.ratelimit import RateLimiter


@dataclass(frozen=True)
class IngestLimits:
    """What one ingest request may be (`[ingest]`; defaults from central.config)."""

    max_body_bytes: int = IngestConfig.default_of("max_body_bytes")
    max_uncompressed_bytes: int = IngestConfig.default_of("max_uncompressed_bytes")
    max_batch_results: int = IngestConfig.default_of("max_batch_results")
    rate_limit_per_minute: int = IngestConfig.default_of("rate_limit_per_minute")
    rate_burst: int = IngestConfig.default_of("rate_burst")


@dataclass(frozen=True)
class AuthSettings:
    """Dashboard sign-in: session length, lock-out, cookies (central/web/auth.py)."""

    session_lifetime: timedelta = timedelta(hours=LoginConfig.default_of("session_hours"))
    lockout: LockoutPolicy = field(default_factory=LockoutPolicy)
    # Behind a TLS proxy: cookies are Secure and the proxy's X-Forwarded-For/-Proto are trusted.
    behind_tls_proxy: bool = WebConfig.default_of("behind_tls_proxy")
    # Sign-in attempts per source address (scrypt costs CPU; this caps what one client spends).
    login_rate_per_minute: int = 30
    login_burst: int = 10


class CentralMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "lta_central_ingest_requests_total",
            "Ingest API requests by endpoint and HTTP status.",
            ["endpoint", "status"],
            registry=self.registry,
        )
        self.results = Counter(
            "lta_central_results_total",
            "Results received, by outcome (accepted, duplicate, rejected).",
            ["outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "lta_central_ingest_seconds",
            "Time to validate and store one batch.",
            registry=self.registry,
        )


@dataclass
class CentralContext:
    db: Database
    limits: IngestLimits
    metrics: CentralMetrics = field(default_factory=CentralMetrics)
    auth: AuthSettings = field(default_factory=AuthSettings)
    # The drift alarm's settings: the model pages judge drift against its baseline period.
    alarms: AlarmSettings = field(default_factory=AlarmSettings)
    # Excel exports running at once in this process: each holds a web thread and a
    # database connection for seconds, so more would starve /healthz and the pages.
    max_exports: int = WebConfig.default_of("max_concurrent_exports")
    limiter: RateLimiter = field(init=False)
    login_limiter: RateLimiter = field(init=False)
    export_slots: threading.BoundedSemaphore = field(init=False)

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(self.limits.rate_limit_per_minute, self.limits.rate_burst)
        self.login_limiter = RateLimiter(self.auth.login_rate_per_minute, self.auth.login_burst)
        self.export_slots = threading.BoundedSemaphore(self.max_exports)


def context() -> CentralContext:
    ctx: Any = current_app.extensions["lta-central"]
    return ctx  # type: ignore[no-any-return]
