"""A pretend trim station: writes result files into a folder the way a real one does.

Each file appears atomically: it is written under a `~$` temporary name in the same
folder (the prefix Office uses for its own temporary files, which watchers already
skip) and then renamed, so a watcher never sees half a file under the final name.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from agent.simulate.names import file_name, pick_format
from agent.simulate.units import Serials, UnitSpec, simulate_unit
from agent.simulate.writers import write_unit

DEFAULT_START = datetime(2024, 11, 22, 8, 0)
DEFAULT_SPACING_S = 120.0
# Units written all at once and dated now fit into this much of the past, well inside
# the agent's default history window (12 h), so none of them is filed as history.
NOW_DATED_SPAN_S = 6 * 3600.0

# Each seed's serials start this far from the next seed's: stations simulated with
# different seeds never give two units the same model and serial.
SERIALS_PER_SEED = 100_000

__all__ = ["DEFAULT_START", "UnitSpec", "now_dated_start", "simulate_station", "station_clock"]


def station_clock() -> datetime:
    """The station PC's local clock, to the second, as its program stamps a file."""
    return datetime.now().replace(microsecond=0)


def now_dated_start(
    count: int, rate_per_minute: float | None, now: datetime | None = None
) -> tuple[datetime, float]:
    """(start, spacing_s) that date a run "now", as a newcomer expects to see it on the page.

    Paced (`rate_per_minute`): the first unit is tested now and the next ones as
    they land. All at once: the run ends now, at most NOW_DATED_SPAN_S back, with
    the usual two minutes between units when that fits. Jitter (a quarter of the
    spacing) never puts a test date in the future by more than that.
    """
    moment = now or datetime.now()
    if rate_per_minute:
        return moment, 60.0 / rate_per_minute
    spacing = min(DEFAULT_SPACING_S, NOW_DATED_SPAN_S / max(1, count))
    return moment - timedelta(seconds=spacing * count), spacing


def simulate_station(
    out_dir: Path,
    count: int,
    seed: int = 0,
    rate_per_minute: float | None = None,
    start: datetime | None = None,
    on_file: Callable[[Path], None] | None = None,
    spacing_s: float = DEFAULT_SPACING_S,
    clock: Callable[[], datetime] | None = None,
) -> list[Path]:
    """Write `count` simulated units into `out_dir` and return their paths in order.

    Test dates run from `start` (default DEFAULT_START, a fixed day: the tests'
    files stay the same from day to day), `spacing_s` apart on average; the
    command line dates them now (`now_dated_start`). The same seed, start and
    spacing give the same names and contents. With
    `rate_per_minute`, files are paced against a monotonic schedule (no drift
    from slow writes); `on_file` is called after each file lands.

    `clock` makes a live station (the demos): each unit is dated by the clock when
    its file is written, as a real station stamps it, instead of by its place in the
    schedule. A schedule-dated unit runs ahead of the wall clock as soon as writing
    falls behind the pace (or the spacing and the pace disagree), and is then shown as
    made in the future. Serials are the seed's own range (SERIALS_PER_SEED), one number
    per unit and model.
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
    serials = Serials(first=seed * SERIALS_PER_SEED + 1)
    written: list[Path] = []
    for index in range(count):
        if interval and index:
            delay = t0 + index * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        spec = simulate_unit(rng, index, begin, spacing_s, serials)
        if clock is not None:
            spec = replace(spec, tested_at=clock())
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
