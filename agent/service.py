"""`lta-agent run`: one process that watches, analyses, stores and serves the page.

Start-up checks what IT can get wrong. A busy port or an unusable data folder
stops it with one clear message; an inbox it cannot reach (a mapped drive the
service does not have, a share its account has no rights on, a share that is
down) does not: the service would only be restarted every minute with the page
never up. It serves the page, says on it, on /healthz and in the state file
`doctor` reads what is wrong, and keeps trying the folder. Shutdown (SIGTERM, SIGINT,
Ctrl-C) stops the web server, lets the watcher finish the file in hand, and
closes the store: a file is either fully recorded or will be analysed again.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from loguru import logger
from waitress.server import BaseWSGIServer, MultiSocketServer

from agent.analysis import kernel_cache
from agent.config import AgentConfig
from agent.history import HistoryWindow
from agent.isolation import AnalysisCannotStart, IsolatedAnalyser
from agent.logfile import RotatingLog
from agent.retention import FIRST_RUN_AFTER_S as RETENTION_FIRST_RUN_S
from agent.retention import RUN_EVERY_S as RETENTION_EVERY_S
from agent.retention import Retention
from agent.runtime import Runtime, write_state
from agent.seam import Platform, host
from agent.spec_sync import SpecFetcher
from agent.store.store import Store
from agent.sync import CentralClient, Syncer
from agent.watcher import Watcher
from agent.web import create_app
from agent.web.context import AgentContext
from shared.errors import LtaError
from shared.models import FileResult
from shared.service import bind_server, exit_on_signals, setup_logging
from shared.spec_wire import SpecPush

TICK_S = 0.1  # how often settled files are looked for; the folder scan has its own interval
WEB_THREADS = 6
STATE_EVERY_S = 15.0  # how often the state file for `doctor` is rewritten
# The page and its API only answer GETs: nothing a client sends needs more than this
# (waitress's defaults would buffer 1 GiB per request before any view runs).
SERVER_LIMITS = {
    "max_request_body_size": 64 * 1024,
    "max_request_header_size": 32 * 1024,
    "connection_limit": 50,
}


def inbox_problems(config: AgentConfig, platform: Platform) -> dict[str, str]:
    """Each inbox this account cannot use now, with what IT should do about it.

    The default inbox (in the data folder) is created. Others are never created:
    a missing share folder must not become an empty local one.
    """
    problems: dict[str, str] = {}
    default = config.storage.data_dir / "inbox"
    for inbox in config.inbox.paths:
        if inbox == default:
            inbox.mkdir(parents=True, exist_ok=True)
            continue
        drive = platform.drive_problem(inbox)
        if drive is not None:
            problems[str(inbox)] = drive
            continue
        try:
            platform.scandir(inbox)
        except OSError as exc:
            problems[str(inbox)] = (
                f"The inbox folder {inbox} cannot be listed by {platform.account()} "
                f"({exc.strerror or exc}). Create it or give that account read access (for a "
                "share: run the service as an account with rights on it, docs/install.md), "
                "or set inbox.paths (LTA_AGENT_INBOX) to the folder the trim station writes to."
            )
    return problems


@dataclass
class AgentService:
    config: AgentConfig
    stop_event: threading.Event = field(default_factory=threading.Event)
    store: Store | None = None
    analyser: IsolatedAnalyser | None = None
    scheduler: BackgroundScheduler | None = None
    server: BaseWSGIServer | MultiSocketServer | None = None
    runtime: Runtime | None = None
    syncer: Syncer | None = None
    client: CentralClient | None = None
    spec_fetcher: SpecFetcher | None = None
    platform: Platform = field(default_factory=host)
    _starter: threading.Thread | None = None
    _start_lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        """What stops a start (port, data folder) fails here, before serving."""
        config = self.config
        inboxes = list(config.inbox.paths)
        problems = inbox_problems(config, self.platform)
        self.store = Store(config.database_path)
        self.runtime = Runtime(
            station_id=config.station.id,
            station_name=config.station.name,
            inboxes=[str(p) for p in inboxes],
            inbox_problems=problems,
            account=self.platform.account(),
        )
        for problem in problems.values():
            logger.error(problem)
            self.runtime.report_error(problem)
        ctx = AgentContext(
            store=self.store,
            runtime=self.runtime,
            shift_starts=tuple(config.shift.starts),
            page_refresh_ms=config.web.page_refresh_ms,
            sync_alert_after_s=60.0 * config.web.sync_alert_minutes,
            history_window_hours=config.inbox.history_window_hours,
            allowed_hosts=tuple(config.web.allowed_hosts),
        )
        self.server = bind_server(
            create_app(ctx),
            config.bind_host,
            config.bind_port,
            "web.bind / LTA_AGENT_BIND",
            threads=WEB_THREADS,
            ident="lta-agent",
            listen=self.platform.listen_socket,  # exclusive on Windows: one agent per port
            **SERVER_LIMITS,
        )
        settings = config.analysis_settings()
        if settings.specs is not None:
            self.runtime.specs.version = settings.specs.version
            self.runtime.specs.source = "file"
            self.runtime.specs.models = len(settings.specs.specs)
        self.analyser = IsolatedAnalyser(
            settings,
            start_method="spawn",
            kernel_cache_dir=kernel_cache.worker_cache_dir(config.storage.data_dir),
            platform=self.platform,
        )
        analyser, runtime = self.analyser, self.runtime

        def analyse(path: Path, content: bytes, sha256: str) -> FileResult:
            result = analyser.analyse(path, content, sha256)
            runtime.starting_up = False  # a worker that failed at start-up may work now
            if runtime.analysis_error is not None:
                runtime.report_analysis_error(None)
            return result

        watcher = Watcher(
            inboxes=inboxes,
            store=self.store,
            analyse=analyse,
            runtime=self.runtime,
            recursive=config.inbox.recursive,
            poll_interval_s=config.inbox.poll_interval_s,
            settle_s=config.inbox.settle_s,
            archive_dir=config.inbox.archive_dir,
            history_window=HistoryWindow(config.inbox.history_window_hours, self.platform),
            platform=self.platform,
        )
        # Retention has its own thread: a long pruning round never delays a watcher tick.
        # The zone is the seam's (UTC): the local one can stop a Windows start (agent.seam).
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(2), "maintenance": ThreadPoolExecutor(1)},
            timezone=self.platform.scheduler_timezone(),
        )
        self._schedule_retention(inboxes)
        self.scheduler.add_job(
            self._save_state,
            "interval",
            seconds=STATE_EVERY_S,
            id="state",
            executor="maintenance",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
        )
        self.syncer = self._syncer()
        if self.syncer is not None and self.client is not None:
            self.spec_fetcher = SpecFetcher(
                store=self.store,
                client=self.client,
                state=self.runtime.specs,
                apply=lambda table: analyser.update_settings(
                    settings.model_copy(update={"specs": table})
                ),
                reanalyse=self._reanalyse_later,
            )
            self.spec_fetcher.start_from_cache()  # before the first file: central may be away
        if self.syncer is not None:
            self.scheduler.add_job(
                self._guarded_sync(self.syncer),
                "interval",
                seconds=config.central.sync_interval_s,
                id="sync",
                max_instances=1,
                coalesce=True,
                next_run_time=datetime.now(UTC),
            )
        self.scheduler.start()
        # The worker loads its kernels (on the first start after an install it compiles
        # them, up to a minute) while the page already answers and says "starting up";
        # the inbox is watched once it is ready.
        runtime.starting_up = True
        self._starter = threading.Thread(
            target=self._start_analysis,
            args=(watcher, analyser, runtime, self.scheduler),
            name="lta-start-analysis",
            daemon=True,
        )
        self._starter.start()
        logger.info(
            "Station {} watching {}; page on {}",
            config.station.id,
            ", ".join(map(str, inboxes)),
            self.page_url,
        )

    def _start_analysis(
        self,
        watcher: Watcher,
        analyser: IsolatedAnalyser,
        runtime: Runtime,
        scheduler: BackgroundScheduler,
    ) -> None:
        if analyser.kernel_cache_dir is not None:
            kernel_cache.prune_other_versions(self.config.storage.data_dir)
        try:
            analyser.start()
        except AnalysisCannotStart as exc:  # the watcher tries again, backing off
            runtime.report_analysis_error(exc.message)
        except Exception as exc:  # the watcher tries again with the first file
            logger.exception("The analysis worker did not start")
            runtime.report_analysis_error(f"{type(exc).__name__}: {exc}")
        else:
            report = analyser.warm_up or {}
            logger.info(
                "Analysis ready: {} kernel(s) loaded from the cache, {} compiled, {} s",
                report.get("loaded"),
                report.get("compiled"),
                report.get("seconds"),
            )
        with self._start_lock:
            runtime.starting_up = False
            if self.stop_event.is_set():
                analyser.close()
                return
            scheduler.add_job(
                self._guarded(watcher),
                "interval",
                seconds=TICK_S,
                id="watch",
                max_instances=1,
                coalesce=True,
            )

    def _save_state(self) -> None:
        if self.runtime is None:
            return
        try:
            write_state(self.config.storage.data_dir, self.runtime)
        except OSError as exc:  # only informs `doctor`; never stops the agent
            logger.warning("Cannot write the state file for doctor: {}", exc)

    def _schedule_retention(self, inboxes: list[Path]) -> None:
        """Prune delivered results older than storage.retention_days (0: never)."""
        days = self.config.storage.retention_days
        if days <= 0 or self.store is None or self.scheduler is None:
            return
        job = Retention(store=self.store, days=days, inboxes=inboxes, platform=self.platform)

        def prune() -> None:
            if self.stop_event.is_set():
                return
            try:
                job.run(self.stop_event)
            except Exception:  # the job must survive to try again next round
                logger.exception("Retention round failed")

        self.scheduler.add_job(
            prune,
            "interval",
            seconds=RETENTION_EVERY_S,
            id="retention",
            executor="maintenance",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC) + timedelta(seconds=RETENTION_FIRST_RUN_S),
        )

    def _guarded(self, watcher: Watcher):  # type: ignore[no-untyped-def]
        def tick() -> None:
            if self.stop_event.is_set():
                return
            try:
                watcher.tick(self.stop_event)
            except Exception as exc:  # the job must survive to try again next tick
                logger.exception("Watcher round failed")
                if self.runtime is not None:
                    self.runtime.report_error(f"Watcher error: {exc}")

        return tick

    def _syncer(self) -> Syncer | None:
        central = self.config.central
        if central.url is None or self.store is None or self.runtime is None:
            return None
        if central.token is None:
            self.runtime.central.configured = True
            self.runtime.central.auth_failed = True
            self.runtime.central.last_error = "no station token: set LTA_AGENT_CENTRAL_TOKEN"
            logger.error("central.url is set but there is no token; results are kept locally")
            return None
        self.client = CentralClient(
            central.url, central.token.get_secret_value(), central.ca_bundle
        )
        return Syncer(
            store=self.store,
            runtime=self.runtime,
            client=self.client,
            state=self.runtime.central,
            batch_size=central.batch_size,
        )

    def _guarded_sync(self, syncer: Syncer):  # type: ignore[no-untyped-def]
        def sync() -> None:
            if self.stop_event.is_set():
                return
            try:
                syncer.run(self.stop_event)
                if self.spec_fetcher is not None:
                    self.spec_fetcher.run()
            except Exception as exc:  # the job must survive to try again
                logger.exception("Sync round failed")
                syncer.state.last_error = f"sync error: {exc}"

        return sync

    def _reanalyse_later(self, push: SpecPush) -> None:
        """QA asked, with a spec change, to re-judge a window of recent units: in the
        background, one model at a time, through the same path as `lta-agent reanalyze`."""
        if self.store is None or self.analyser is None:
            return
        store, settings = self.store, self.analyser.settings
        since = (datetime.now(UTC) - timedelta(days=push.reanalyse_days)).date()
        reason = f"spec table {push.table.version}"
        cache_dir = kernel_cache.worker_cache_dir(self.config.storage.data_dir)

        def work() -> None:
            from agent import reanalysis

            try:
                with reanalysis.isolated(settings, cache_dir) as analyse:
                    for model in push.reanalyse_models:
                        if self.stop_event.is_set():
                            return
                        options = reanalysis.Options(since=since, model=model, reason=reason)
                        summary = reanalysis.reanalyse(store, analyse, options)
                        logger.info("Re-analysis for {} ({}): {}", model, reason, summary.line())
            except Exception:  # a background job: the next spec change may try again
                logger.exception("Re-analysis after a spec change failed")

        threading.Thread(target=work, name="lta-spec-reanalysis", daemon=True).start()

    @property
    def page_url(self) -> str:
        host = self.config.bind_host
        shown = "localhost" if host in ("0.0.0.0", "::", "127.0.0.1") else host  # noqa: S104
        if ":" in shown:
            shown = f"[{shown}]"
        return f"http://{shown}:{self.config.bind_port}/"

    def serve_forever(self) -> None:
        assert self.server is not None  # noqa: S101 - start() first
        self.server.run()

    def stop(self) -> None:
        """Stop taking new work, finish the file in hand, close everything."""
        self.stop_event.set()
        if self.server is not None:
            self.server.close()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        if self.client is not None:
            self.client.close()
        with self._start_lock:  # a worker still starting closes itself (_start_analysis)
            if self.analyser is not None:
                self.analyser.close()
        self._save_state()
        if self.store is not None:
            self.store.close()
        logger.info("Agent stopped")


def run_agent(config: AgentConfig) -> int:
    log_file = config.log_dir / "agent.log"
    setup_logging(config.logging.level, log_file, sink=RotatingLog(log_file, platform=host()))
    service = AgentService(config)
    exit_on_signals()  # before the start: a stop signal during a slow first start stops cleanly
    try:
        service.start()
    except LtaError:
        service.stop()
        raise
    except (SystemExit, KeyboardInterrupt):
        service.stop()
        return 0
    print(f"Laser Trim Analyzer agent running: {service.page_url}", flush=True)
    try:
        with contextlib.suppress(SystemExit, KeyboardInterrupt):  # the stop signals
            service.serve_forever()
    finally:
        service.stop()
    return 0
