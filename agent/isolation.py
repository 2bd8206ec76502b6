"""Analyse files in a child process, so one file can only ever cost itself.

A mangled legacy .xls can make the Rust reader request terabytes (it then
aborts the whole process) or, with smaller nonsense sizes, eat the machine's
memory. No exception handler survives that, so the reading and analysis run
in a supervised child with a memory cap and a time limit: when the child dies
or overruns, that file gets an Error verdict, a fresh child starts, and the
next file is processed.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from loguru import logger

from shared.analysis_settings import AnalysisSettings
from shared.errors import ErrorCode
from shared.models import ErrorInfo, FileResult, Status

DEFAULT_MEMORY_LIMIT = 2 * 1024**3  # bytes of heap a single file may use
DEFAULT_TIMEOUT_S = 60.0
_STARTUP_TIMEOUT_S = 120.0  # first start on a cold cache compiles every kernel


@dataclass(frozen=True)
class Request:
    path: str
    content: bytes | None  # the bytes already hashed by the caller, or None to read the file


def _limit_memory(limit: int) -> None:
    if sys.platform == "win32":  # no rlimit; the time limit and crash recovery still apply
        return
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    wanted = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_DATA, (wanted, hard))


def _child_main(
    conn: Connection,
    settings: AnalysisSettings,
    memory_limit: int,
    kernel_cache_dir: Path | None = None,
) -> None:
    import faulthandler

    from agent import kernel_cache

    kernel_cache.apply(kernel_cache_dir)  # before the first kernel module is imported
    from agent.analysis.file import analyse_content, analyse_file
    from agent.analysis.warmup import warm_up

    faulthandler.disable()  # a reader abort is expected and reported by the parent
    # Ctrl+C reaches the whole console group (a WinSW service stop, a terminal): the
    # parent stops the worker itself, after the file in hand, so this one ignores it
    # rather than die mid-file and have a good file recorded as unreadable.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    report = warm_up()
    if kernel_cache_dir is not None:
        with contextlib.suppress(OSError):  # only informs `doctor`; never stops the worker
            kernel_cache.record_warm(kernel_cache_dir, report)
    _limit_memory(memory_limit)
    conn.send(report)
    while True:
        try:
            request: Request | None = conn.recv()
        except EOFError:
            return
        if request is None:
            return
        path = Path(request.path)
        if request.content is None:
            result = analyse_file(path, settings)
        else:
            result = analyse_content(path, request.content, settings)
        conn.send(result)


def crashed_result(path: Path, detail: str, content: bytes | None) -> FileResult:
    import hashlib

    digest = hashlib.sha256(content).hexdigest() if content is not None else None
    return FileResult(
        path=str(path),
        file_name=path.name,
        sha256=digest,
        size_bytes=None if content is None else len(content),
        status=Status.ERROR,
        error=ErrorInfo(
            code=ErrorCode.UNREADABLE_FILE,
            message=f"{path.name} could not be read safely ({detail}); the file is probably "
            "corrupt. It was kept; re-export it from the station.",
        ),
        analysed_at=datetime.now(UTC),
    )


class IsolatedAnalyser:
    """One supervised child process; not thread-safe (give each thread its own)."""

    def __init__(
        self,
        settings: AnalysisSettings,
        memory_limit: int = DEFAULT_MEMORY_LIMIT,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        start_method: str = "spawn",
        kernel_cache_dir: Path | None = None,
    ) -> None:
        from agent.kernel_cache import worker_cache_dir

        self.settings = settings
        # The installed (frozen) agent must cache kernels somewhere that does not depend
        # on the working directory; from source numba's place beside the code is kept.
        self.kernel_cache_dir = (
            kernel_cache_dir if kernel_cache_dir is not None else worker_cache_dir(None)
        )
        self.warm_up: dict[str, Any] | None = None  # the worker's last warm-up report
        self.memory_limit = memory_limit
        self.timeout_s = timeout_s
        # typeshed's BaseContext lacks Process; every concrete context has it
        self._context: Any = multiprocessing.get_context(start_method)
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self.restarts = 0

    def start(self) -> None:
        parent, child = self._context.Pipe()
        process = self._context.Process(
            target=_child_main,
            args=(child, self.settings, self.memory_limit, self.kernel_cache_dir),
            name="lta-analyser",
            daemon=True,
        )
        process.start()
        child.close()
        if not parent.poll(_STARTUP_TIMEOUT_S):
            process.kill()
            raise RuntimeError("The analysis worker did not start; see the agent log.")
        report = parent.recv()
        self.warm_up = report if isinstance(report, dict) else None
        self._process, self._conn = process, parent

    def analyse(self, path: Path, content: bytes | None = None) -> FileResult:
        if self._process is None or not self._process.is_alive():
            self.start()
        conn = self._conn
        assert conn is not None  # noqa: S101 - start() set it
        try:
            conn.send(Request(str(path), content))
            if conn.poll(self.timeout_s):
                result: FileResult = conn.recv()
                return result
            detail = f"reading took longer than {self.timeout_s:.0f} s"
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError):
            detail = "the reader stopped on it"
        self._restart(path, detail)
        return crashed_result(path, detail, content)

    def _restart(self, path: Path, detail: str) -> None:
        logger.warning("Analysis worker lost on {} ({}); starting a new one", path, detail)
        self.restarts += 1
        self.close()

    def close(self) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            with contextlib.suppress(OSError, BrokenPipeError):
                conn.send(None)
            conn.close()
        if process is not None:
            process.join(timeout=2)
            if process.is_alive():
                process.kill()
                process.join(timeout=2)

    def __enter__(self) -> IsolatedAnalyser:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
