"""A Windows station PC, for years (issue 14): each failure, on Linux, through the double.

`WindowsSemantics` (tests/windows_semantics.py) gives the agent's seam Windows
behaviour at the OS calls; everything above them is the code a station runs.
Real folders, a real store, real worker processes, real loopback HTTP.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from agent.analysis.file import analyse_content
from agent.config import load_config
from agent.doctor import Level, run_doctor
from agent.history import HistoryWindow
from agent.isolation import START_BACKOFF_S, AnalysisCannotStart, IsolatedAnalyser
from agent.logfile import RotatingLog
from agent.runtime import Runtime, read_state
from agent.seam import (
    ERROR_FILENAME_EXCED_RANGE,
    ERROR_SHARING_VIOLATION,
    SO_EXCLUSIVEADDRUSE,
    Platform,
    host,
)
from agent.service import AgentService
from agent.simulate import simulate_station
from agent.store import reads
from agent.store.store import Store
from agent.watcher import Watcher
from shared.analysis_settings import AnalysisSettings
from shared.errors import ErrorCode
from shared.models import Status
from shared.service import StartupError, bind_server
from tests.e2e.agent_process import free_port
from tests.factories import known_files
from tests.windows_semantics import Machine, WindowsSemantics, win_error

# The double imitates Windows on Linux (prlimit, /proc); on Windows the real seam runs
# the rest of the suite, and tests/agent/test_seam.py checks the real Job Object.
pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the Windows double runs on Linux")

NS_1960 = -315_619_200 * 1_000_000_000  # 1960-01-01 UTC


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


def watcher_on(
    windows: Platform, inbox: Path, store: Store, runtime: Runtime, clock: Clock, **options: Any
) -> Watcher:
    options.setdefault(
        "analyse", lambda path, content, sha256: analyse_content(path, content, None, sha256)
    )
    return Watcher(
        inboxes=[inbox],
        store=store,
        runtime=runtime,
        settle_s=0.3,
        poll_interval_s=1.0,
        clock=clock,
        platform=windows,
        history_window=HistoryWindow(12, windows),
        **options,
    )


def cycle(watcher: Watcher, clock: Clock) -> int:
    """A scan, then a tick after the settle time."""
    recorded = watcher.tick()
    clock.advance(1.0)
    return recorded + watcher.tick()


# ------------------------------------------------------------------ 1. files dated before 1970


def test_a_file_dated_1960_is_history_not_a_failed_scan(
    windows: WindowsSemantics, inbox: Path, store: Store, runtime: Runtime
) -> None:
    with pytest.raises(OSError, match="Invalid argument"):  # Windows, for a time before 1970
        windows._os_fromtimestamp(NS_1960 / 1e9)
    [old, new] = simulate_station(inbox, count=2, seed=41)
    os.utime(old, ns=(NS_1960, NS_1960))
    clock = Clock()
    watcher = watcher_on(windows, inbox, store, runtime, clock)
    assert cycle(watcher, clock) == 2
    assert windows.local_time(NS_1960).year in (1959, 1960)  # placed to the hour
    rows = dict(store.read().execute("SELECT file_name, history FROM results").fetchall())
    assert rows[new.name] == 0 or rows[old.name] == 1  # the 1960 file is history
    assert runtime.last_error is None


# ------------------------------------------------------------------ 2. a worker that cannot start


def dies_of_an_illegal_instruction(conn: Connection, *args: Any) -> None:
    """What numpy 2 does on a CPU without SSE4.2: the process dies before a word."""
    os.kill(os.getpid(), signal.SIGILL)


def dll_blocked(conn: Connection, *args: Any) -> None:
    """What an antivirus blocking llvmlite's DLL gives: an ImportError while loading."""
    try:
        raise ImportError("DLL load failed while importing _llvmlite: Access is denied.")
    except ImportError as exc:
        conn.send({"error": f"{type(exc).__name__}: {exc}"})


def test_a_worker_that_cannot_start_backs_off_and_says_why(windows: WindowsSemantics) -> None:
    clock = Clock()
    analyser = IsolatedAnalyser(
        AnalysisSettings(), platform=windows, target=dies_of_an_illegal_instruction, clock=clock
    )
    with analyser, pytest.raises(AnalysisCannotStart) as first:
        analyser.analyse(Path("unit.xls"), b"x")
    assert first.value.code == ErrorCode.ANALYSIS_CANNOT_START
    assert "illegal instruction" in first.value.message and "SSE4.2" in first.value.message
    for _ in range(50):  # the watcher asks every tick: no storm of starts
        with pytest.raises(AnalysisCannotStart, match="next try in"):
            analyser.analyse(Path("unit.xls"), b"x")
    assert analyser.spawns == 1
    waits = []
    for _ in range(3):  # each failed start doubles the wait: seconds, then minutes
        clock.advance(10_000)
        with pytest.raises(AnalysisCannotStart):
            analyser.start()
        waits.append(analyser._next_start_at - clock.now)
    assert analyser.spawns == 4
    assert waits == [START_BACKOFF_S * 2, START_BACKOFF_S * 4, START_BACKOFF_S * 8]


def test_a_blocked_dll_is_named(windows: WindowsSemantics) -> None:
    with (
        IsolatedAnalyser(AnalysisSettings(), platform=windows, target=dll_blocked) as analyser,
        pytest.raises(AnalysisCannotStart, match="DLL load failed while importing _llvmlite"),
    ):
        analyser.start()


def test_the_page_and_healthz_say_why_analysis_cannot_start(
    windows: WindowsSemantics, inbox: Path, store: Store, runtime: Runtime, client: Any
) -> None:
    simulate_station(inbox, count=1, seed=42)
    clock = Clock()
    analyser = IsolatedAnalyser(AnalysisSettings(), platform=windows, target=dll_blocked)
    watcher = watcher_on(windows, inbox, store, runtime, clock, analyse=analyser.analyse)
    with analyser:
        assert cycle(watcher, clock) == 0
    assert watcher.waiting == 1  # the file waits for the worker, not marked failed
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json["analysis"].startswith("cannot start: the worker failed while loading")
    status = client.get("/api/status").json["health"]
    assert status["last_error"].startswith("analysis cannot start:")
    assert status["analysis_error"] is not None


def test_workers_are_spawned_on_windows_even_when_fork_is_asked(
    windows: WindowsSemantics,
) -> None:
    assert IsolatedAnalyser(AnalysisSettings(), start_method="fork", platform=windows)._context
    assert windows.mp_context("fork").get_start_method() == "spawn"
    with pytest.raises(ValueError, match="fork"):
        windows._os_mp_context("fork")


# ------------------------------------------------------------------ 3. inbox the service cannot see


@pytest.fixture
def service_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("LTA_AGENT_"):
            monkeypatch.delenv(name)
    port = free_port()
    config = tmp_path / "agent.toml"
    config.write_text(
        "[inbox]\npaths = ['Z:\\TrimResults']\n"
        f"[storage]\ndata_dir = '{tmp_path / 'data'}'\n"
        f"[web]\nbind = '127.0.0.1:{port}'\n",
        encoding="utf-8",
    )
    return config


def test_a_mapped_drive_inbox_serves_the_page_and_says_why(
    windows: WindowsSemantics, service_config: Path
) -> None:
    windows.map_drive("Z:")
    config = load_config(service_config)
    service = AgentService(config, platform=windows)
    service.start()  # no StartupError: the page comes up
    serving = threading.Thread(target=service.serve_forever, daemon=True)
    serving.start()
    try:
        health = httpx.get(f"http://127.0.0.1:{config.bind_port}/healthz", timeout=5)
        assert health.status_code == 503
        assert "mapped network drive" in health.json()["reason"]
        assert "UNC path" in health.json()["reason"]
    finally:
        service.stop()
    state = read_state(config.storage.data_dir)
    assert state is not None
    assert [k.endswith("Z:\\TrimResults") for k in state["inbox_problems"]] == [True]
    checks = run_doctor(service_config, environ={}, platform=windows)
    lines = [c.line() for c in checks if c.level is Level.FAIL]
    assert any(line.startswith("FAIL  inbox") and "mapped network drive" in line for line in lines)
    assert any(
        "FAIL  service" in line and "Z:\\TrimResults: Z: is a mapped" in line for line in lines
    )


def test_a_share_that_is_down_keeps_what_is_known(
    windows: WindowsSemantics, inbox: Path, store: Store, runtime: Runtime
) -> None:
    simulate_station(inbox, count=3, seed=43)
    clock = Clock()
    watcher = watcher_on(windows, inbox, store, runtime, clock)
    assert cycle(watcher, clock) == 3
    windows.offline.add(inbox)
    clock.advance(400)  # past a full relisting too
    assert cycle(watcher, clock) == 0
    assert runtime.last_error is not None and "not reachable" in runtime.last_error
    assert len(watcher._files) == 3  # not forgotten: no re-reading when it returns
    windows.offline.clear()
    simulate_station(inbox / "new", count=1, seed=44)
    clock.advance(2)
    assert cycle(watcher, clock) == 1


# ------------------------------------------------------------------ 5. files still held open


def test_archiving_a_file_held_open_leaves_one_copy_and_retries(
    windows: WindowsSemantics, inbox: Path, store: Store, runtime: Runtime, tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    [unit] = simulate_station(inbox, count=1, seed=45)
    clock = Clock()
    watcher = watcher_on(windows, inbox, store, runtime, clock, archive_dir=archive)
    real_read = windows._os_read

    def read_then_hold(path: str) -> bytes:  # the station opens it again after our read
        content = real_read(path)
        windows.held_open.add(unit)
        return content

    windows._os_read = read_then_hold  # type: ignore[method-assign]
    assert cycle(watcher, clock) == 1
    assert unit.exists() and not list(archive.rglob("*.xls*"))  # not in both folders
    assert runtime.last_error is not None and "archive" in runtime.last_error
    windows.held_open.clear()
    clock.advance(10)
    watcher.tick()
    assert not unit.exists() and [p.name for p in archive.rglob("*.xls*")] == [unit.name]
    assert reads.count_results(store.read()) == 1


def test_a_move_across_drives_never_leaves_two_copies(
    windows: WindowsSemantics, tmp_path: Path
) -> None:
    source, target = tmp_path / "c" / "unit.xls", tmp_path / "d" / "unit.xls"
    source.parent.mkdir()
    target.parent.mkdir()
    source.write_bytes(b"unit")

    def other_drive(src: str, dst: str) -> None:
        if Path(src).parent != Path(dst).parent:
            raise win_error(OSError, 17, 18, "The system cannot move the file to a different "
                            "disk drive", src)  # fmt: skip
        os.rename(windows._real(src, held_matters=True), windows._real(dst))

    windows._os_rename = other_drive  # type: ignore[method-assign]
    windows.held_open.add(source)
    with pytest.raises(PermissionError) as refused:
        windows.move(source, target)
    assert refused.value.winerror == ERROR_SHARING_VIOLATION  # type: ignore[attr-defined]
    assert source.exists() and list(target.parent.iterdir()) == []
    windows.held_open.clear()
    windows.move(source, target)
    assert not source.exists() and target.read_bytes() == b"unit"


def test_a_log_rotation_refused_loses_no_line(windows: WindowsSemantics, tmp_path: Path) -> None:
    path = tmp_path / "logs" / "agent.log"
    log = RotatingLog(path, max_bytes=2_000, platform=windows, retry_after_bytes=1_000)
    log.write("first\n")
    windows.held_open.add(path)  # a log viewer holds it open
    for n in range(100):
        log.write(f"line {n:03d} of the agent's log\n")
    assert log.refused >= 1
    text = path.read_text(encoding="utf-8")
    assert all(f"line {n:03d}" in text for n in range(100))
    windows.held_open.clear()
    for n in range(100, 400):
        log.write(f"line {n:03d} of the agent's log\n")
    log.close()
    rotated = sorted(path.parent.glob("agent.*.log"))
    assert rotated, "the rotation happened once the viewer let go"
    everything = "".join(p.read_text(encoding="utf-8") for p in [*rotated, path])
    assert all(f"line {n:03d}" in everything for n in range(400))


# ------------------------------------------------------------------ 6. years of files in the inbox


class Counting(WindowsSemantics):
    def __init__(self) -> None:
        super().__init__()
        self.listed: list[str] = []
        self.stats = 0

    def _os_scandir(self, folder: str) -> list[Any]:
        self.listed.append(folder)
        return super()._os_scandir(folder)

    def _os_stat(self, path: str) -> Any:
        self.stats += 1
        return super()._os_stat(path)


def test_a_scan_costs_the_folders_not_the_known_files(
    inbox: Path, store: Store, runtime: Runtime
) -> None:
    counting = Counting()
    known_files(inbox, store, 1200, folders=4)  # recorded long ago
    for folder in [*inbox.iterdir(), inbox]:
        os.utime(folder, ns=(10**18, 10**18))  # folders last changed long ago
    clock = Clock()

    def no_reading(path: Path, content: bytes, sha256: str) -> Any:
        raise AssertionError("nothing is analysed here")

    watcher = watcher_on(counting, inbox, store, runtime, clock, analyse=no_reading, sweep_files=50)
    watcher.scan()
    assert len(watcher._files) == 1200 and watcher.waiting == 0
    for _ in range(5):  # unchanged: no folder listed, stats = folders + the sweep slice
        counting.listed.clear()
        counting.stats = 0
        clock.advance(1.0)
        watcher.scan()
        assert counting.listed == []
        assert counting.stats <= 5 + 50
    (inbox / "day002" / "new-unit.xlsx").write_bytes(b"new")
    clock.advance(1.0)
    watcher.scan()
    assert [Path(p).name for p in counting.listed] == ["day002"]
    assert watcher.waiting == 1  # the new file, and only it


def test_a_file_rewritten_in_place_is_found_by_the_sweep(
    inbox: Path, store: Store, runtime: Runtime, windows: WindowsSemantics
) -> None:
    [unit] = simulate_station(inbox, count=1, seed=46)
    clock = Clock()
    watcher = watcher_on(windows, inbox, store, runtime, clock)
    assert cycle(watcher, clock) == 1
    [other] = simulate_station(inbox.parent / "other", count=1, seed=47)
    unit.write_bytes(other.read_bytes())  # same name, same folder: the folder's mtime stays
    os.utime(unit, ns=(5 * 10**18, 5 * 10**18))
    clock.advance(1.0)
    assert cycle(watcher, clock) == 1


# ------------------------------------------------------------------ 7. time zone at start-up


def test_the_scheduler_starts_when_the_local_zone_cannot_be_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import tzlocal

    monkeypatch.setenv("TZ", "Windows/Unmappable Standard Time")
    monkeypatch.setattr(tzlocal.unix, "_cache_tz", None)
    with pytest.raises(Exception, match="Unmappable"):  # what APScheduler would meet
        tzlocal.get_localzone()
    done = threading.Event()
    scheduler = BackgroundScheduler(timezone=host().scheduler_timezone())
    scheduler.add_job(done.set, "interval", seconds=0.05)
    scheduler.start()
    try:
        assert done.wait(10)
    finally:
        scheduler.shutdown(wait=False)


# ------------------------------------------------------------------ 8. port already taken


def test_a_second_agent_on_the_same_port_stops_with_a_clear_message() -> None:
    machine = Machine()  # one PC: the service, and IT's `lta-agent run` beside it
    service, beside = WindowsSemantics(machine), WindowsSemantics(machine)
    port = free_port()

    def app(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        return [b"ok"]

    first = bind_server(app, "127.0.0.1", port, "web.bind", 1, "lta-agent", service.listen_socket)
    try:
        options = next(iter(service.sockopts.values()))
        assert options == {SO_EXCLUSIVEADDRUSE: 1}  # and not SO_REUSEADDR
        with pytest.raises(StartupError, match=f"Port {port} on 127.0.0.1 is already in use"):
            bind_server(app, "127.0.0.1", port, "web.bind", 1, "lta-agent", beside.listen_socket)
    finally:
        first.close()


def test_without_the_exclusive_option_windows_shares_the_port() -> None:
    """Why the seam sets SO_EXCLUSIVEADDRUSE: waitress's SO_REUSEADDR alone lets two bind."""
    machine = Machine()
    one, two = WindowsSemantics(machine), WindowsSemantics(machine)
    port = free_port()
    socks = [socket.socket(), socket.socket()]
    try:
        for platform, sock in zip((one, two), socks, strict=True):
            platform._os_setsockopt(sock, socket.SO_REUSEADDR, 1)
            platform._os_bind(sock, ("127.0.0.1", port))
        assert machine.shared == [port]
    finally:
        for sock in socks:
            sock.close()


# ------------------------------------------------------------------ 9. memory cap on Windows


def allocates_when_asked(conn: Connection, *args: Any) -> None:
    """A worker whose 'file' asks for 1 GiB, as a damaged file's nonsense sizes do."""
    conn.send({"loaded": 0, "compiled": 0, "seconds": 0})
    while conn.recv() is not None:
        hog = bytearray(1024**3)
        conn.send(len(hog))


def test_the_worker_runs_under_a_job_object_memory_limit(windows: WindowsSemantics) -> None:
    limit = 256 * 1024**2
    with IsolatedAnalyser(
        AnalysisSettings(), platform=windows, memory_limit=limit, target=allocates_when_asked
    ) as analyser:
        analyser.start()
        pid = analyser._process.pid
        assert windows.jobs == [(pid, limit)]
        limits = Path(f"/proc/{pid}/limits").read_text()
        assert re.search(rf"Max data size\s+{limit}\s+{limit}", limits), limits
        result = analyser.analyse(Path("damaged.xls"), b"x")
        assert result.status is Status.ERROR
        assert result.error is not None and "could not be read safely" in result.error.message
        assert analyser.restarts == 1
    assert pid in windows.closed_jobs


# ---------------------------------------------------------- 10. doctor, long paths, code page


def test_doctor_tries_the_write_rather_than_trusting_os_access(
    windows: WindowsSemantics, tmp_path: Path, inbox: Path
) -> None:
    config = tmp_path / "agent.toml"
    config.write_text(
        f"[inbox]\npaths = ['{inbox}']\narchive_dir = '{tmp_path / 'archive'}'\n"
        f"[storage]\ndata_dir = '{tmp_path / 'data'}'\n",
        encoding="utf-8",
    )
    real_write = windows._os_write_new

    def acl_denies(path: str, data: bytes) -> None:  # the ACL says no; the mode bits say yes
        if Path(path).parent == inbox:
            raise win_error(PermissionError, 5, 13, "Access is denied", path)
        real_write(path, data)

    windows._os_write_new = acl_denies  # type: ignore[method-assign]
    assert os.access(inbox, os.W_OK)
    checks = {c.name: c for c in run_doctor(config, environ={}, platform=windows)}
    assert checks["inbox"].level is Level.FAIL
    assert "cannot move files out of it (Access is denied)" in checks["inbox"].message


def test_a_path_over_260_characters_is_read(
    windows: WindowsSemantics, tmp_path: Path, store: Store, runtime: Runtime
) -> None:
    inbox = tmp_path / "inbox"
    deep = inbox / ("Line 4 trim station results " * 3).strip() / ("2019 " * 20).strip()
    deep.mkdir(parents=True)
    [unit] = simulate_station(deep, count=1, seed=48)
    assert len(str(unit)) >= 260
    with pytest.raises(FileNotFoundError):  # what Windows gives without the \\?\ form
        windows._os_read(str(unit))
    clock = Clock()
    watcher = watcher_on(windows, inbox, store, runtime, clock)
    assert cycle(watcher, clock) == 1


def test_a_path_windows_still_refuses_is_reported_once_not_retried_forever(
    windows: WindowsSemantics, inbox: Path, store: Store, runtime: Runtime
) -> None:
    simulate_station(inbox, count=1, seed=49)
    reads_tried = []

    def too_long(path: str) -> bytes:
        reads_tried.append(path)
        raise win_error(OSError, ERROR_FILENAME_EXCED_RANGE, 2, "The filename or extension "
                        "is too long", path)  # fmt: skip

    windows._os_read = too_long  # type: ignore[method-assign]
    clock = Clock()
    watcher = watcher_on(windows, inbox, store, runtime, clock)
    cycle(watcher, clock)
    for _ in range(10):
        clock.advance(120)
        watcher.tick()
    assert len(reads_tried) == 1
    assert runtime.last_error is not None and "path_too_long" in runtime.last_error
    assert watcher.waiting == 0


def test_analyze_prints_names_the_windows_code_page_cannot_show(tmp_path: Path) -> None:
    [unit] = simulate_station(tmp_path, count=1, seed=50)
    named = unit.rename(unit.with_name(f"单元 {unit.name}"))
    env = {**os.environ, "PYTHONIOENCODING": "cp1252"}
    env.pop("PYTHONUTF8", None)
    done = subprocess.run(
        [sys.executable, "-m", "agent.cli", "analyze", str(named)],
        capture_output=True,
        env=env,
        check=False,
    )
    assert done.returncode in (0, 2), done.stderr.decode("cp1252", "replace")
    assert b"\\u5355\\u5143" in done.stdout


def test_time_conversion_never_raises_for_a_file_time(windows: WindowsSemantics) -> None:
    for ns in (NS_1960, -(2**62), 2**62, 0):
        assert isinstance(windows.local_time(ns), datetime)
