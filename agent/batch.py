"""Analyse many files, in parallel when there are enough of them to pay for it."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from agent.analysis.file import analyse_file, is_candidate
from agent.analysis.warmup import warm_up
from shared.analysis_settings import AnalysisSettings
from shared.models import FileResult

MIN_FILES_PER_WORKER = 8
CHUNK_SIZE = 8

_worker_settings: AnalysisSettings | None = None


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """Files named directly are taken as given; folders are searched recursively."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and is_candidate(p)))
        else:
            found.append(path)
    return found


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def _init_worker(settings: AnalysisSettings) -> None:
    global _worker_settings  # one settings object per worker process
    _worker_settings = settings
    warm_up()


def _analyse_in_worker(path: Path) -> FileResult:
    return analyse_file(path, _worker_settings)


def analyse_paths(
    files: list[Path], settings: AnalysisSettings, workers: int | None = None
) -> Iterator[FileResult]:
    """Results in the order of files; a process pool only when each worker gets real work."""
    workers = default_workers() if workers is None else max(1, workers)
    warm_up()
    if workers == 1 or len(files) < 2 * MIN_FILES_PER_WORKER:
        for path in files:
            yield analyse_file(path, settings)
        return
    workers = min(workers, len(files) // MIN_FILES_PER_WORKER)
    with multiprocessing.get_context(_start_method()).Pool(
        workers, initializer=_init_worker, initargs=(settings,)
    ) as pool:
        yield from pool.imap(_analyse_in_worker, files, chunksize=CHUNK_SIZE)


def _start_method() -> str:
    """fork lets workers inherit loaded kernels; elsewhere they load them from the disk cache."""
    return "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
