"""`lta-agent demo` and `lta-central demo` stop cleanly on SIGINT and SIGTERM, however started.

Each demo runs as the real command. "SIGINT ignored" is how a shell script starts a
background job (and how some CI runners start steps): the demo must still stop on
SIGINT. The signal goes to the demo's whole process group, as a terminal's Ctrl-C
or `kill -INT -<group>` sends it; SIGTERM goes to the demo alone, as a service
manager sends it. Afterwards: exit code 0, no "stopped unexpectedly", and none of
the processes the demo started (agents, central, PostgreSQL, analysis workers)
is left.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.e2e.agent_process import free_port

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)"),
]

CASES = [
    pytest.param(signal.SIGINT, True, id="sigint-to-group-started-with-sigint-ignored"),
    pytest.param(signal.SIGTERM, False, id="sigterm-to-the-demo"),
]


def children_of(root: int) -> set[int]:
    """Every live descendant of `root` (by /proc's parent links)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rindex(")") + 2] != "Z"


def start(argv: list[str], log: Path, sigint_ignored: bool) -> subprocess.Popen[bytes]:
    def ignore_sigint() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", *argv],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own group, as a job of a shell script
            preexec_fn=ignore_sigint if sigint_ignored else None,
        )


def wait_until(ready: Callable[[], bool], process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text(errors="replace")
        if ready():
            return
        time.sleep(0.3)
    raise AssertionError(f"not ready: {log.read_text(errors='replace')}")


def stop_and_check(
    process: subprocess.Popen[bytes], number: int, log: Path, extra: set[int] | None = None
) -> str:
    started = children_of(process.pid) | (extra or set())
    assert started, "the demo started no process"
    if number == signal.SIGINT:
        os.killpg(process.pid, number)  # the whole group: Ctrl-C, or kill -INT -group
    else:
        process.send_signal(number)
    code = process.wait(timeout=150)
    text = log.read_text(errors="replace")
    assert code == 0, text
    assert "unexpectedly" not in text, text
    deadline = time.monotonic() + 20
    while any(alive(pid) for pid in started) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in started if alive(pid)], text
    return text


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def healthy(url: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    return check


@pytest.mark.parametrize(("number", "sigint_ignored"), CASES)
def test_agent_demo_stops_cleanly(tmp_path: Path, number: int, sigint_ignored: bool) -> None:
    port = free_port()
    log = tmp_path / "agent-demo.out"
    argv = ["agent.cli", "demo", "--rate", "120", "--bind", f"127.0.0.1:{port}"]
    process = start(argv, log, sigint_ignored)
    try:
        wait_until(healthy(f"http://127.0.0.1:{port}/healthz"), process, log)
        folder = re.search(r"into (\S+)/inbox", log.read_text())
        assert folder is not None
        time.sleep(2)  # a few units land
        stop_and_check(process, number, log)
        assert not Path(folder.group(1)).exists()  # removed: nothing failed
    finally:
        if process.poll() is None:
            process.kill()


HANGUP = [pytest.param(signal.SIGHUP, False, id="sighup-a-closed-terminal")]


@pytest.mark.parametrize(("number", "sigint_ignored"), CASES + HANGUP)
def test_system_demo_stops_cleanly(tmp_path: Path, number: int, sigint_ignored: bool) -> None:
    central, agent = free_port(), free_port()
    while abs(agent - central) <= 1 or not port_is_free(agent + 1):  # the second agent's
        agent = free_port()
    log = tmp_path / "system-demo.out"
    argv = ["central.cli", "demo", "--rate", "120"]
    argv += ["--central-port", str(central), "--agent-port", str(agent)]
    process = start(argv, log, sigint_ignored)
    try:
        wait_until(lambda: "Ctrl-C stops everything." in log.read_text(), process, log)
        root = re.search(r"logs: (\S+)", log.read_text())
        assert root is not None
        pid_file = Path(root.group(1)) / "central" / "pgdata" / "postmaster.pid"
        postgres = {int(pid_file.read_text().split()[0])}  # daemonised: not a descendant
        time.sleep(3)  # units land and sync
        text = stop_and_check(process, number, log, extra=postgres)
        assert "Stopped." in text
        assert not Path(root.group(1)).exists()  # removed: nothing failed
    finally:
        if process.poll() is None:
            process.kill()


def test_a_part_that_fails_names_a_log_that_still_exists() -> None:
    """The second agent cannot get its port: the demo stops the rest and names its log,
    kept with the demo's temporary folder (it used to be deleted before it was read)."""
    from central.demo import DemoError, Ports, run_system_demo

    central, agent = free_port(), free_port()
    while abs(agent - central) <= 1 or not port_is_free(agent + 1):
        agent = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", agent + 1))
        taken.listen()
        with pytest.raises(DemoError) as failed:
            run_system_demo(rate_per_minute=60, ports=Ports(central=central, first_agent=agent))
    named = re.search(r"see (\S+\.out)", str(failed.value))
    assert named is not None, str(failed.value)
    log = Path(named.group(1))
    try:
        assert "trim-line-2" in str(failed.value)
        assert log.exists() and "in use" in log.read_text(errors="replace")
        assert not (log.parent / "central" / "pgdata" / "postmaster.pid").exists()
    finally:
        shutil.rmtree(log.parent, ignore_errors=True)
