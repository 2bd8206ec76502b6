"""The offset-and-rotation kernel: the budget is 100 us feasible, 1 ms infeasible (600 points).

Synthetic 600-point tracks with a station-like window (k within +/-0.6 %, and
a `wide` window of -47 %..+0.6 %), then every real track under its own
station rules (`../shared/real-samples`, else tests/data/real): the kernel
alone, as the verdict calls it, timed per track.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import numpy as np

from agent.analysis import rotation
from agent.analysis.track import _pass_plan
from agent.analysis.warmup import warm_up
from agent.parsing.reader import parse_workbook
from benchmarks.analysis import _per_call_us
from tests.real_truth import IN_REPO, IN_REPO_RULES, SHARED_SAMPLES

N = 600


def _track(kind: str) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(11)
    theory = np.linspace(0.0, 10.0, N)
    errors = 0.004 * np.sin(theory / 1.7) + rng.normal(0, 0.0004, N) + 0.0012 * theory - 0.006
    upper = np.full(N, 0.01)
    lower = -upper.copy()
    upper[:3] = np.nan
    if kind == "infeasible":  # a few points no rotation can save, scattered over the travel
        for i in (37, 150, 151, 333, 480):
            errors[i] += 0.05 * (1 if i % 2 else -1)
    judged = np.ones(N, dtype=np.bool_)
    judged[0] = judged[-1] = False
    return errors, theory, upper, lower, judged


def synthetic() -> list[tuple[str, str]]:
    rows = []
    cases = [
        ("feasible, window +/-0.6 %", "feasible", -0.006, 0.006),
        ("infeasible, window +/-0.6 %", "infeasible", -0.006, 0.006),
        ("infeasible, wide window -47 %..+0.6 %", "infeasible", -0.47, 0.006),
        ("strict (k = 0), infeasible", "infeasible", 0.0, 0.0),
    ]
    for label, kind, k_lo, k_hi in cases:
        arrays = _track(kind)
        k, _, fails = rotation.best_rotation(*arrays, k_lo, k_hi)
        us = _per_call_us(lambda a=arrays, lo=k_lo, hi=k_hi: rotation.best_rotation(*a, lo, hi), 50)
        rows.append((f"600-point {label}", f"{us:8.1f} us  ({fails} failing, k {k:+.5f})"))
    return rows


def _corpus() -> list[Path]:
    if SHARED_SAMPLES.is_dir():
        return sorted(SHARED_SAMPLES.glob("*.xls*"))
    return sorted([*IN_REPO.glob("*.xls*"), *IN_REPO_RULES.glob("*.xls*")])


def real_tracks() -> list[tuple[str, str]]:
    feasible: list[float] = []
    infeasible: list[float] = []
    points = []
    passes = [0, 0, 0]  # strict, rotation alone, rotation + ignored rows (the station's)
    for path in _corpus():
        parsed = parse_workbook(path, path.read_bytes(), 100_000)
        for track in parsed.tracks:
            sheet = track.final
            if sheet is None or sheet.errors.size < 10:
                continue
            plan = _pass_plan(track, sheet, None)
            args = (
                sheet.errors,
                sheet.theory_or_zero(),
                sheet.upper,
                sheet.lower,
                plan.judged(sheet.errors.size),
                plan.k_lo,
                plan.k_hi,
            )
            fails = rotation.best_rotation(*args)[2]
            everything = np.ones(sheet.errors.size, dtype=np.bool_)
            strict = rotation.best_rotation(*args[:4], everything, 0.0, 0.0)[2]
            rotated = rotation.best_rotation(*args[:4], everything, plan.k_lo, plan.k_hi)[2]
            passes[0] += strict == 0
            passes[1] += rotated == 0
            passes[2] += fails == 0
            us = _per_call_us(lambda a=args: rotation.best_rotation(*a), 20)
            (feasible if fails == 0 else infeasible).append(us)
            points.append(sheet.errors.size)
    rows = [
        (
            f"real tracks under their station rules ({len(points)})",
            f"{min(points)}-{max(points)} points",
        ),
        (
            "  passing: strict / rotation / rotation + ignored rows",
            f"{passes[0]} / {passes[1]} / {passes[2]}",
        ),
    ]
    for label, times in (("passing", feasible), ("failing", infeasible)):
        if times:
            rows.append(
                (
                    f"  {label} ({len(times)}): median / max",
                    f"{statistics.median(times):8.1f} / {max(times):8.1f} us",
                )
            )
    return rows


def run() -> list[tuple[str, str]]:
    warm_up()
    return synthetic() + real_tracks()
