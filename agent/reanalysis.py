"""Re-analysis: stored files run again under today's analysis and specs (`lta-agent reanalyze`).

Each stored result is re-read from its file (found by its stored path, or where
the watcher archived it), verified by SHA-256, analysed through the same path as
every other file (agent.analysis.file.analyse_content, in the supervised worker),
and compared with what is stored. A result whose document would change in
anything but the analysis time and the agent build (verdict, any figure, the
analysis version, the spec version) becomes a new revision of the same result:
the stored one is kept in result_revisions, the new one replaces it and is
queued for central again (shared/protocol.py `revision`). Nothing else changes.

A file that is gone, or whose bytes no longer have the stored SHA-256, is
reported and skipped: its stored result stays exactly as it is. So does a file
that re-analysis cannot read any more (a new Error where the stored verdict was
not one), so a busy or broken moment never overwrites a verdict.

Candidates are read a page at a time by pk (keyset), the `--since` and
`--model` filters in SQL, and each page's revisions are written in one
transaction by the store's writer: the cost per file is the same in a store of
any size, and the running agent's writes wait for at most one page.
docs/decisions/0018-revisions.md has the design.
"""

from __future__ import annotations

import glob
import hashlib
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from agent.store import reads, writes
from agent.store.store import Store
from shared.analysis_settings import AnalysisSettings
from shared.models import FileResult, Status, document_json

# (path, its bytes, their verified SHA-256), as agent.watcher.Analyse.
Analyse = Callable[[Path, bytes, str], FileResult]
Kind = Literal["revised", "unchanged", "missing", "changed", "failed"]

PAGE = 50  # results read, analysed and written per transaction
MAX_REASON = 500  # characters of an operator's --reason (the wire allows 2000)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Outcome:
    """What re-analysis did with one stored result."""

    kind: Kind
    file_name: str
    path: str
    detail: str
    revision: int | None = None  # the new revision, for kind == "revised"
    verdict_changed: bool = False


@dataclass
class Summary:
    reanalysed: int = 0  # files found, verified and analysed again
    revised: int = 0  # ... whose result became a new revision
    verdict_changed: int = 0  # ... among them, with another verdict
    unchanged: int = 0  # ... whose result would not change
    missing: int = 0  # files gone from their stored path (and the archive)
    changed: int = 0  # files whose bytes no longer have the stored SHA-256
    failed: int = 0  # files re-analysis could not read: their verdict is kept
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def problems(self) -> int:
        return self.missing + self.changed + self.failed

    def add(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        if outcome.kind in ("revised", "unchanged"):
            self.reanalysed += 1
        if outcome.kind == "revised":
            self.revised += 1
            self.verdict_changed += int(outcome.verdict_changed)
        else:
            setattr(self, outcome.kind, getattr(self, outcome.kind) + 1)

    def line(self) -> str:
        return (
            f"{self.reanalysed} re-analysed: {self.revised} revised "
            f"({self.verdict_changed} with another verdict), {self.unchanged} unchanged; "
            f"{self.missing} missing, {self.changed} changed on disk, {self.failed} unreadable"
        )


@dataclass(frozen=True)
class Options:
    since: date | None = None
    model: str | None = None
    reason: str | None = None  # the operator's words; the automatic reason follows them
    dry_run: bool = False
    page: int = PAGE
    workers: int = 1

    def __post_init__(self) -> None:
        if self.reason is not None and len(self.reason) > MAX_REASON:
            raise ValueError(f"a reason is at most {MAX_REASON} characters")


# --------------------------------------------------------------------------- finding the file


@dataclass(frozen=True)
class Locator:
    """Where a stored file may be now: its stored path, or the watcher's archive."""

    inboxes: Sequence[Path] = ()
    archive_dir: Path | None = None

    def candidates(self, stored: Path) -> Iterator[Path]:
        yield stored
        if self.archive_dir is None:
            return
        folder = self.archive_dir  # agent.watcher.Watcher._archive puts it here
        for inbox in self.inboxes:
            if stored.is_relative_to(inbox):
                folder = self.archive_dir / stored.parent.relative_to(inbox)
                break
        yield folder / stored.name
        pattern = f"{glob.escape(stored.stem)} (*){glob.escape(stored.suffix)}"
        yield from sorted(folder.glob(pattern))  # renamed on a name clash

    def find(self, stored: str, sha256: str, size: int) -> tuple[bytes | None, Kind | None, str]:
        """The file's bytes if a copy with this SHA-256 is found; else why not."""
        seen: list[str] = []
        for path in self.candidates(Path(stored)):
            try:
                if not path.is_file():
                    continue
                seen.append(str(path))
                if path.stat().st_size != size:
                    continue
                content = path.read_bytes()
            except OSError as exc:
                return None, "failed", f"{path} cannot be read ({exc.strerror or exc})"
            if hashlib.sha256(content).hexdigest() == sha256:
                return content, None, str(path)
        if not seen:
            return None, "missing", f"{stored} is gone (nothing stored was changed)"
        return (
            None,
            "changed",
            (
                f"{', '.join(seen)} no longer holds the file that was analysed (its SHA-256 "
                "differs); nothing stored was changed"
            ),
        )


# --------------------------------------------------------------------------- deciding


def comparable(result: FileResult) -> str:
    """The document without what differs on every run (the time, the agent's build)."""
    return document_json(result.model_copy(update={"analysed_at": _EPOCH, "agent_version": ""}))


def why(old: FileResult, new: FileResult) -> str:
    """What changed, in words for the revision list ("->": any console prints it)."""
    parts = []
    if old.analysis_version != new.analysis_version:
        parts.append(f"analysis {old.analysis_version} -> {new.analysis_version}")
    if old.spec_version != new.spec_version:
        parts.append(f"specs {old.spec_version or 'none'} -> {new.spec_version or 'none'}")
    if old.status != new.status:
        parts.append(f"verdict {old.status.value} -> {new.status.value}")
    else:
        parts.append("figures changed" if old.status is not Status.ERROR else "error changed")
    return "re-analysed: " + ", ".join(parts)


def decide(
    row: dict[str, Any], content: bytes, analyse: Analyse, reason: str | None
) -> tuple[Outcome, writes.Revision | None]:
    """Analyse the verified bytes under today's rules and compare with the stored result."""
    old = FileResult.model_validate_json(row["document"])
    new = analyse(Path(row["path"]), content, row["sha256"])
    name, path = old.file_name, row["path"]
    if new.status is Status.ERROR and old.status is not Status.ERROR:
        detail = new.error.message if new.error else "no verdict"
        return Outcome("failed", name, path, f"{detail} (the stored verdict is kept)"), None
    if new.sha256 != row["sha256"]:  # pragma: no cover - the bytes were verified above
        return Outcome("changed", name, path, "the analysed bytes differ"), None
    if comparable(new) == comparable(old):
        return Outcome("unchanged", name, path, f"{old.status.value}, unchanged"), None
    text = why(old, new)
    full = f"{reason} ({text})" if reason else text
    outcome = Outcome(
        "revised",
        name,
        path,
        text,
        revision=int(row["revision"]) + 1,
        verdict_changed=old.status != new.status,
    )
    return outcome, writes.Revision(int(row["pk"]), int(row["revision"]), new, full)


# --------------------------------------------------------------------------- running


def reanalyse(
    store: Store,
    analyse: Analyse,
    options: Options,
    locator: Locator | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> Summary:
    """Re-analyse every stored result the options select; see the module docstring."""
    locator = locator or Locator()
    summary = Summary()
    since = options.since.isoformat() if options.since else None

    def one(row: dict[str, Any]) -> tuple[Outcome, writes.Revision | None]:
        old_name = Path(row["path"]).name
        content, kind, detail = locator.find(row["path"], row["sha256"], row["size_bytes"])
        if content is None:
            return Outcome(kind or "missing", old_name, row["path"], detail), None
        return decide(row, content, analyse, options.reason)

    after = 0
    with ThreadPoolExecutor(max(1, options.workers), thread_name_prefix="lta-reanalyse") as pool:
        while True:
            rows = reads.revision_candidates(
                store.read(), after, options.page, since=since, model=options.model
            )
            if not rows:
                break
            after = int(rows[-1]["pk"])
            decided = list(pool.map(one, rows))
            revisions = [revision for _, revision in decided if revision is not None]
            written: set[int] = set()
            if revisions and not options.dry_run:
                written = set(_write(store, revisions))
            for outcome, revision in decided:
                lost = revision is not None and revision.result_pk not in written
                if lost and not options.dry_run:
                    outcome = Outcome(  # revised meanwhile by another run: left to it
                        "unchanged", outcome.file_name, outcome.path, "revised meanwhile"
                    )
                summary.add(outcome)
                if on_outcome is not None:
                    on_outcome(outcome)
    return summary


def _write(store: Store, revisions: list[writes.Revision]) -> list[int]:
    return store.writer.call(lambda conn: writes.record_revisions(conn, revisions))


@contextmanager
def isolated(settings: AnalysisSettings, kernel_cache_dir: Path | None = None) -> Iterator[Analyse]:
    """The supervised worker (agent.isolation), one per thread, as `analyse`."""
    from agent.isolation import IsolatedAnalyser

    local = threading.local()
    started: list[IsolatedAnalyser] = []
    lock = threading.Lock()

    def analyse(path: Path, content: bytes, sha256: str) -> FileResult:
        analyser = getattr(local, "analyser", None)
        if analyser is None:
            analyser = IsolatedAnalyser(
                settings,
                start_method="fork",  # agent.seam gives spawn where there is no fork
                kernel_cache_dir=kernel_cache_dir,
            )
            local.analyser = analyser
            with lock:
                started.append(analyser)
        return analyser.analyse(path, content, sha256)

    try:
        yield analyse
    finally:
        for analyser in started:
            analyser.close()
