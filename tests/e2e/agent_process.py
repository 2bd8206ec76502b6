"""Start the real `lta-agent run` as a separate process on a temp inbox and data folder."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

STARTUP_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AgentProcess:
    def __init__(self, data_dir: Path, inbox: Path, port: int | None = None, **env: str) -> None:
        self.data_dir = data_dir
        self.inbox = inbox
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "LTA_AGENT_DATA_DIR": str(data_dir),
            "LTA_AGENT_INBOX": str(inbox),
            "LTA_AGENT_BIND": f"127.0.0.1:{self.port}",
            "LTA_AGENT_STATION_ID": "e2e-station",
            **env,
        }
        self.process: subprocess.Popen[str] | None = None
        self.log = inbox.parent / f"agent-{self.port}.out"

    def start(self, wait: bool = True) -> AgentProcess:
        with self.log.open("a") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "agent.cli", "run"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
            )
        if wait:
            self.wait_healthy()
        return self

    def wait_healthy(self, timeout: float = STARTUP_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"agent exited with {self.process.returncode}: {self.output()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"agent not healthy after {timeout} s: {self.output()}")

    def get(self, path: str) -> Any:
        response = httpx.get(f"{self.url}{path}", timeout=5)
        response.raise_for_status()
        return response.json()

    def kill9(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def terminate(self, timeout: float = 30.0) -> int:
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def output(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def __enter__(self) -> AgentProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill9()
