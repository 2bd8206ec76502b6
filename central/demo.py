"""`make run`: the whole system on one machine, with embedded defaults.

Central with its embedded PostgreSQL, two station agents syncing to it, and
two simulated trim stations writing result files into the agents' inboxes.
Every program runs as the real command in its own process, exactly as
installed (`lta-central serve`, `lta-agent run`), so the demo shows the
product, not a special mode of it. A demo admin account is created and its
password printed once. Ctrl-C stops the stations, then the agents, then
central, which stops its embedded PostgreSQL.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from agent.demo import simulated_station

DEMO_ADMIN = "demo-admin"
STATIONS = ("trim-line-1", "trim-line-2")
CENTRAL_PORT = 8720
FIRST_AGENT_PORT = 8710
START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 30.0


class DemoError(Exception):
    """A part of the demo did not start; the message says which and where its log is."""


@dataclass
class Program:
    name: str
    process: subprocess.Popen[bytes]
    log: Path


def _command(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def _start(name: str, argv: list[str], env: dict[str, str], log: Path) -> Program:
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 - our own entry points, fixed arguments
            argv, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    return Program(name, process, log)


def _wait_healthy(program: Program, url: str, timeout_s: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if program.process.poll() is not None:
            raise DemoError(f"{program.name} exited at start; see {program.log}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise DemoError(
        f"{program.name} did not answer at {url} in {timeout_s:.0f} s; see {program.log}"
    )


def _central_cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(  # noqa: S603 - our own entry point, fixed arguments
        _command("central.cli", *args),
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if done.returncode != 0:
        raise DemoError(f"lta-central {' '.join(args)} failed: {done.stderr.strip()[-400:]}")
    return done.stdout


def _stop(program: Program) -> None:
    if program.process.poll() is None:
        program.process.send_signal(signal.SIGTERM)
        try:
            program.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            program.process.kill()
            program.process.wait(timeout=STOP_TIMEOUT_S)


@dataclass(frozen=True)
class Ports:
    central: int = CENTRAL_PORT
    first_agent: int = FIRST_AGENT_PORT


def run_system_demo(
    rate_per_minute: float = 12.0,
    folder: Path | None = None,
    wait: Callable[[], None] | None = None,
    ports: Ports | None = None,
) -> int:
    """Run everything until Ctrl-C (or until `wait` returns, for tests)."""
    with tempfile.TemporaryDirectory(prefix="lta-system-demo-") as tmp:
        root = folder or Path(tmp)
        return _run(root, rate_per_minute, wait, ports or Ports())


def _run(root: Path, rate: float, wait: Callable[[], None] | None, ports: Ports) -> int:
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("LTA_")}
    central_env = {
        **base_env,
        "LTA_CENTRAL_DATA_DIR": str(root / "central"),
        "LTA_CENTRAL_BIND": f"127.0.0.1:{ports.central}",
    }
    central_url = f"http://127.0.0.1:{ports.central}"
    programs: list[Program] = []
    stop = threading.Event()
    stations: list[threading.Thread] = []
    try:
        print("Starting central with its embedded PostgreSQL ...", flush=True)
        central = _start(
            "central", _command("central.cli", "serve"), central_env, root / "central.out"
        )
        programs.append(central)
        _wait_healthy(central, central_url)
        password = secrets.token_urlsafe(12)
        _central_cli(central_env, "user", "add", DEMO_ADMIN, "--role", "admin", stdin=password)
        pages = []
        for index, station in enumerate(STATIONS):
            token = _central_cli(central_env, "station", "add", station).strip().splitlines()[-1]
            port = ports.first_agent + index
            data = root / station
            inbox = data / "inbox"
            inbox.mkdir(parents=True)
            agent_env = {
                **base_env,
                "LTA_AGENT_DATA_DIR": str(data),
                "LTA_AGENT_INBOX": str(inbox),
                "LTA_AGENT_BIND": f"127.0.0.1:{port}",
                "LTA_AGENT_STATION_ID": station,
                "LTA_AGENT_CENTRAL_URL": central_url,
                "LTA_AGENT_CENTRAL_TOKEN": token,
            }
            agent = _start(
                station, _command("agent.cli", "run"), agent_env, root / f"{station}.out"
            )
            programs.append(agent)
            _wait_healthy(agent, f"http://127.0.0.1:{port}")
            thread = threading.Thread(
                target=simulated_station, args=(inbox, rate, index + 1, stop), daemon=True
            )
            stations.append(thread)
            pages.append((station, f"http://127.0.0.1:{port}/"))
        for thread in stations:
            thread.start()
        print("\nLaser Trim Analyzer Edge: the whole system is running.", flush=True)
        for station, url in pages:
            print(f"  station page ({station}, {rate:g} units/min): {url}")
        print(f"  QA dashboard (central): {central_url}/")
        print(f"  demo admin account: {DEMO_ADMIN} / {password}   (shown once)")
        print(f"  logs: {root}\nCtrl-C stops everything.", flush=True)
        if wait is not None:
            wait()
        else:
            _wait_for_interrupt(programs)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        stop.set()
        for thread in stations:
            thread.join(timeout=5)
        for program in reversed(programs):  # agents first, central (and its PostgreSQL) last
            _stop(program)
        print("Stopped.", flush=True)


def _wait_for_interrupt(programs: list[Program]) -> None:
    """Block until Ctrl-C or SIGTERM; a program that dies ends the demo with its log named."""
    signal.signal(signal.SIGTERM, _interrupt)
    while True:
        for program in programs:
            if program.process.poll() is not None:
                raise DemoError(f"{program.name} stopped unexpectedly; see {program.log}")
        time.sleep(0.5)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
