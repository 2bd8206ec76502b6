"""Analysis-core figures: parse time, per-track kernels vs numpy/scipy, files/s, cache reuse."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from agent.analysis import linearity, shape
from agent.analysis import sigma as sigma_kernels
from agent.analysis.track import analyse_track
from agent.analysis.warmup import warm_up
from agent.batch import analyse_paths, collect_files
from agent.parsing.layout import SheetData, TrackData
from agent.parsing.reader import parse_workbook
from agent.simulate import simulate_station
from benchmarks import reference
from shared.analysis_settings import AnalysisSettings

CORPUS_FILES = 500


def _per_call_us(fn: Callable[[], object], repeat: int) -> float:
    fn()
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeat):
            fn()
        best = min(best, (time.perf_counter() - start) / repeat)
    return best * 1e6


def _track_600(failing: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    positions = np.linspace(0.0, 340.0, 600)
    errors = 0.002 * np.sin(positions / 40.0) + rng.normal(0, 0.0003, 600)
    if failing:
        errors[100] += 0.03
        errors[400] -= 0.03
    upper = np.full(600, 0.01)
    lower = -upper
    upper[:5] = np.nan
    return positions, errors, upper, lower


def _kernels(
    positions: np.ndarray, errors: np.ndarray, upper: np.ndarray, lower: np.ndarray
) -> None:
    spec = shape.linearity_spec(upper, lower)
    threshold = sigma_kernels.sigma_threshold(spec, 340.0)
    sigma_kernels.sigma_gradient(positions, errors)
    c = linearity.optimal_offset(errors, upper, lower)
    linearity.count_failures(errors, upper, lower, c)
    linearity.count_failures(errors, upper, lower, 0.0)
    linearity.strict_margins(errors, upper, lower, c, 2 * spec)
    linearity.max_abs_shifted(errors, c)
    shape.is_anomaly(positions, errors, threshold)
    shape.rms(errors)


def track_figures() -> list[tuple[str, str]]:
    warm_up()
    rows = []
    for label, failing in (("passing", False), ("failing", True)):
        arrays = _track_600(failing)
        numba_us = _per_call_us(lambda a=arrays: _kernels(*a), 2000)
        ref_us = _per_call_us(lambda a=arrays: reference.analyse(*a), 300)
        sheet = SheetData(*arrays, resistance=1000.0)
        track = TrackData("TRK1", trimmed=sheet, untrimmed=sheet)
        full_us = _per_call_us(lambda t=track: analyse_track(t, include_curve=False), 500)
        curve_us = _per_call_us(lambda t=track: analyse_track(t), 500)
        rows += [
            (f"600-point {label} track, Numba kernels", f"{numba_us:8.1f} us"),
            (f"600-point {label} track, numpy/scipy reference", f"{ref_us:8.1f} us"),
            (f"600-point {label} track, full TrackResult (no curve)", f"{full_us:8.1f} us"),
            (f"600-point {label} track, full TrackResult with curve", f"{curve_us:8.1f} us"),
        ]
    return rows


def _corpus(folder: Path) -> list[Path]:
    simulate_station(folder, count=CORPUS_FILES, seed=42)
    return collect_files([folder])


def parse_figures(files: list[Path]) -> list[tuple[str, str]]:
    rows = []
    for suffix in (".xlsx", ".xls"):
        chosen = [p for p in files if p.suffix == suffix]
        times = []
        for path in chosen:
            content = path.read_bytes()
            start = time.perf_counter()
            parse_workbook(path, content, 100_000)
            times.append(time.perf_counter() - start)
        sizes = statistics.median(p.stat().st_size for p in chosen) / 1024
        rows.append(
            (
                f"parse {suffix:<5} ({len(chosen)} files, median {sizes:.0f} KiB)",
                f"median {statistics.median(times) * 1e3:6.2f} ms, "
                f"p95 {np.percentile(times, 95) * 1e3:6.2f} ms",
            )
        )
    return rows


def throughput_figures(folder: Path, files: list[Path]) -> list[tuple[str, str]]:
    settings = AnalysisSettings(include_curves=False)
    rows = []
    for workers in (1, os.cpu_count() or 1):
        list(analyse_paths(files[:20], settings, workers=1))  # warm the page cache
        start = time.perf_counter()
        results = list(analyse_paths(files, settings, workers=workers))
        elapsed = time.perf_counter() - start
        rows.append(
            (
                f"analyze {len(results)} files in-process, --workers {workers}",
                f"{len(results) / elapsed:7.1f} files/s",
            )
        )
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "agent.cli", "analyze", str(folder), "--json", "--workers", "1"],
        check=False,
        stdout=subprocess.DEVNULL,
    )
    elapsed = time.perf_counter() - start
    rows.append(
        (
            f"lta-agent analyze {len(files)} files --workers 1 (incl. process start)",
            f"{len(files) / elapsed:7.1f} files/s ({elapsed:.2f} s)",
        )
    )
    return rows


def cache_figures() -> list[tuple[str, str]]:
    """First process compiles into an empty cache; the second must only load it."""
    probe = (
        "import time; t = time.perf_counter(); "
        "from agent.analysis.warmup import warm_up; warm_up(); "
        "print(time.perf_counter() - t)"
    )
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for label in ("first process (empty cache, compiles)", "second process (cache hit)"):
            done = subprocess.run(
                [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
            )
            rows.append((f"kernel load, {label}", f"{float(done.stdout):7.2f} s"))
    return rows


def run() -> list[tuple[str, str]]:
    rows = track_figures()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = _corpus(folder)
        rows += parse_figures(files)
        rows += throughput_figures(folder, files)
    rows += cache_figures()
    return rows
