"""Load (or compile, on the very first run) every kernel before real files arrive.

With `cache=True` a later process only loads machine code from disk; doing it
up front keeps that cost out of the first operator-visible verdict and lets
forked workers inherit ready kernels. The report says how many kernels came
from the disk cache and how many were compiled, so a restart that compiled
anything (a cache in the wrong place) is visible in the log.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

from agent.analysis import linearity, rotation, shape, sigma
from agent.analysis.track import analyse_track
from agent.parsing.layout import SheetData, TrackData


def kernel_counts() -> tuple[int, int]:
    """(loaded from the disk cache, compiled) over every kernel this process has used."""
    loaded = compiled = 0
    for name, module in list(sys.modules.items()):
        if not name.startswith("agent.analysis.") or module is None:
            continue
        for value in vars(module).values():
            stats = getattr(value, "stats", None)
            if stats is None or not hasattr(stats, "cache_hits"):
                continue
            loaded += sum(stats.cache_hits.values())
            compiled += sum(stats.cache_misses.values())
    return loaded, compiled


def warm_up() -> dict[str, Any]:
    """Run every kernel once; returns `loaded`, `compiled` and `seconds`."""
    started = time.perf_counter()
    positions = np.linspace(0.0, 100.0, 40)
    errors = 0.001 * np.sin(positions / 7.0)
    upper = np.full(40, 0.002)
    lower = -upper
    upper[5] = np.nan
    theory = np.linspace(0.0, 10.0, 40)
    judged = np.ones(40, dtype=np.bool_)
    judged[0] = False
    _every_rotation_kernel(errors * 5.0, theory, upper, lower, judged)
    # The anomaly test with a trim history, leaves first (see _every_rotation_kernel).
    shape.line_fit_r_squared(positions, errors)
    shape.trim_change(positions, errors, positions, errors * 2.0)
    shape.trim_change(positions, errors, positions[:-1], errors[:-1])
    shape.is_anomaly(positions, errors, 1e-4)
    shape.is_untrimmed_anomaly(positions, positions * 1e-3, 1e-4, positions, positions * 2e-3)
    shape.plausibility_figures(positions, errors, upper, lower, 1.0)
    sheet = SheetData(positions, errors, upper, lower, resistance=1000.0)
    analyse_track(TrackData("TRK1", trimmed=sheet, untrimmed=sheet))
    failing = SheetData(positions, errors * 5.0, upper, lower, resistance=None)
    analyse_track(TrackData("TRK1", trimmed=failing, untrimmed=None))
    # Rotation within a window: the feasible path and the exact fewest-failures search.
    rotation.best_rotation(errors, theory, upper, lower, judged, -0.01, 0.01)
    rotation.verdict_arrays(errors, theory, upper, lower, judged, -0.01, 0.01)
    rotation.best_rotation(errors * 5.0, theory, upper, lower, judged, -0.001, 0.001)
    # The plain wrappers too, so every cached kernel exists after one start (doctor checks all).
    sigma.sigma_gradient(positions, errors)
    linearity.strict_margins(errors, upper, lower, 0.0, 0.004)
    loaded, compiled = kernel_counts()
    return {
        "loaded": loaded,
        "compiled": compiled,
        "seconds": round(time.perf_counter() - started, 3),
    }


def _every_rotation_kernel(
    errors: np.ndarray,
    theory: np.ndarray,
    upper: np.ndarray,
    lower: np.ndarray,
    judged: np.ndarray,
) -> None:
    """Each rotation and linearity kernel called by itself, callees before callers.

    numba writes a kernel's disk cache only when the kernel is compiled for a
    direct call; one first compiled inside another kernel is never saved, so
    the leaves go first.
    """
    linearity.window(0.0, 1.0, 0.01, -0.01, 0.0)
    linearity._linearity_error(-0.01, 0.01, 0.0)
    linearity._closer(0.0, 0.001, -0.01, 0.01)
    low, high, constrained = linearity.offset_intervals(errors, theory, upper, lower, 0.0, judged)
    linearity.rotated_range(errors, theory, 0.0, judged)
    linearity.best_offset(low, high, constrained, -0.01, 0.01)
    linearity.outside(low, high, constrained, 0.0)
    linearity.failures(low, high, constrained, 0.0)
    linearity.fewest_at(errors, theory, upper, lower, 0.0, judged)
    linearity.max_abs_adjusted(errors, theory, 0.0, 0.0, judged)
    linearity.band_margins(low, high, constrained, upper, lower, 0.0, 0.004)
    linearity.strict_summary(errors, upper, lower)
    rotation._clamp_zero(-0.01, 0.01)
    rotation.n_lines_limit(40)
    lo, hi, live, _ = rotation._base_lines(errors, theory, upper, lower, judged)
    order = np.flatnonzero(live)
    rotation._sorted_max_cover(np.sort(lo[order]), np.sort(hi[order]))
    rotation._max_cover(lo[order], hi[order])
    rotation._by_slope(order, theory)
    hull, breaks = rotation._envelope(lo, -theory, live)
    rotation._at(hull, breaks, 0, 0.0)
    rotation.widest_rotation(lo, hi, theory, live, -0.01, 0.01)
    rotation._deepest_on_line(lo, hi, theory, live, int(order[0]), float(lo[order[0]]), -0.01, 0.01)
    rotation._live_failures(lo, hi, theory, live, 0.0)
    rotation._relaxed_bound(lo, hi, theory, live, -0.01, 0.01, 2, live.copy())
    rotation._solve_piece(lo, hi, theory, live, -0.01, 0.01, 3, 10)
    rotation.fewest_failures(errors, theory, upper, lower, judged, -0.01, 0.01, 0.0)
    rotation.best_rotation(errors, theory, upper, lower, judged, -0.01, 0.01)
    rotation.verdict_arrays(errors, theory, upper, lower, judged, -0.01, 0.01)
