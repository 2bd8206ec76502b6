"""SPC core figures: each statistic over a model page's worth of units, and a year's worth.

`python -m benchmarks.spc` (not yet a section of `make bench`, whose runner
another area owns). Sizes: 5,000 units is a model over 90 days at the seed's
scale (1M tracks / 50 models / 365 days * 90 days); 100,000 is far beyond a
page and shows how the functions scale. Values are lognormal like sigma
gradients; the figure is the median of 20 calls after one warm-up call.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator

import numpy as np

from central.spc.capability import SpecLimits, capability, rolling_capability
from central.spc.compare import compare_groups
from central.spc.control import imr_chart
from central.spc.drift import cusum, ewma

SIZES = (5_000, 100_000)
CALLS = 20
STATIONS = 20


def _median_ms(fn: Callable[[], object]) -> float:
    fn()
    times = []
    for _ in range(CALLS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def _cases(x: np.ndarray) -> dict[str, Callable[[], object]]:
    spec = SpecLimits(upper=0.01)
    groups = {f"station-{i:02d}": x[i::STATIONS] for i in range(STATIONS)}
    return {
        "capability (Cpk, Ppk, intervals)": lambda: capability(x, spec),
        "I-MR chart + all 8 Nelson tests": lambda: imr_chart(x),
        "CUSUM": lambda: cusum(x),
        "EWMA": lambda: ewma(x),
        "Cpk/Ppk trend, windows of 250": lambda: rolling_capability(x, spec, window=250),
        f"station comparison, {STATIONS} stations": lambda: compare_groups(groups),
    }


def run() -> Iterator[tuple[str, str]]:
    """(label, figure) pairs in the format of benchmarks.run."""
    rng = np.random.default_rng(1)
    for n in SIZES:
        for label, fn in _cases(rng.lognormal(-6.0, 0.4, n)).items():
            yield f"spc {label}, n={n:,}", f"{_median_ms(fn):.2f} ms"


def main() -> None:
    for label, value in run():
        print(f"{label:<62} {value}", flush=True)


if __name__ == "__main__":
    main()
