"""`lta-central serve` and the database-backed commands: open, migrate, serve, close."""

from __future__ import annotations

import contextlib
import errno
import logging
import signal
import sys
from types import FrameType
from typing import Any

from loguru import logger
from waitress import create_server

from central.config import CentralConfig
from central.db import Database, migrate, open_database
from central.web import create_app
from central.web.context import CentralContext, IngestLimits
from shared.errors import ErrorCode, LtaError

WEB_THREADS = 8


class CentralStartupError(LtaError):
    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.STARTUP_FAILED, message)


def setup_logging(config: CentralConfig) -> None:
    logger.remove()
    logger.add(sys.stderr, level=config.logging.level, format="{time:HH:mm:ss} {level} {message}")
    try:
        config.log_dir.mkdir(parents=True, exist_ok=True)
        logger.add(
            config.log_dir / "central.log",
            level=config.logging.level,
            rotation="20 MB",
            retention=10,
        )
    except OSError as exc:
        logger.warning("No log file in {}: {}", config.log_dir, exc)
    logging.getLogger("waitress").setLevel(logging.ERROR)


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


def _raise_exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def serve(config: CentralConfig) -> int:
    setup_logging(config)
    db = connect(config)
    try:
        app = create_app(CentralContext(db=db, limits=limits_from(config)))
        server: Any = _bind(app, config)
        signal.signal(signal.SIGTERM, _raise_exit)
        signal.signal(signal.SIGINT, _raise_exit)
        url = f"http://{config.web.bind}/"
        logger.info("Central listening on {}", url)
        print(f"Laser Trim Analyzer central running: {url}", flush=True)
        with contextlib.suppress(SystemExit, KeyboardInterrupt):
            server.run()
    finally:
        db.close()
        logger.info("Central stopped")
    return 0


def _bind(app: Any, config: CentralConfig) -> Any:
    try:
        return create_server(
            app,
            host=config.bind_host,
            port=config.bind_port,
            threads=WEB_THREADS,
            ident="lta-central",
        )
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise CentralStartupError(
                f"Port {config.bind_port} on {config.bind_host} is already in use. Stop the other "
                "process or set web.bind / LTA_CENTRAL_BIND."
            ) from exc
        raise CentralStartupError(f"Cannot listen on {config.web.bind}: {exc}.") from exc
