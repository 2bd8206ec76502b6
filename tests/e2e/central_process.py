"""Start the real `lta-central serve` as a separate process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.agent_process import free_port


def central_cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "central.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return done.stdout


class CentralProcess:
    def __init__(self, database_url: str, data_dir: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "LTA_CENTRAL_DATABASE_URL": database_url,
            "LTA_CENTRAL_DATA_DIR": str(data_dir),
            "LTA_CENTRAL_BIND": f"127.0.0.1:{self.port}",
        }
        self.log = data_dir.parent / f"central-{self.port}.out"
        self.process: subprocess.Popen[str] | None = None

    def add_station(self, name: str) -> str:
        return central_cli(self.env, "station", "add", name).strip().splitlines()[-1]

    def stats(self) -> dict[str, Any]:
        rows = json.loads(central_cli(self.env, "stats", "--json"))
        return {row["station"]: row for row in rows}

    def start(self) -> CentralProcess:
        with self.log.open("a") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "central.cli", "serve"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"central exited: {self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError(self.log.read_text())

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)

    def __enter__(self) -> CentralProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
