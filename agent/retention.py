"""The retention job: keeps a station's store bounded over years of unattended running.

Every few minutes (an APScheduler job in the service) it prunes delivered
results older than `storage.retention_days` (agent.store.pruning says what
exactly), drops tombstones of files that are gone from their folder, and gives
the freed space back to the disk with incremental vacuum. Every step is a
small writer call with a short pause after it, so a verdict waiting to be
stored waits for one batch at most, and the page (reading its WAL snapshot)
never waits at all. A run stops at its time budget and the next run carries
on, so a first run over a year of results is spread out rather than one long
pause.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from loguru import logger

from agent.seam import ErrorKind, Platform, host
from agent.store import pruning
from agent.store.codec import iso
from agent.store.database import StoreFullError
from agent.store.store import Store

BATCH_RESULTS = 200  # results per transaction: a few ms each
VACUUM_PAGES = 256  # pages (1 MiB at 4 KiB pages) given back per step
TOMBSTONE_CHECKS = 500  # paths looked at per run; the cursor goes round over many runs
RUN_EVERY_S = 600.0
FIRST_RUN_AFTER_S = 60.0


@dataclass
class RetentionReport:
    curves: int = 0  # results whose curves were dropped
    results: int = 0  # results deleted
    tombstones: int = 0  # files rows dropped (file gone from its folder)
    pages_left: int | None = None  # free pages still in the file after vacuum
    seconds: float = 0.0
    complete: bool = True  # False when the budget, a stop or a full disk cut it short

    @property
    def changed(self) -> bool:
        return bool(self.curves or self.results or self.tombstones)


@dataclass
class Retention:
    store: Store
    days: int
    inboxes: list[Path]
    batch_size: int = BATCH_RESULTS
    vacuum_pages: int = VACUUM_PAGES
    tombstone_checks: int = TOMBSTONE_CHECKS
    pause_s: float = 0.005  # after each writer call: queued verdicts go first
    budget_s: float = 30.0
    clock: Callable[[], float] = time.monotonic
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    platform: Platform = field(default_factory=host)
    _tombstone_after: int = 0
    # Where each pass of an unfinished round got to: the next round carries on from there
    # rather than walking again over results whose curves it already dropped.
    _resume: dict[str, pruning.Position] = field(default_factory=dict)

    def cutoff(self) -> str:
        return iso(self.now() - timedelta(days=self.days))

    def run(self, stop: threading.Event | None = None) -> RetentionReport:
        """One round; returns what it did. Does nothing when days is 0 (keep forever)."""
        report = RetentionReport()
        if self.days <= 0:
            return report
        started = self.clock()
        deadline = started + self.budget_s

        def go_on() -> bool:
            return self.clock() < deadline and not (stop is not None and stop.is_set())

        cutoff = self.cutoff()
        try:
            report.complete = (
                self._pass(pruning.prune_curves, cutoff, go_on, report, "curves")
                and self._pass(pruning.prune_rows, cutoff, go_on, report, "results")
                and self._tombstones(cutoff, go_on, report)
                and self._vacuum(go_on, report)
            )
        except StoreFullError:
            report.complete = False  # the disk is full: the next round tries again
        if report.complete:
            self._resume.clear()  # the next round starts a new cycle from the oldest
        report.seconds = round(self.clock() - started, 3)
        if report.changed:
            logger.info(
                "Retention ({} days): curves of {} result(s) and {} result(s) pruned, {} "
                "tombstone(s) dropped in {} s",
                self.days,
                report.curves,
                report.results,
                report.tombstones,
                report.seconds,
            )
        return report

    def _pass(
        self,
        step: Callable[..., pruning.Batch],
        cutoff: str,
        go_on: Callable[[], bool],
        report: RetentionReport,
        counter: str,
    ) -> bool:
        """Batches of one kind, oldest first, until none are left (True) or time is up."""
        position = self._resume.get(counter, pruning.Position())
        done = False
        while not done and go_on():
            batch = self.store.writer.call(
                functools.partial(step, cutoff=cutoff, after=position, limit=self.batch_size)
            )
            setattr(report, counter, getattr(report, counter) + batch.count)
            position, done = batch.position, batch.done
            time.sleep(self.pause_s)
        self._resume[counter] = position
        return done

    def _vacuum(self, go_on: Callable[[], bool], report: RetentionReport) -> bool:
        while go_on():
            left = self.store.writer.call(lambda conn: pruning.vacuum_step(conn, self.vacuum_pages))
            report.pages_left = left
            time.sleep(self.pause_s)
            if left == 0 or not self.store.incremental_vacuum:
                return True
        return False

    def _tombstones(self, cutoff: str, go_on: Callable[[], bool], report: RetentionReport) -> bool:
        """Drop tombstones of files gone from a watched folder that is itself reachable.

        A folder that cannot be listed (network share down) says nothing about its
        files, so their tombstones stay. So do those of files outside every watched
        folder (the inbox was moved): if the folder comes back under its new name,
        its old files are still recognised by their SHA-256.
        """
        if not go_on():
            return False
        rows = pruning.tombstones(
            self.store.read(), cutoff, self._tombstone_after, self.tombstone_checks
        )
        self._tombstone_after = rows[-1][0] if len(rows) == self.tombstone_checks else 0
        reachable = {inbox: self._reachable(inbox) for inbox in self.inboxes}
        gone = [pk for pk, path in rows if self._gone(Path(path), reachable)]
        report.tombstones += self.store.writer.call(
            lambda conn: pruning.drop_tombstones(conn, gone)
        )
        return True

    def _reachable(self, inbox: Path) -> bool:
        try:
            self.platform.stat(inbox)
        except OSError:
            return False
        return True

    def _gone(self, path: Path, reachable: dict[Path, bool]) -> bool:
        for inbox, ok in reachable.items():
            if path.is_relative_to(inbox):
                return ok and self._missing(path)
        return False

    def _missing(self, path: Path) -> bool:
        """True only when the file certainly is not there.

        Not for "access denied", and not for "network path not found": Windows
        reports a share blip as FileNotFoundError (WinError 53/67), and taking it
        for "gone" would forget every file of the share, to be analysed again when
        it returns. agent.seam tells them apart.
        """
        try:
            self.platform.stat(path)
        except OSError as exc:
            return self.platform.classify(exc) is ErrorKind.MISSING
        return False
