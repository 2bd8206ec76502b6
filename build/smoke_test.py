"""`make build-test`: the frozen agent installed by install.sh, run on a real station file.

What IT does on a Linux station, in a temporary root instead of / (CI has no
systemd, so the installed binary is started directly with the installed
config, from a working directory of its own):

1. unpack the package `make build` wrote and run its install.sh;
2. start the agent; a real station file waits in the inbox; the page answers
   ("starting up") while the kernels compile; the verdict shows on /api/status;
3. stop it, start it again from another directory: the kernels load from the
   cache in the data folder (none compiled, no cache file rewritten);
4. upgrade in place with the same package: config, store and outbox kept,
   kernels still warm; uninstall keeps data and config, --purge removes them.

Prints the build size, cold and warm time to the first verdict and the frozen
agent's resident memory. Exits non-zero with the reason on any failure and
always removes what it made.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "build" / "out"
SAMPLE_DIRS = (REPO.parent / "shared" / "real-samples", REPO / "tests" / "data" / "real")
VERDICT_TIMEOUT_S = 180.0  # a cold start compiles every kernel (10-20 s here)


class SmokeTestError(Exception):
    """One step did not do what IT would expect; the message says which."""


def say(text: str) -> None:
    print(f"build-test: {text}", flush=True)


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SmokeTestError(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def real_samples(count: int) -> list[Path]:
    for folder in SAMPLE_DIRS:
        files = sorted(folder.glob("*.xls*")) if folder.is_dir() else []
        if len(files) >= count:
            return files[:count]
    raise SmokeTestError(f"no {count} real station files in {' or '.join(map(str, SAMPLE_DIRS))}")


def size_mb(path: Path) -> float:
    """MiB on disk as `du` counts them: symlinks inside the app are not counted twice."""
    files = [path] if path.is_file() else [p for p in path.rglob("*") if not p.is_symlink()]
    return sum(p.lstat().st_size for p in files if p.is_file()) / 2**20


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.extend(int(child) for child in text)
    return found


def wait_until(what: str, probe: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    raise SmokeTestError(f"{what}: not within {timeout:.0f} s")


def run(args: list[str], **kwargs: Any) -> str:
    done = subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)  # noqa: S603
    if done.returncode != 0:
        raise SmokeTestError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


class Station:
    """The installed tree under a temporary root, and the agent process started from it."""

    def __init__(self, work: Path, package_dir: Path) -> None:
        self.work = work
        self.package_dir = package_dir
        self.root = work / "root"
        self.inbox = work / "inbox"
        self.inbox.mkdir()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = self.root / "opt" / "lta-agent" / "lta-agent"
        self.config = self.root / "etc" / "lta-agent" / "agent.toml"
        self.data = self.root / "var" / "lib" / "lta-agent"
        self.process: subprocess.Popen[bytes] | None = None
        self.env = {
            **os.environ,
            # Real station files carry their real (old) test dates; here they stand for
            # units trimmed just now, so none is imported as history.
            "LTA_AGENT_INBOX__HISTORY_WINDOW_HOURS": "0",
            # numba's per-user fallback cache: must stay unused.
            "XDG_CACHE_HOME": str(work / "user-cache"),
        }
        for name in ("LTA_AGENT_CONFIG", "LTA_AGENT_DATA_DIR", "LTA_AGENT_INBOX", "LTA_AGENT_BIND"):
            self.env.pop(name, None)

    def install(self, *extra: str) -> str:
        script = self.package_dir / "install.sh"
        return run(["bash", str(script), "--root", str(self.root), *extra], cwd=self.work)

    def start(self, cwd_name: str) -> float:
        cwd = self.work / cwd_name
        cwd.mkdir()
        log = (self.work / f"agent-{cwd_name}.log").open("wb")
        started = time.monotonic()
        self.process = subprocess.Popen(  # noqa: S603
            [str(self.app), "run", "--config", str(self.config)],
            cwd=cwd,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        return started

    def status(self) -> dict[str, Any] | None:
        if self.process is not None and self.process.poll() is not None:
            raise SmokeTestError(f"the agent exited with {self.process.returncode}: {self.logs()}")
        try:
            body: dict[str, Any] = httpx.get(f"{self.url}/api/status", timeout=2).json()
        except httpx.HTTPError:
            return None
        return body

    def drop(self, sample: Path) -> None:
        """As a station saves: written under a lock-file name, then renamed."""
        partial = self.inbox / f"~${sample.name}"
        shutil.copyfile(sample, partial)
        partial.replace(self.inbox / sample.name)

    def verdict_of(self, sample: Path, started: float) -> tuple[float, float, dict[str, Any]]:
        """Seconds from `started` to the verdict on /api/status and to the analysis being ready."""
        ready_at: list[float] = []

        def shown() -> dict[str, Any] | None:
            status = self.status()
            if status and not status["health"]["starting_up"] and not ready_at:
                ready_at.append(time.monotonic())
            latest = status["latest"] if status else None
            return latest if latest and latest["file_name"] == sample.name else None

        latest = wait_until(f"verdict of {sample.name}", shown, VERDICT_TIMEOUT_S)
        now = time.monotonic()
        return now - started, (ready_at[0] if ready_at else now) - started, latest

    def memory(self) -> tuple[float, float]:
        assert self.process is not None  # noqa: S101 - started
        service = rss_mb(self.process.pid)
        worker = sum(rss_mb(child) for child in children(self.process.pid))
        return service, worker

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise SmokeTestError("the agent did not stop within 60 s of SIGTERM") from None
        check(code == 0, f"the agent stopped with exit code {code}: {self.logs()}")

    def kill(self) -> None:
        """Clean-up after a failure: no agent is left running."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    def warm(self) -> dict[str, Any]:
        version = run([str(self.app), "--version"]).split()[1]
        path = self.data / "kernel-cache" / version / "warm.json"
        check(path.is_file(), f"no {path}: the kernels were not cached in the data folder")
        body: dict[str, Any] = json.loads(path.read_text())
        return body

    def cache_files(self) -> dict[str, int]:
        root = self.data / "kernel-cache"
        return {
            str(p.relative_to(root)): p.stat().st_mtime_ns
            for p in root.rglob("*.nb[ic]")  # the index and machine-code files
        }

    def logs(self) -> str:
        texts = [p.read_text(errors="replace")[-3000:] for p in self.work.glob("agent-*.log")]
        return "\n".join(texts)


def verify_unit(unit: Path) -> None:
    """systemd's own check of the rendered unit, where systemd's tools are installed."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        say("systemd-analyze not installed: the unit's syntax was not checked")
        return
    done = subprocess.run(  # noqa: S603
        [analyze, "verify", str(unit)], capture_output=True, text=True, check=False
    )
    problems = (done.stdout + done.stderr).strip()
    check(done.returncode == 0 and not problems, f"systemd-analyze verify: {problems}")
    say("systemd-analyze verify: the installed unit is valid")


def package() -> Path:
    found = sorted(OUT.glob("lta-agent-*-linux-*.tar.gz"))
    check(bool(found), f"no package in {OUT}: run make build")
    return found[-1]


def smoke_test(work: Path, stations: list[Station]) -> None:
    tarball = package()
    app_dir = OUT / "lta-agent"
    say(
        f"app {app_dir.relative_to(REPO)}/ {size_mb(app_dir):.0f} MB, package {tarball.name} "
        f"{size_mb(tarball):.0f} MB"
    )
    with tarfile.open(tarball) as archive:
        archive.extractall(work / "dist", filter="data")
    station = Station(work, next((work / "dist").iterdir()))
    stations.append(station)
    first, second, third = real_samples(3)

    out = station.install(
        "--inbox",
        str(station.inbox),
        "--station-id",
        "build-test",
        "--bind",
        f"127.0.0.1:{station.port}",
    )
    check("Installed" in out, f"install.sh said: {out}")
    unit = (station.root / "etc" / "systemd" / "system" / "lta-agent.service").read_text()
    check("@" not in unit.split("[Unit]", 1)[1], "the unit still has @...@ placeholders")
    check(f"ExecStart={station.app} run --config {station.config}" in unit, "unit ExecStart")
    verify_unit(station.root / "etc" / "systemd" / "system" / "lta-agent.service")
    config_bytes = station.config.read_bytes()
    check(oct(station.config.stat().st_mode & 0o777) == "0o640", "config must be mode 0640")

    # Cold: a station file is already waiting when the agent starts for the first time.
    station.drop(first)
    started = station.start("cwd-first")
    status = wait_until("the page", station.status, 60)
    page_s = time.monotonic() - started
    page = httpx.get(station.url, timeout=5).text
    starting = bool(status["health"]["starting_up"])
    check(not starting or 'id="starting-up"' in page, "the page has no starting-up marker")
    cold_s, ready_s, latest = station.verdict_of(first, started)
    cold = station.warm()
    check(cold["compiled"] > 0, f"first start compiled no kernel: {cold}")
    cold_rss = station.memory()
    state = "starting up" if starting else "ready"
    say(
        f"cold start: page answered after {page_s:.1f} s ({state}), analysis ready after "
        f"{ready_s:.1f} s ({cold['compiled']} kernels compiled in {cold['seconds']:.1f} s); "
        f"{latest['status']} {first.name} on /api/status after {cold_s:.1f} s"
    )
    station.stop()
    cached = station.cache_files()
    check(bool(cached), "no kernel files in the data folder's kernel-cache")

    # Warm: started again from another working directory.
    started = station.start("cwd-second")
    station.drop(second)
    warm_s, ready_s, _ = station.verdict_of(second, started)
    warm_rss = station.memory()
    warm = station.warm()
    check(warm["compiled"] == 0, f"the restart from another directory recompiled: {warm}")
    check(station.cache_files() == cached, "the restart rewrote kernel cache files")
    check(not (work / "user-cache" / "numba").exists(), "numba used its per-user cache")
    say(
        f"restart from another directory: analysis ready after {ready_s:.1f} s "
        f"({warm['loaded']} kernels loaded from the cache, 0 compiled), first verdict after "
        f"{warm_s:.1f} s"
    )
    for label, (service_mb, worker_mb) in (("cold start", cold_rss), ("restart", warm_rss)):
        say(
            f"frozen agent RSS after the first verdict, {label}: service {service_mb:.0f} MB "
            f"+ analysis worker {worker_mb:.0f} MB = {service_mb + worker_mb:.0f} MB"
        )
    before = station.status()
    assert before is not None  # noqa: S101 - the agent is running
    station.stop()

    # Upgrade in place with the same package, then a third start from yet another directory.
    out = station.install()
    check("Upgraded" in out, f"install.sh did not upgrade: {out}")
    check(station.config.read_bytes() == config_bytes, "the upgrade changed the config")
    started = station.start("cwd-third")
    station.drop(third)
    station.verdict_of(third, started)
    after = station.status()
    assert after is not None  # noqa: S101 - the agent is running
    results = httpx.get(f"{station.url}/api/results", timeout=5).json()["results"]
    names = {row["file_name"] for row in results}
    check(names == {first.name, second.name, third.name}, f"results after the upgrade: {names}")
    check(
        after["outbox"]["pending"] >= before["outbox"]["pending"],
        f"the outbox shrank across the upgrade: {before['outbox']} -> {after['outbox']}",
    )
    check(station.warm()["compiled"] == 0, "the same version, reinstalled, recompiled")
    station.stop()
    say(
        f"upgrade in place: config, {len(names)} results and the outbox "
        f"({after['outbox']['pending']} pending) kept, kernels still warm"
    )

    station.install("--uninstall")
    check(not station.app.exists(), "uninstall left the app")
    check(
        (station.data / "agent.sqlite").is_file() and station.config.is_file(),
        "uninstall without --purge removed data or config",
    )
    station.install("--uninstall", "--purge")
    check(not station.data.exists() and not station.config.exists(), "--purge left data")
    say("uninstall kept data and config; --uninstall --purge removed them")


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="lta-build-test-"))
    stations: list[Station] = []
    try:
        smoke_test(work, stations)
    except SmokeTestError as exc:
        say(f"FAILED: {exc}")
        return 1
    finally:
        for station in stations:
            station.kill()
        shutil.rmtree(work, ignore_errors=True)
    say("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
