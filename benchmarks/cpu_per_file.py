"""CPU time per real file of whichever `agent` package comes first on sys.path.

Run as a script by benchmarks/before.py, once with this checkout and once with
an older one on PYTHONPATH, so both are measured by the same code. Each figure
is the sum over files of each file's least thread CPU time over the rounds:
thread CPU time leaves out the time the process waits for the core, and the
least of several rounds leaves out cache misses caused by other processes, so
two checkouts compare fairly on a machine that is busy with something else.

Two figures per checkout:
- `station_ms_per_file`: the path a station file takes in the agent: the
  watcher's SHA-256 (it skips files it already knows), then the analysis as
  the worker runs it, handed that digest where the checkout's
  `analyse_content` takes one (older ones hash the bytes again).
- `analysis_ms_per_file`: `analyse_content` alone, hashing the bytes itself.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _least(
    contents: list[tuple[Path, bytes]], work: Callable[[Path, bytes], Any], rounds: int
) -> float:
    least = [float("inf")] * len(contents)
    for _ in range(rounds):
        for i, (path, content) in enumerate(contents):
            start = time.thread_time()
            work(path, content)
            least[i] = min(least[i], time.thread_time() - start)
    return 1e3 * sum(least) / len(contents)


def measure(folder: Path, rounds: int) -> dict[str, float]:
    from agent.analysis.file import analyse_content
    from shared.analysis_settings import AnalysisSettings

    contents = [(p, p.read_bytes()) for p in sorted(folder.glob("*.xls*"))]
    settings = AnalysisSettings(include_curves=False)
    takes_digest = "sha256" in inspect.signature(analyse_content).parameters

    def analysis(path: Path, content: bytes) -> object:
        return analyse_content(path, content, settings)

    def station(path: Path, content: bytes) -> object:
        digest = hashlib.sha256(content).hexdigest()  # the watcher's, before it hands the file on
        if takes_digest:
            return analyse_content(path, content, settings, sha256=digest)
        return analyse_content(path, content, settings)

    for path, content in contents:  # compiles (or loads) the kernels
        analysis(path, content)
    return {
        "files": len(contents),
        "station_ms_per_file": _least(contents, station, rounds),
        "analysis_ms_per_file": _least(contents, analysis, rounds),
    }


if __name__ == "__main__":
    # Run as a script, this folder is first on sys.path, and benchmarks/agent.py would
    # stand in for the agent package.
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    print(json.dumps(measure(Path(sys.argv[1]), int(sys.argv[2]))))
