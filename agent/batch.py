"""Analyse many files, each worker a supervised child process (agent/isolation.py)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from agent.isolation import IsolatedAnalyser
from agent.parsing.filenames import is_candidate
from shared.analysis_settings import AnalysisSettings
from shared.models import FileResult


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


def analyse_paths(
    files: list[Path], settings: AnalysisSettings, workers: int | None = None
) -> Iterator[FileResult]:
    """Results in the order of files. Each thread drives its own child process.

    fork starts a worker in milliseconds where the OS has it; on Windows agent.seam
    gives spawn, and workers load their kernels from the disk cache.
    """
    workers = default_workers() if workers is None else max(1, workers)
    workers = max(1, min(workers, len(files)))
    local = threading.local()
    analysers: list[IsolatedAnalyser] = []
    lock = threading.Lock()

    def analyse(path: Path) -> FileResult:
        analyser = getattr(local, "analyser", None)
        if analyser is None:
            analyser = IsolatedAnalyser(settings, start_method="fork")
            local.analyser = analyser
            with lock:
                analysers.append(analyser)
        return analyser.analyse(path)

    try:
        with ThreadPoolExecutor(workers, thread_name_prefix="lta-analyse") as pool:
            yield from pool.map(analyse, files)
    finally:
        for analyser in analysers:
            analyser.close()
