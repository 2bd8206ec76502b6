"""Real-file throughput of this checkout against an earlier commit, on the same machine.

"Within 90 % of today's" needs today's figure measured beside ours, not a
number remembered from another day: this section checks the earlier commit
out into a temporary git worktree, and runs benchmarks/cpu_per_file.py against
it and against this checkout in turn, three times each, keeping each side's
best: the station path (the watcher's hash, then read, every pass analysed,
results built) and the analysis alone. The earlier commit defaults to the
last one before spec-aware verdicts; LTA_BENCH_BEFORE names another.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.real_truth import IN_REPO, SHARED_SAMPLES

BEFORE = "169c318"  # the last commit before spec-aware verdicts (issue 12)
ROUNDS = 6
TURNS = 3
ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(__file__).resolve().parent / "cpu_per_file.py"


def _measure(tree: Path, folder: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(folder), str(ROUNDS)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, float] = json.loads(done.stdout.splitlines()[-1])
    return figures


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def run() -> list[tuple[str, str]]:
    before = os.environ.get("LTA_BENCH_BEFORE", BEFORE)
    folder = SHARED_SAMPLES if SHARED_SAMPLES.is_dir() else IN_REPO
    if _git("cat-file", "-e", f"{before}^{{commit}}").returncode != 0:
        return [(f"commit {before}", "not in this clone's history: section skipped")]
    with tempfile.TemporaryDirectory(prefix="lta-before-") as scratch:
        tree = Path(scratch) / "tree"
        _git("worktree", "add", "--detach", str(tree), before).check_returncode()
        try:
            ours: dict[str, float] = {}
            theirs: dict[str, float] = {}
            for _ in range(TURNS):
                for best, tree_ in ((theirs, tree), (ours, ROOT)):
                    for key, value in _measure(tree_, folder).items():
                        best[key] = min(best.get(key, float("inf")), value)
        finally:
            _git("worktree", "remove", "--force", str(tree))
    count = len(list(folder.glob("*.xls*")))
    rows = [
        (f"real files: {count} from {folder.name}, best of {TURNS} x {ROUNDS} rounds", "CPU time")
    ]
    for key, label in (
        ("station_ms_per_file", "station path"),
        ("analysis_ms_per_file", "analysis"),
    ):
        rows += [
            (f"{label}: before ({before})", f"{theirs[key]:6.3f} ms/file"),
            (f"{label}: this checkout", f"{ours[key]:6.3f} ms/file"),
            (f"  {label} throughput against before", f"{100.0 * theirs[key] / ours[key]:5.1f} %"),
        ]
    return rows
