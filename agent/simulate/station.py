"""A pretend trim station: writes result files into a folder the way a real one does.

Each file appears atomically: it is written under a `~$` temporary name in the same
folder (the prefix Office uses for its own temporary files, which watchers already
skip) and then renamed, so a watcher never sees half a file under the final name.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np

from agent.simulate.names import file_name, pick_format
from agent.simulate.units import UnitSpec, simulate_unit
from agent.simulate.writers import write_unit

DEFAULT_START = datetime(2024, 11, 22, 8, 0)

__all__ = ["DEFAULT_START", "UnitSpec", "simulate_station"]


def simulate_station(
    out_dir: Path,
    count: int,
    seed: int = 0,
    rate_per_minute: float | None = None,
    start: datetime | None = None,
    on_file: Callable[[Path], None] | None = None,
) -> list[Path]:
    """Write `count` simulated units into `out_dir` and return their paths in order.

    The same seed and start give the same names and contents. With
    `rate_per_minute`, files are paced against a monotonic schedule (no drift
    from slow writes); `on_file` is called after each file lands.
    """
    if rate_per_minute is not None and rate_per_minute <= 0:
        raise ValueError(f"rate_per_minute must be positive, got {rate_per_minute}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    begin = start or DEFAULT_START
    interval = 60.0 / rate_per_minute if rate_per_minute else 0.0
    t0 = time.monotonic()
    taken: set[str] = set()
    written: list[Path] = []
    for index in range(count):
        if interval and index:
            delay = t0 + index * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        spec = simulate_unit(rng, index, begin)
        fmt = pick_format(rng)
        name = file_name(rng, spec, fmt, taken)
        final = out_dir / name
        temporary = out_dir / f"~${name}"
        write_unit(spec, temporary, fmt)
        os.replace(temporary, final)
        written.append(final)
        if on_file is not None:
            on_file(final)
    return written
