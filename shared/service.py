"""What both long-running programs do the same way: logs, start-up errors, stop signals."""

from __future__ import annotations

import errno
import logging
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from loguru import logger
from waitress import create_server

from shared.errors import ErrorCode, LtaError
from shared.untrusted import visible

WSAEADDRINUSE = 10048  # Winsock's "address in use"; its errno is not EADDRINUSE everywhere


class StartupError(LtaError):
    """The program cannot start; the message says what to change."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.STARTUP_FAILED, message)


def _escape_message(record: Any) -> None:
    """Station text in a message (file names, models, errors) cannot start a new line or
    hide itself: control and direction characters are written as escapes."""
    record["message"] = visible(record["message"])


def setup_logging(level: str, log_file: Path, sink: Callable[[Any], None] | None = None) -> None:
    """stderr for the console or service manager, plus a rotating file IT can send us.

    `sink` replaces loguru's own rotating file (the agent's survives a rotation
    that Windows refuses while another program holds the log open). Every
    record is one line: a newline or escape code in station text could
    otherwise forge a record (or a terminal command) in what IT reads.
    """
    logger.remove()
    logger.configure(patcher=_escape_message)
    logger.add(sys.stderr, level=level, format="{time:HH:mm:ss} {level} {message}")
    if sink is not None:
        logger.add(sink, level=level)
        return
    try:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        logger.add(log_file, level=level, rotation="10 MB", retention=10, encoding="utf-8")
    except OSError as exc:
        logger.warning("No log file in {}: {}", log_file.parent, exc)
    for noisy in ("apscheduler", "waitress"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def bind_server(
    app: Any,
    host: str,
    port: int,
    setting: str,
    threads: int,
    ident: str,
    listen: Callable[[str, int], socket.socket] | None = None,
    **adjustments: Any,
) -> Any:
    """A waitress server bound now, so a busy port stops the start with one clear message.

    setting names where the address comes from (e.g. "web.bind / LTA_AGENT_BIND").
    `listen(host, port)`, when given, makes the bound socket (the agent's is
    exclusive on Windows, where waitress's SO_REUSEADDR lets a second server
    bind the same port without an error).
    """
    try:
        if listen is not None:
            sock = listen(host, port)
            try:
                return create_server(
                    app, sockets=[sock], threads=threads, ident=ident, **adjustments
                )
            except BaseException:
                sock.close()
                raise
        return create_server(app, host=host, port=port, threads=threads, ident=ident, **adjustments)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE or getattr(exc, "winerror", None) == WSAEADDRINUSE:
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
