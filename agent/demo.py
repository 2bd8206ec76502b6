"""`make run`: the product's main job with an embedded default.

Starts the real agent on a temporary data folder whose inbox a simulated trim
station fills at a steady rate, and prints the page URL. Ctrl-C stops both.
"""

from __future__ import annotations

import tempfile
import threading
from datetime import datetime
from pathlib import Path

from agent.config import load_config
from agent.service import run_agent
from agent.simulate import simulate_station

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
            spacing_s=60.0 / rate_per_minute,  # and dated as they land, not ahead of time
            rate_per_minute=rate_per_minute,
            on_file=stop_when_asked,
        )
    except SystemExit:
        return


def run_demo(rate_per_minute: float = 12.0, bind: str = "127.0.0.1:8710", seed: int = 1) -> int:
    with tempfile.TemporaryDirectory(prefix="lta-demo-") as tmp:
        data_dir = Path(tmp)
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
        try:
            return run_agent(config)
        finally:
            stop.set()
