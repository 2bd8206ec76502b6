"""`make run`: the product's main job with an embedded default.

Starts the real agent on a temporary data folder whose inbox a simulated trim
station fills at a steady rate, and prints the page URL. Ctrl-C stops both.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import threading
from datetime import datetime
from pathlib import Path

from agent.config import load_config
from agent.service import run_agent
from agent.simulate import simulate_station, station_clock

DEMO_UNITS = 100_000  # effectively endless at a human rate


def simulated_station(
    inbox: Path, rate_per_minute: float, seed: int, stop: threading.Event
) -> None:
    """A trim station writing units tested now into inbox until `stop` is set (a thread body)."""

    def stop_when_asked(_: Path) -> None:
        if stop.is_set():
            raise SystemExit  # ends this thread only

    try:
        simulate_station(
            inbox,
            count=DEMO_UNITS,
            seed=seed,
            start=datetime.now(),  # units tested now: older ones would be history
            spacing_s=60.0 / rate_per_minute,
            rate_per_minute=rate_per_minute,
            on_file=stop_when_asked,
            clock=station_clock,  # each dated as its file is written, never ahead
        )
    except SystemExit:
        return
    except OSError:
        if stop.is_set():  # the demo removed its folder while a file was being written
            return
        raise


def run_demo(rate_per_minute: float = 12.0, bind: str = "127.0.0.1:8710", seed: int = 1) -> int:
    """The agent on a temporary folder until SIGINT or SIGTERM (exit 0, however started).

    run_agent installs its own stop handlers (a demo started with SIGINT ignored
    still stops on it). The folder is removed at the end, unless the agent failed:
    then it is kept and named, with the agent's log in it.
    """
    data_dir = Path(tempfile.mkdtemp(prefix="lta-demo-"))
    inbox = data_dir / "inbox"
    inbox.mkdir()
    config = load_config(
        None,
        {
            "LTA_AGENT_DATA_DIR": str(data_dir),
            "LTA_AGENT_INBOX": str(inbox),
            "LTA_AGENT_BIND": bind,
            "LTA_AGENT_STATION_ID": "demo-station",
        },
    )
    stop = threading.Event()
    station = threading.Thread(
        target=simulated_station, args=(inbox, rate_per_minute, seed, stop), daemon=True
    )
    print(f"Demo: a simulated trim station writes {rate_per_minute:g} units/min into {inbox}")
    station.start()
    failed = True
    try:
        code = run_agent(config)
        failed = code != 0
        return code
    finally:
        stop.set()
        station.join(timeout=5)
        if failed:
            print(f"Demo data and the agent's log kept in {data_dir}", file=sys.stderr)
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
