"""`lta-agent doctor`: one command IT runs on a station to see what is wrong.

Each check prints one line: `OK`, or `WARN`/`FAIL` with what to do. Nothing
here changes the station: the store is opened read-only (never migrated), the
only write is a small probe file in the data folder, and the token is checked
at central's token check (a heartbeat's body and checks, recorded nowhere: a
doctor run never makes central show the station alive). It runs beside a
running agent without disturbing it.

Permissions are those of the account running the command: run it as the
agent's account (Linux: `sudo -u lta-agent lta-agent doctor`) for the folder
checks to mean what the service sees. On Windows IT runs it as an
administrator while the service runs as LocalSystem or a service account, so
the `service` line reports what the running service itself saw (its state
file in the data folder): the account, inboxes it cannot reach, and whether
its analysis worker can start. Write checks really write (`os.access` ignores
Windows ACLs) through agent.seam.
"""

from __future__ import annotations

import ast
import contextlib
import os
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import httpx

from agent.analysis import kernel_cache
from agent.config import AgentConfig, ConfigError, load_config, resolve_config_path
from agent.parsing.filenames import is_candidate
from agent.runtime import STATE_STALE_S, read_state
from agent.seam import Platform, host
from agent.store.database import StoreTooNewError, connect
from agent.store.migrations import AUTO_VACUUM_INCREMENTAL, MIGRATIONS
from agent.store.space import probe_write
from shared.protocol import PROTOCOL_VERSION, TOKEN_CHECK_PATH, Heartbeat
from shared.version import __version__

LOW_SPACE_BYTES = 1024**3  # WARN below this: months at one unit a minute, but not years
FULL_SPACE_BYTES = 64 * 1024**2  # FAIL below this: the agent is about to stop storing
RESULT_BYTES = 21_000  # a stored result with its curves, for "room for about N results"
CLOCK_WARN_S = 10.0
OLD_PENDING_S = 3600.0
HTTP_TIMEOUT_S = 5.0
KERNEL_DIR = Path(__file__).resolve().parent / "analysis"


class Level(StrEnum):
    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Check:
    level: Level
    name: str
    message: str

    def line(self) -> str:
        return f"{self.level.value:<4}  {self.name:<12} {self.message}"


def ok(name: str, message: str) -> Check:
    return Check(Level.OK, name, message)


def warn(name: str, message: str) -> Check:
    return Check(Level.WARN, name, message)


def fail(name: str, message: str) -> Check:
    return Check(Level.FAIL, name, message)


def run_doctor(
    config_path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    low_space_bytes: int = LOW_SPACE_BYTES,
    platform: Platform | None = None,
) -> list[Check]:
    """Every check, in the order IT would fix them. Never raises for a station problem."""
    platform = platform or host()
    env = os.environ if environ is None else environ
    try:
        config = load_config(config_path, env)
    except ConfigError as exc:
        return [fail("config", f"{exc.message} Fix the file, then run doctor again.")]
    source = resolve_config_path(config_path, env)
    checks = [
        ok(
            "config",
            f"{source} is valid" if source else "no config file: defaults and LTA_AGENT_* values",
        ),
        *check_inboxes(config, platform),
        check_data_folder(config, low_space_bytes, platform),
        *check_service(config, wall_clock),
    ]
    store, stats = check_store(config)
    checks += [store, check_retention(config), *check_central(config, stats, wall_clock)]
    checks.append(check_kernel_cache(config.storage.data_dir))
    return checks


def exit_code(checks: list[Check]) -> int:
    """0 when every line is OK, else 1."""
    return 0 if all(c.level is Level.OK for c in checks) else 1


# --------------------------------------------------------------------------- folders


def check_inboxes(config: AgentConfig, platform: Platform | None = None) -> list[Check]:
    platform = platform or host()
    account = platform.account()
    checks = []
    default = config.storage.data_dir / "inbox"
    for folder in config.inbox.paths:
        if folder == default and not folder.exists():
            checks.append(ok("inbox", f"{folder} (the default) is created by the agent"))
            continue
        drive = platform.drive_problem(folder)
        if drive is not None:
            checks.append(fail("inbox", drive))
            continue
        if not folder.exists():
            checks.append(
                fail(
                    "inbox",
                    f"{folder} does not exist. Create it, or set inbox.paths (LTA_AGENT_INBOX) "
                    "to the folder the trim station saves its result files in.",
                )
            )
            continue
        try:
            files = sum(1 for e in platform.scandir(folder) if is_candidate(Path(e.name)))
        except OSError as exc:
            checks.append(
                fail(
                    "inbox",
                    f"{folder} cannot be read by {account} ({exc.strerror or exc}). Give the "
                    "agent's account read access; for a network share, run the service as an "
                    "account that can reach the share.",
                )
            )
            continue
        note = f"{files} result file(s) at the top level"
        denied = platform.probe_write(folder) if config.inbox.archive_dir is not None else None
        if denied is not None:
            checks.append(
                fail(
                    "inbox",
                    f"{folder} is readable ({note}) but inbox.archive_dir is set and "
                    f"{account} cannot move files out of it ({denied.strerror or denied}). "
                    "Give write access, or unset archive_dir.",
                )
            )
            continue
        checks.append(ok("inbox", f"{folder} is readable ({note})"))
    return checks


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def check_data_folder(
    config: AgentConfig,
    low_space_bytes: int = LOW_SPACE_BYTES,
    platform: Platform | None = None,
) -> Check:
    platform = platform or host()
    folder = config.storage.data_dir
    if not folder.is_dir():
        parent = next((p for p in folder.parents if p.is_dir()), None)
        if parent is not None and platform.probe_write(parent) is None:
            return ok("data folder", f"{folder} does not exist yet; the agent creates it")
        return fail(
            "data folder",
            f"{folder} does not exist and {platform.account()} cannot create it. Create it and "
            "give the agent's account write access, or set storage.data_dir "
            "(LTA_AGENT_DATA_DIR).",
        )
    free = shutil.disk_usage(folder).free
    if not probe_write(folder, size=4096, name=".lta-doctor-probe"):
        if free < FULL_SPACE_BYTES:
            return fail("data folder", f"{folder}: the disk is full. Free space on it.")
        return fail(
            "data folder",
            f"{folder} is not writable by {platform.account()}. Give the agent's account write "
            "access, or set storage.data_dir (LTA_AGENT_DATA_DIR).",
        )
    room = f"{_size(free)} free (room for about {free // RESULT_BYTES:,} results)"
    if free < FULL_SPACE_BYTES:
        return fail(
            "data folder",
            f"{folder}: only {room}. The agent stops storing new results when it runs out; "
            "free space on that disk now.",
        )
    if free < low_space_bytes:
        return warn(
            "data folder",
            f"{folder} is writable but only {room}. Free space on that disk, or move "
            "storage.data_dir to a larger one.",
        )
    return ok("data folder", f"{folder} is writable, {room}")


# --------------------------------------------------------------------------- service


def check_service(
    config: AgentConfig, wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> list[Check]:
    """What the running service saw, from its state file: it may run as another account."""
    state = read_state(config.storage.data_dir)
    if state is None:
        return [
            warn(
                "service",
                "the agent has not run with this data folder yet (no service-state.json): "
                "start the service, then run doctor again",
            )
        ]
    account = state.get("account") or "the service's account"
    try:
        age = (wall_clock() - datetime.fromisoformat(state["written_at"])).total_seconds()
    except (KeyError, TypeError, ValueError):
        age = None
    checks: list[Check] = []
    if age is None or age > STATE_STALE_S:
        seen = "at an unknown time" if age is None else f"{age / 60:.0f} min ago"
        checks.append(
            warn(
                "service",
                f"the agent is not running (last seen {seen}, as {account}). Start the service "
                "(Windows: services.msc, 'Laser Trim Analyzer agent'; Linux: systemctl start "
                "lta-agent); the lines below are from its last run",
            )
        )
    else:
        checks.append(ok("service", f"running as {account}, seen {max(0, age):.0f} s ago"))
    for folder, problem in sorted((state.get("inbox_problems") or {}).items()):
        checks.append(fail("service", f"the service ({account}) cannot use {folder}: {problem}"))
    if state.get("analysis_error"):
        checks.append(
            fail(
                "analysis",
                f"analysis cannot start: {state['analysis_error']}. Files wait in the inbox "
                "and are analysed once it starts; the agent retries on its own.",
            )
        )
    return checks


# --------------------------------------------------------------------------- store


# SQLite in WAL mode keeps recent writes beside the database until a checkpoint: the
# store on disk is all three files (a 4 KB database can sit beside a 2.5 MB WAL).
STORE_SUFFIXES = ("", "-wal", "-shm")


def store_bytes(path: Path) -> int:
    """The store's size on disk: the database file with its WAL and shared-memory files."""
    total = 0
    for suffix in STORE_SUFFIXES:
        with contextlib.suppress(FileNotFoundError):
            total += path.with_name(path.name + suffix).stat().st_size
    return total


def check_store(config: AgentConfig) -> tuple[Check, dict[str, Any]]:
    """The store's version and contents, read-only; the stats feed the heartbeat."""
    path = config.database_path
    stats: dict[str, Any] = {"pending": 0, "oldest_age_s": None, "dead": 0}
    if not path.exists():
        return ok("store", f"no database yet at {path}; the agent creates it"), stats
    try:
        conn = connect(path, readonly=True)
        try:
            return _store_check(conn, path, stats), stats
        finally:
            conn.close()
    except (sqlite3.Error, OSError) as exc:
        return fail(
            "store",
            f"{path} cannot be read ({exc}). Stop the agent and restore the data folder from a "
            "backup, or move the file aside to start an empty store.",
        ), stats


def _store_check(conn: sqlite3.Connection, path: Path, stats: dict[str, Any]) -> Check:
    from agent.store import reads

    has_versions = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    version = (
        int(conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0)
        if has_versions
        else 0
    )
    known = len(MIGRATIONS)
    if version > known:
        return fail("store", StoreTooNewError(path, version, known).message)
    size = store_bytes(path)
    if version < known:
        return ok(
            "store",
            f"{path} version {version} ({_size(size)}); this agent upgrades it to {known} "
            "when it starts",
        )
    stats.update(reads.outbox_stats(conn, datetime.now(UTC)))
    results = reads.count_results(conn)
    vacuum = conn.execute("PRAGMA auto_vacuum").fetchone()[0] == AUTO_VACUUM_INCREMENTAL
    text = (
        f"{path} version {version}, {results:,} results, {_size(size)}, "
        f"{stats['pending']} waiting for central, {stats['dead']} rejected"
    )
    if not vacuum:
        text += "; made before incremental vacuum: pruning reuses space but never shrinks it"
    if stats["dead"]:
        return warn(
            "store",
            f"{text}. See `lta-agent outbox status` for central's reasons, fix them, then "
            "`lta-agent outbox retry`.",
        )
    oldest = stats["oldest_age_s"]
    if oldest is not None and oldest > OLD_PENDING_S:
        return warn(
            "store",
            f"{text}; the oldest has waited {oldest / 3600:.1f} h. Check the central lines "
            "below, and that the agent is running.",
        )
    return ok("store", text)


def check_retention(config: AgentConfig) -> Check:
    days = config.storage.retention_days
    if days == 0:
        return warn(
            "retention",
            "storage.retention_days = 0 keeps every result forever: the store grows by about "
            "21 KB per result. Set a number of days (default 180).",
        )
    return ok("retention", f"results central has are pruned after {days} days")


# --------------------------------------------------------------------------- central


def check_central(
    config: AgentConfig,
    stats: dict[str, Any],
    wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> list[Check]:
    """Reachable (GET /healthz), clock offset (its Date header), token (not recorded)."""
    central = config.central
    if central.url is None:
        return [
            warn(
                "central",
                "central.url is not set: results stay on this station, and since nothing is "
                "ever delivered, retention cannot prune them. Set central.url and "
                "central.token (LTA_AGENT_CENTRAL_URL, LTA_AGENT_CENTRAL_TOKEN).",
            )
        ]
    verify: str | bool = str(central.ca_bundle) if central.ca_bundle else True
    try:
        before = wall_clock()
        started = time.perf_counter()
        response = httpx.get(f"{central.url}/healthz", verify=verify, timeout=HTTP_TIMEOUT_S)
        elapsed = time.perf_counter() - started
        after = wall_clock()
    except httpx.HTTPError as exc:
        return [
            fail("central", _unreachable(central.url, exc)),
            warn("clock", "not checked: central is unreachable"),
            warn("token", "not checked: central is unreachable"),
        ]
    checks = [_reach(central.url, response, elapsed)]
    checks.append(_clock(response, before + (after - before) / 2))
    checks.append(_token(config, stats, verify))
    return checks


def _unreachable(url: str, exc: httpx.HTTPError) -> str:
    text = (str(exc) or type(exc).__name__).splitlines()[0][:200]
    if "CERTIFICATE" in text.upper() or "SSL" in text.upper():
        return (
            f"{url}: the TLS certificate is not trusted ({text}). Set central.ca_bundle to "
            "the company's CA certificates (PEM)."
        )
    return (
        f"cannot reach {url} ({text}). Check the address in central.url, the network, and "
        "that the firewall lets this PC reach that host and port."
    )


def _reach(url: str, response: httpx.Response, elapsed: float) -> Check:
    ms = f"{elapsed * 1000:.0f} ms"
    if response.status_code == 200:
        return ok("central", f"{url} is reachable and healthy ({ms})")
    if response.status_code == 503:
        return fail(
            "central",
            f"{url} answers but is unhealthy (its database is unavailable). Tell whoever runs "
            "central; this station keeps its results until then.",
        )
    return fail(
        "central",
        f"{url}/healthz answered HTTP {response.status_code}: is central.url the address of "
        "the central service (not of a proxy page or another program)?",
    )


def _clock(response: httpx.Response, local: datetime) -> Check:
    header = response.headers.get("Date")
    try:
        remote = parsedate_to_datetime(header) if header else None
    except (TypeError, ValueError):
        remote = None
    if remote is None:
        return warn("clock", "central sent no usable Date header: clocks not compared")
    # Date is central's time cut to the whole second: on average half a second later.
    offset = (local - remote).total_seconds() - 0.5
    if abs(offset) <= CLOCK_WARN_S:
        return ok("clock", f"this PC is within {max(1, round(abs(offset)))} s of central")
    way = "ahead of" if offset > 0 else "behind"
    return warn(
        "clock",
        f"this PC's clock is {abs(offset):.0f} s {way} central. Results carry this PC's time: "
        "turn on time synchronisation (Windows Time service, or NTP / systemd-timesyncd).",
    )


def _token(config: AgentConfig, stats: dict[str, Any], verify: str | bool) -> Check:
    from agent.sync import CentralClient

    central = config.central
    if central.token is None:
        return fail(
            "token",
            "central.token is not set. Paste the token central issued for station "
            f"{config.station.id!r} into central.token or LTA_AGENT_CENTRAL_TOKEN.",
        )
    beat = Heartbeat(
        protocol_version=PROTOCOL_VERSION,
        station_id=config.station.id,
        agent_version=__version__,
        sent_at=datetime.now(UTC),
        outbox_pending=stats["pending"],
        oldest_undelivered_age_s=stats["oldest_age_s"],
        dead_letters=stats["dead"],
    )
    assert central.url is not None  # noqa: S101 - checked by the caller
    client = CentralClient(
        central.url, central.token.get_secret_value(), central.ca_bundle, HTTP_TIMEOUT_S
    )
    try:
        response = client.post(TOKEN_CHECK_PATH, beat.model_dump_json().encode())
    except httpx.HTTPError as exc:
        return fail("token", f"not checked: {_unreachable(central.url, exc)}")
    finally:
        client.close()
    return _token_answer(config.station.id, response)


def _token_answer(station: str, response: httpx.Response) -> Check:
    status = response.status_code
    try:
        error = response.json().get("error", {})
    except ValueError:
        error = {}
    code, message = error.get("code", ""), error.get("message", response.reason_phrase)
    if status == 200:
        return ok("token", f"central accepts this station's token (station {station!r})")
    if status == 401:
        return fail(
            "token",
            f"central does not know this token ({message}). Copy the token central printed "
            f"for {station!r} (`lta-central station add {station}`) into central.token.",
        )
    if status == 403 and code == "wrong_station":
        return fail(
            "token",
            f"{message} Set station.id to the name the token was issued for, or use the "
            f"token issued for {station!r}.",
        )
    if status == 403:
        return fail("token", f"{message} Ask for a new token for {station!r}.")
    if status == 429:
        return warn("token", "central is rate-limiting this station; run doctor again shortly")
    if status == 404:
        return warn(
            "token",
            "not checked: central predates the token check (doctor does not send a heartbeat, "
            "which would show the station alive). Upgrade central, or watch the agent's page.",
        )
    return fail(
        "token",
        f"central answered HTTP {status} ({message}). If it names the protocol, install an "
        "agent that matches central's version.",
    )


# --------------------------------------------------------------------------- kernels


def check_kernel_cache(data_dir: Path, frozen: bool | None = None) -> Check:
    """Whether the compiled analysis kernels are on disk, so a start does not compile them.

    The installed (frozen) agent keeps them in the data folder (agent.analysis.kernel_cache)
    and records each warm-up there; run from source, numba keeps them beside the
    kernels' source files.
    """
    if kernel_cache.is_frozen() if frozen is None else frozen:
        folder = kernel_cache.cache_dir(data_dir)
        warm = kernel_cache.warm_status(data_dir)
        if warm is None:
            return warn(
                "kernels",
                f"not compiled yet for version {__version__} (in {folder}): the next start "
                "compiles them (5-10 s, the page says 'starting up'), then restarts are fast",
            )
        return ok(
            "kernels",
            f"warm in {folder}: the last start loaded {warm.get('loaded')} and compiled "
            f"{warm.get('compiled')} in {warm.get('seconds')} s",
        )
    if os.environ.get("NUMBA_CACHE_DIR"):
        return warn("kernels", "NUMBA_CACHE_DIR is set: its cache was not checked")
    expected = source_kernels(KERNEL_DIR)
    missing = [name for name, fresh in expected.items() if not fresh]
    if missing:
        return warn(
            "kernels",
            f"{len(missing)} of {len(expected)} kernels not compiled yet beside the sources "
            f"(e.g. {missing[0]}): the next start compiles them (5-10 s)",
        )
    return ok("kernels", f"warm: {len(expected)} kernels cached beside the sources (from source)")


def source_kernels(folder: Path) -> dict[str, bool]:
    """Each `@njit(cache=True)` kernel in `folder` -> whether numba's index for it is fresh.

    Numba names a kernel's index `<module>.<function>-<first line>.py<ver>.nbi` in
    `__pycache__`, the first line being the decorator's, and checks it against the
    source file's modification time, as done here.
    """
    tag = f"py{sys.version_info.major}{sys.version_info.minor}"
    kernels: dict[str, bool] = {}
    for source in sorted(folder.glob("*.py")):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        mtime = source.stat().st_mtime
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef) or not node.decorator_list:
                continue
            if not any(_is_cached_njit(d) for d in node.decorator_list):
                continue
            line = node.decorator_list[0].lineno
            name = f"{source.stem}.{node.name}"
            index = folder / "__pycache__" / f"{name}-{line}.{tag}.nbi"
            kernels[name] = index.exists() and index.stat().st_mtime >= mtime
    return kernels


def _is_cached_njit(decorator: ast.expr) -> bool:
    if not isinstance(decorator, ast.Call):
        return False
    func = decorator.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
    return name == "njit" and any(
        k.arg == "cache" and isinstance(k.value, ast.Constant) and k.value.value is True
        for k in decorator.keywords
    )


def report(checks: list[Check]) -> str:
    lines = [c.line() for c in checks]
    bad = sum(c.level is not Level.OK for c in checks)
    lines.append("all checks passed" if not bad else f"{bad} check(s) need attention")
    return "\n".join(lines)
