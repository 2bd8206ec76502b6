"""`lta-central serve` and the database-backed commands: open, migrate, serve, close."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

from loguru import logger

from central.alarms import job as alarm_job
from central.alarms.rules import AlarmSettings
from central.auth.lockout import LockoutPolicy
from central.config import CentralConfig
from central.db import Database, migrate, open_database
from central.web import create_app
from central.web.context import AuthSettings, CentralContext, IngestLimits
from shared.service import bind_server, exit_on_signals, setup_logging

WEB_THREADS = 8


def connect(config: CentralConfig) -> Database:
    """Open the configured database (or the embedded one) and bring its schema up to date."""
    db = open_database(
        config.database_url_value,
        config.embedded_pg_dir,
        min_size=config.database.pool_min_size,
        max_size=config.database.pool_max_size,
    )
    try:
        migrate(db)
    except Exception:
        db.close()
        raise
    return db


def limits_from(config: CentralConfig) -> IngestLimits:
    ingest = config.ingest
    return IngestLimits(
        max_body_bytes=ingest.max_body_bytes,
        max_uncompressed_bytes=ingest.max_uncompressed_bytes,
        max_batch_results=ingest.max_batch_results,
        rate_limit_per_minute=ingest.rate_limit_per_minute,
        rate_burst=ingest.rate_burst,
    )


def auth_from(config: CentralConfig) -> AuthSettings:
    login = config.login
    return AuthSettings(
        session_lifetime=timedelta(hours=login.session_hours),
        lockout=LockoutPolicy(
            max_failures=login.max_failures,
            window=timedelta(minutes=login.failure_window_minutes),
            duration=timedelta(minutes=login.lockout_minutes),
        ),
        behind_tls_proxy=config.web.behind_tls_proxy,
    )


def alarm_settings_from(config: CentralConfig) -> AlarmSettings:
    alarms = config.alarms
    return AlarmSettings(
        silent_after=timedelta(minutes=alarms.silent_after_minutes),
        recent_days=alarms.recent_days,
        baseline_days=alarms.baseline_days,
        yield_units=alarms.yield_units,
    )


def server_adjustments(config: CentralConfig) -> dict[str, Any]:
    """waitress settings: what a client can make central buffer before a handler runs.

    waitress reads a whole body before it calls the app (its default allows 1 GiB),
    so authentication cannot come first; these make the server itself refuse a body
    over ingest.max_body_bytes from its Content-Length (413, unread) or as it streams in.
    """
    web = config.web
    return {
        "max_request_body_size": config.ingest.max_body_bytes,
        "max_request_header_size": web.max_request_header_bytes,
        "connection_limit": web.connection_limit,
        # Batches are megabytes: read them in large chunks and keep them in memory up to
        # request_buffer_bytes (waitress's defaults, 8 KiB reads and a temp file past
        # 512 KiB, halve ingest); beyond, a temporary file holds the rest.
        "recv_bytes": 256 * 1024,
        "inbuf_overflow": min(web.request_buffer_bytes, config.ingest.max_body_bytes),
    }


def serve(config: CentralConfig) -> int:
    setup_logging(config.logging.level, config.log_dir / "central.log")
    db = connect(config)
    scheduler = None
    try:
        ctx = CentralContext(
            db=db,
            limits=limits_from(config),
            auth=auth_from(config),
            alarms=alarm_settings_from(config),
            max_exports=config.web.max_concurrent_exports,
        )
        server: Any = bind_server(
            create_app(ctx),
            config.bind_host,
            config.bind_port,
            "web.bind / LTA_CENTRAL_BIND",
            threads=WEB_THREADS,
            ident="lta-central",
            **server_adjustments(config),
        )
        exit_on_signals()
        # The fleet overview's alarms: every instance runs the job, one evaluates at a time.
        scheduler = alarm_job.start(
            db, alarm_settings_from(config), config.alarms.evaluate_every_seconds
        )
        url = f"http://{config.web.bind}/"
        logger.info("Central listening on {}", url)
        print(f"Laser Trim Analyzer central running: {url}", flush=True)
        with contextlib.suppress(SystemExit, KeyboardInterrupt):
            server.run()
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=True)  # a round in progress ends within its statement timeout
        db.close()
        logger.info("Central stopped")
    return 0
