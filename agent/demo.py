"""`make run`: the product's main job with an embedded default.

Simulates a trim station writing result files into a temporary inbox and
analyses each one, printing the operator's verdict line and a shift summary.
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from pathlib import Path

from agent.batch import analyse_paths
from agent.report import format_line
from agent.simulate import simulate_station
from shared.analysis_settings import AnalysisSettings

DEMO_UNITS = 60


def run_demo(count: int = DEMO_UNITS, seed: int = 1) -> Counter[str]:
    with tempfile.TemporaryDirectory(prefix="lta-demo-inbox-") as inbox:
        files = simulate_station(Path(inbox), count=count, seed=seed)
        print(f"Simulated station wrote {len(files)} files into {inbox}\n")
        counts: Counter[str] = Counter()
        for result in analyse_paths(files, AnalysisSettings(include_curves=False), workers=1):
            counts[result.status.value] += 1
            print(format_line(result))
    total = sum(counts.values())
    summary = ", ".join(f"{status} {n}" for status, n in sorted(counts.items()))
    passed = counts["Pass"] + counts["Warning"]
    print(f"\n{total} units: {summary}; yield {100.0 * passed / max(total, 1):.1f}%")
    return counts


if __name__ == "__main__":
    run_demo()
    sys.exit(0)
