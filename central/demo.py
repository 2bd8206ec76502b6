"""`make run`: the whole system on one machine, with embedded defaults.

Central with its embedded PostgreSQL, two station agents syncing to it, and
two simulated trim stations writing result files into the agents' inboxes.
Every program runs as the real command in its own process, exactly as
installed (`lta-central serve`, `lta-agent run`), so the demo shows the
product, not a special mode of it. A demo admin account is created and its
password printed once. Ctrl-C stops the stations, then the agents, then
central, which stops its embedded PostgreSQL.

However it was started, SIGINT (Ctrl-C, or `kill -INT`) and SIGTERM stop it
cleanly with exit code 0: it installs its own handlers even when it inherited
SIGINT ignored (a background job of a shell script, some CI runners), and its
children run in their own process group (agent.seam: own_group), so a signal
sent to the demo's group reaches the demo alone and it stops them in order.
When a part fails, the folder with its log is kept and named.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from agent.demo import simulated_station
from agent.seam import host

DEMO_ADMIN = "demo-admin"
STATIONS = ("trim-line-1", "trim-line-2")
# A year of made-up history (`lta-central seed`) given to the demo's own two stations,
# so the dashboard has what drift is judged against: the drift alarm and the model pages
# take each station's baseline from the 90 days before the window they judge (0013),
# which live units alone never have. The history is theirs, not other stations', so no
# station without an agent turns silent an hour later. Random seed 45 makes one model
# of each station drift upwards over the last 60 days (9319-CT at trim-line-1, 7583-CT
# at trim-line-2), so a drift alarm is open on the overview once the seed is in.
HISTORY = ("--tracks", "6000", "--stations", str(len(STATIONS)), "--models", "4", "--days", "365")
HISTORY_SEED = "45"
DRIFTING = (("trim-line-1", "9319-CT"), ("trim-line-2", "7583-CT"))  # what seed 45 makes
# Alarms are evaluated this often in the demo (the product's default is a minute), so
# the first evaluation after the history is in comes within seconds.
ALARMS_EVERY_S = "15"
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
            argv,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            **host().own_group(),
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
        **host().own_group(),
    )
    if done.returncode != 0:
        raise DemoError(f"lta-central {' '.join(args)} failed: {str(done.stderr).strip()[-400:]}")
    return str(done.stdout)


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
    """Run everything until SIGINT or SIGTERM (or until `wait` returns, for tests).

    Without `folder` the demo works in a temporary folder, removed at the end
    unless a part failed: a DemoError names a log in it, which must still exist.
    """
    root = folder if folder is not None else Path(tempfile.mkdtemp(prefix="lta-system-demo-"))
    temporary = root if folder is None else None
    failed = False
    try:
        with _StopSignals():
            return _run(root, rate_per_minute, wait, ports or Ports())
    except DemoError:
        failed = True
        raise
    finally:
        if temporary is not None and not failed:
            shutil.rmtree(temporary, ignore_errors=True)


class _StopSignals:
    """SIGINT, SIGTERM (and SIGHUP) raise KeyboardInterrupt once; while stopping, further
    ones wait.

    Installed explicitly, so a demo that inherited SIGINT ignored still stops on
    it. After the first signal both are ignored until the demo has stopped its
    programs: a second Ctrl-C must not leave them running. The previous handlers
    come back on exit. Signal handlers can only be set from the main thread; from
    another one (tests) the context changes nothing.
    """

    # SIGHUP too where it exists: the programs run in their own sessions, so a closed
    # terminal hangs up on the demo alone, which then stops them.
    SIGNALS = (signal.SIGINT, signal.SIGTERM) + (
        (signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ()
    )

    def __enter__(self) -> _StopSignals:
        self.saved: dict[int, Any] = {}
        if threading.current_thread() is threading.main_thread():
            for number in self.SIGNALS:
                self.saved[number] = signal.signal(number, self._interrupt)
        return self

    def _interrupt(self, signum: int, frame: object) -> None:
        for number in self.saved:
            signal.signal(number, signal.SIG_IGN)
        raise KeyboardInterrupt

    def __exit__(self, *exc: object) -> None:
        for number, handler in self.saved.items():
            signal.signal(number, handler)


def _run(root: Path, rate: float, wait: Callable[[], None] | None, ports: Ports) -> int:
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("LTA_")}
    central_env = {
        **base_env,
        "LTA_CENTRAL_DATA_DIR": str(root / "central"),
        "LTA_CENTRAL_BIND": f"127.0.0.1:{ports.central}",
        "LTA_CENTRAL_ALARMS__EVALUATE_EVERY_SECONDS": ALARMS_EVERY_S,
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
        tokens = [
            _central_cli(central_env, "station", "add", station).strip().splitlines()[-1]
            for station in STATIONS
        ]
        print(
            "Writing a year of made-up history for the two stations (lta-central seed) ...",
            flush=True,
        )
        _central_cli(
            central_env,
            "seed",
            *HISTORY,
            "--seed",
            HISTORY_SEED,
            "--station-names",
            ",".join(STATIONS),
        )
        pages = []
        for index, (station, token) in enumerate(zip(STATIONS, tokens, strict=True)):
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
        print(
            "  try: sign in, find the drift alarm on the overview (within a minute), open its\n"
            "  model's drift charts, then acknowledge it with a cause (docs/central.md)"
        )
        print(f"  logs: {root}\nCtrl-C stops everything.", flush=True)
        if wait is not None:
            wait()
        else:
            _wait_for_interrupt(programs)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        _ignore_stop_signals()  # a signal during the stop must not cut it short
        stop.set()
        for thread in stations:
            if thread.ident is not None:  # a failed start leaves them unstarted
                thread.join(timeout=5)
        for program in reversed(programs):  # agents first, central (and its PostgreSQL) last
            _stop(program)
        print("Stopped.", flush=True)


def _wait_for_interrupt(programs: list[Program]) -> None:
    """Block until SIGINT or SIGTERM; a program that dies ends the demo with its log named."""
    while True:
        for program in programs:
            if program.process.poll() is not None:
                raise DemoError(
                    f"{program.name} stopped unexpectedly (exit code "
                    f"{program.process.returncode}); see {program.log}"
                )
        time.sleep(0.5)


def _ignore_stop_signals() -> None:
    if threading.current_thread() is threading.main_thread():
        for number in _StopSignals.SIGNALS:
            signal.signal(number, signal.SIG_IGN)
