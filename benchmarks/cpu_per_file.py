"""CPU time per real file of whichever `agent` package comes first on sys.path.

Run as a script by benchmarks/before.py, once with this checkout and once with
an older one on PYTHONPATH, so both are measured by the same code. The figure
is the sum over files of each file's least thread CPU time over the rounds:
thread CPU time leaves out the time the process waits for the core, and the
least of several rounds leaves out cache misses caused by other processes, so
two checkouts compare fairly on a machine that is busy with something else.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def measure(folder: Path, rounds: int) -> dict[str, float]:
    from agent.analysis.file import analyse_content
    from shared.analysis_settings import AnalysisSettings

    contents = [(p, p.read_bytes()) for p in sorted(folder.glob("*.xls*"))]
    settings = AnalysisSettings(include_curves=False)
    for path, content in contents:  # compiles (or loads) the kernels
        analyse_content(path, content, settings)
    least = [float("inf")] * len(contents)
    for _ in range(rounds):
        for i, (path, content) in enumerate(contents):
            start = time.thread_time()
            analyse_content(path, content, settings)
            least[i] = min(least[i], time.thread_time() - start)
    return {"files": len(contents), "ms_per_file": 1e3 * sum(least) / len(contents)}


if __name__ == "__main__":
    # Run as a script, this folder is first on sys.path, and benchmarks/agent.py would
    # stand in for the agent package.
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    print(json.dumps(measure(Path(sys.argv[1]), int(sys.argv[2]))))
