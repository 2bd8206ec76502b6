"""What both long-running programs do the same way: logs, start-up errors, stop signals."""

from __future__ import annotations

import errno
import logging
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from loguru import logger
from waitress import create_server

from shared.errors import ErrorCode, LtaError
from shared.untrusted import visible


class StartupError(LtaError):
    """The program cannot start; the message says what to change."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.STARTUP_FAILED, message)


def _escape_message(record: Any) -> None:
    """Station text in a message (file names, models, errors) cannot start a new line or
    hide itself: control and direction characters are written as escapes."""
    record["message"] = visible(record["message"])


def setup_logging(level: str, log_file: Path) -> None:
    """stderr for the console or service manager, plus a rotating file IT can send us.

    Every record is one line: a newline or escape code in station text could
    otherwise forge a record (or a terminal command) in what IT reads.
    """
    logger.remove()
    logger.configure(patcher=_escape_message)
    logger.add(sys.stderr, level=level, format="{time:HH:mm:ss} {level} {message}")
    try:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        logger.add(log_file, level=level, rotation="10 MB", retention=10, encoding="utf-8")
    except OSError as exc:
        logger.warning("No log file in {}: {}", log_file.parent, exc)
    for noisy in ("apscheduler", "waitress"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def bind_server(
    app: Any, host: str, port: int, setting: str, threads: int, ident: str, **adjustments: Any
) -> Any:
    """A waitress server bound now, so a busy port stops the start with one clear message.

    setting names where the address comes from (e.g. "web.bind / LTA_AGENT_BIND").
    """
    try:
        return create_server(app, host=host, port=port, threads=threads, ident=ident, **adjustments)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise StartupError(
                f"Port {port} on {host} is already in use (is another {ident} running?). Stop "
                f"it, or set {setting} to a free host:port."
            ) from exc
        raise StartupError(f"Cannot listen on {host}:{port} ({setting}): {exc}.") from exc


def _raise_exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def exit_on_signals() -> None:
    """SIGTERM (service managers) and SIGINT (Ctrl-C) end the serving loop cleanly."""
    signal.signal(signal.SIGTERM, _raise_exit)
    signal.signal(signal.SIGINT, _raise_exit)
