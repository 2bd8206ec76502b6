"""Analyse files in a child process, so one file can only ever cost itself.

A mangled legacy .xls can make the Rust reader request terabytes (it then
aborts the whole process) or, with smaller nonsense sizes, eat the machine's
memory. No exception handler survives that, so the reading and analysis run
in a supervised child with a memory cap and a time limit: when the child dies
or overruns, that file gets an Error verdict, a fresh child starts, and the
next file is processed.

A worker that cannot start at all (a station CPU without an instruction numpy
needs, an antivirus blocking llvmlite's DLL) is not respawned in a loop: each
failed start doubles the wait before the next one (seconds, up to minutes),
and `AnalysisCannotStart` says why, for the page, /healthz and `doctor`. The
memory cap comes from the platform (agent.seam): rlimit set by the worker on
POSIX, a Job Object set by the agent on Windows.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from loguru import logger

from agent.seam import Platform, SeamError, host
from shared.analysis_settings import AnalysisSettings
from shared.errors import ErrorCode, LtaError
from shared.models import ErrorInfo, FileResult, Status

DEFAULT_MEMORY_LIMIT = 2 * 1024**3  # bytes of heap a single file may use
DEFAULT_TIMEOUT_S = 60.0
_STARTUP_TIMEOUT_S = 120.0  # first start on a cold cache compiles every kernel
START_BACKOFF_S = 2.0  # wait after the first failed start; doubled after each one
START_BACKOFF_MAX_S = 300.0

# How a worker that died before saying anything died: Windows NTSTATUS exit codes,
# and POSIX signals (negative exit codes).
_EXIT_REASONS = {
    0xC000001D: "illegal instruction: this PC's processor lacks an instruction the "
    "analysis libraries need (numpy 2 needs SSE4.2 or newer). Replace the PC, or ask for a "
    "build for older processors",
    0xC0000135: "a DLL it needs was not found: reinstall the agent",
    0xC0000142: "a DLL failed to initialise: an antivirus may be blocking the agent's "
    "folder; add an exclusion for it",
    0xC0000005: "access violation while loading: an antivirus may be injecting into it, or "
    "the install is damaged; reinstall, and exclude the agent's folder from scanning",
    0xC0000409: "it aborted while loading: reinstall the agent",
    -int(signal.SIGILL): "illegal instruction: this PC's processor lacks an instruction the "
    "analysis libraries need (numpy 2 needs SSE4.2 or newer)",
    -int(signal.SIGSEGV): "it crashed while loading (segmentation fault): reinstall the agent",
    -int(signal.SIGKILL): "it was killed while loading (out of memory, or by another program)",
}


class AnalysisCannotStart(LtaError):  # noqa: N818 - an outcome IT reads, like FileSkipped
    """The analysis worker did not start; files wait until it does."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.ANALYSIS_CANNOT_START, message)


def exit_reason(exitcode: int | None) -> str:
    """Why a worker that exited while starting did, in words IT can act on."""
    if exitcode is None:
        return "it stopped answering while loading"
    code = exitcode & 0xFFFFFFFF if exitcode > 0 else exitcode
    known = _EXIT_REASONS.get(code)
    shown = f"0x{code:08X}" if code > 0xFFFF else str(code)
    return f"the worker exited with code {shown}" + (f" ({known})" if known else "")


@dataclass(frozen=True)
class Request:
    path: str
    content: bytes | None  # the bytes already hashed by the caller, or None to read the file
    sha256: str | None = None  # the caller's digest of `content` (None: the worker hashes)
    # New settings (a spec table pushed by central, agent.spec_sync) for this file and
    # every later one; None: keep the worker's.
    settings: AnalysisSettings | None = None


def _limit_memory(limit: int) -> None:
    """POSIX: the worker caps its own heap (Windows: the agent's Job Object, agent.seam)."""
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

    # Ctrl+C reaches the whole console group (a WinSW service stop, a terminal): the
    # parent stops the worker itself, after the file in hand, so this one ignores it
    # rather than die mid-file and have a good file recorded as unreadable.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        from agent.analysis import kernel_cache

        kernel_cache.apply(kernel_cache_dir)  # before the first kernel module is imported
        from agent.analysis.file import analyse_content, analyse_file
        from agent.analysis.warmup import warm_up

        report = warm_up()
    except Exception as exc:  # an import or DLL load refused: tell the parent why
        conn.send({"error": f"{type(exc).__name__}: {exc}"})
        return
    faulthandler.disable()  # a reader abort is expected and reported by the parent
    if kernel_cache_dir is not None:
        with contextlib.suppress(OSError):  # only informs `doctor`; never stops the worker
            kernel_cache.record_warm(kernel_cache_dir, report)
    if memory_limit:
        _limit_memory(memory_limit)
    conn.send(report)
    while True:
        try:
            request: Request | None = conn.recv()
        except EOFError:
            return
        if request is None:
            return
        if request.settings is not None:
            settings = request.settings
        path = Path(request.path)
        if request.content is None:
            result = analyse_file(path, settings)
        else:
            result = analyse_content(path, request.content, settings, request.sha256)
        conn.send(result)


def crashed_result(
    path: Path, detail: str, content: bytes | None, sha256: str | None = None
) -> FileResult:
    import hashlib

    digest = sha256
    if digest is None and content is not None:
        digest = hashlib.sha256(content).hexdigest()
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
        platform: Platform | None = None,
        target: Callable[..., None] = _child_main,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        from agent.analysis.kernel_cache import worker_cache_dir

        self.settings = settings
        self._settings_sent = True  # the worker has self.settings (set by update_settings)
        self._settings_lock = threading.Lock()  # the sync thread updates, the watcher sends
        # The installed (frozen) agent must cache kernels somewhere that does not depend
        # on the working directory; from source numba's place beside the code is kept.
        self.kernel_cache_dir = (
            kernel_cache_dir if kernel_cache_dir is not None else worker_cache_dir(None)
        )
        self.warm_up: dict[str, Any] | None = None  # the worker's last warm-up report
        self.memory_limit = memory_limit
        self.timeout_s = timeout_s
        self.platform = platform or host()
        # typeshed's BaseContext lacks Process; every concrete context has it. Windows
        # (and the Windows double) give spawn whatever is asked (agent.seam).
        self._context: Any = self.platform.mp_context(start_method)
        self._target = target
        self._clock = clock
        self._process: Any = None
        self._conn: Connection | None = None
        self._cap: object | None = None
        self.restarts = 0
        self.spawns = 0  # worker processes started, for the tests and the log
        self.start_failures = 0  # failed starts in a row
        self.start_error: str | None = None  # why the last start failed
        self._next_start_at = float("-inf")

    def start(self) -> None:
        """Start the worker, or raise AnalysisCannotStart (then wait before the next try)."""
        if self._clock() < self._next_start_at:
            wait = self._next_start_at - self._clock()
            raise AnalysisCannotStart(f"{self.start_error} (next try in {wait:.0f} s)")
        try:
            self._spawn()
        except AnalysisCannotStart as exc:
            self.start_failures += 1
            delay = min(START_BACKOFF_MAX_S, START_BACKOFF_S * 2 ** (self.start_failures - 1))
            self._next_start_at = self._clock() + delay
            self.start_error = exc.message
            logger.error("Analysis cannot start: {} (next try in {:.0f} s)", exc.message, delay)
            raise
        self.start_failures, self.start_error = 0, None

    def _spawn(self) -> None:
        parent, child = self._context.Pipe()
        limits_itself = self.platform.worker_limits_itself()
        process = self._context.Process(
            target=self._target,
            args=(
                child,
                self.settings,
                self.memory_limit if limits_itself else 0,
                self.kernel_cache_dir,
            ),
            name="lta-analyser",
            daemon=True,
        )
        self.spawns += 1
        try:
            process.start()
        except OSError as exc:  # the executable itself refused (blocked, missing)
            raise AnalysisCannotStart(
                f"the worker process could not be created ({exc}): an antivirus may be "
                "blocking the agent's folder; add an exclusion for it"
            ) from exc
        finally:
            child.close()
        try:
            cap = (
                None if limits_itself else self.platform.cap_memory(process.pid, self.memory_limit)
            )
        except SeamError as exc:
            process.kill()
            raise AnalysisCannotStart(exc.message) from exc
        report = self._first_report(parent, process)
        if isinstance(report, dict) and "error" in report:
            process.join(timeout=5)
            self.platform.release_cap(cap)
            raise AnalysisCannotStart(f"the worker failed while loading: {report['error']}")
        self.warm_up = report if isinstance(report, dict) else None
        self._process, self._conn, self._cap = process, parent, cap

    def _first_report(self, parent: Connection, process: Any) -> object:
        """The worker's warm-up report, or AnalysisCannotStart saying how it failed."""
        try:
            if parent.poll(_STARTUP_TIMEOUT_S):
                return parent.recv()
            detail = f"the worker did not get ready within {_STARTUP_TIMEOUT_S:.0f} s"
        except (EOFError, OSError):
            process.join(timeout=5)
            detail = exit_reason(process.exitcode)
        with contextlib.suppress(OSError):
            process.kill()
        raise AnalysisCannotStart(detail)

    def update_settings(self, settings: AnalysisSettings) -> None:
        """Judge the next file (and every later one) by these settings.

        They travel with the next request, so a worker busy with a file finishes
        it under the settings it began with; a worker started later gets them at
        its start.
        """
        with self._settings_lock:
            self.settings = settings
            self._settings_sent = False

    def analyse(
        self, path: Path, content: bytes | None = None, sha256: str | None = None
    ) -> FileResult:
        with self._settings_lock:
            if self._process is None or not self._process.is_alive():
                self.start()  # spawned with self.settings
            update = None if self._settings_sent else self.settings
            self._settings_sent = True
        conn = self._conn
        assert conn is not None  # noqa: S101 - start() set it
        try:
            conn.send(Request(str(path), content, sha256, update))
            if conn.poll(self.timeout_s):
                result: FileResult = conn.recv()
                return result
            detail = f"reading took longer than {self.timeout_s:.0f} s"
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError):
            detail = "the reader stopped on it"
        self._restart(path, detail)
        return crashed_result(path, detail, content, sha256)

    def _restart(self, path: Path, detail: str) -> None:
        logger.warning("Analysis worker lost on {} ({}); starting a new one", path, detail)
        self.restarts += 1
        self.close()

    def close(self) -> None:
        process, conn, cap = self._process, self._conn, self._cap
        self._process = self._conn = self._cap = None
        if conn is not None:
            with contextlib.suppress(OSError, BrokenPipeError):
                conn.send(None)
            conn.close()
        if process is not None:
            process.join(timeout=2)
            if process.is_alive():
                process.kill()
                process.join(timeout=2)
        self.platform.release_cap(cap)

    def __enter__(self) -> IsolatedAnalyser:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
