"""Where along the travel failing points cluster: a histogram over the travel.

A failing point is one outside its band after the station's offset (the
agent's band rule (shared/band.py); central gets the positions from the stored
curves). Units of one model can have slightly different travels, so the
histogram is usually drawn over the fraction of travel (0 = start, 1 = end,
`travel_fraction`); `bin_indices` lets a rollup store per-bin counts as
results arrive, and `bin_positions` builds the histogram to draw. Positions
outside [start, stop] are counted as below/above, never dropped silently.
Bins are equal width, each closed on the left, the last one also on the right.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from central.spc.errors import SpcErrorCode, SpcInputError
from central.spc.series import ArrayLike, FloatArray, IntArray, as_series, frozen

DEFAULT_BINS = 20


def _check_range(start: float, stop: float, bins: int) -> None:
    if not (np.isfinite(start) and np.isfinite(stop) and start < stop):
        raise SpcInputError(
            SpcErrorCode.BAD_PARAMETER,
            f"the travel must run from a finite start to a larger stop, got {start}..{stop}",
        )
    if bins < 1:
        raise SpcInputError(SpcErrorCode.BAD_PARAMETER, f"bins must be >= 1, got {bins}")


def travel_fraction(positions: ArrayLike, start: float, stop: float) -> FloatArray:
    """(position - start) / (stop - start): one unit's positions on a common 0..1 axis."""
    _check_range(start, stop, 1)
    return frozen((as_series(positions, "positions") - start) / (stop - start))


def bin_indices(
    positions: ArrayLike, *, start: float, stop: float, bins: int = DEFAULT_BINS
) -> IntArray:
    """The bin of each position: 0..bins-1, -1 below start, `bins` above stop."""
    _check_range(start, stop, bins)
    x = as_series(positions, "positions")
    index = np.floor((x - start) / (stop - start) * bins).astype(np.intp)
    index[x == stop] = bins - 1
    index[x < start] = -1
    index[x > stop] = bins
    return frozen(np.clip(index, -1, bins))


@dataclass(frozen=True)
class PositionHistogram:
    """Counts of failing points per stretch of travel."""

    edges: FloatArray  # bins + 1 edges from start to stop
    counts: IntArray
    below: int  # positions before the start of the travel
    above: int  # positions past its end

    @property
    def total(self) -> int:
        """Every position counted, inside the travel or not."""
        return int(self.counts.sum()) + self.below + self.above


def bin_positions(
    positions: ArrayLike, *, start: float = 0.0, stop: float = 1.0, bins: int = DEFAULT_BINS
) -> PositionHistogram:
    """Histogram of `positions` over [start, stop] (default: the fraction of travel)."""
    index = bin_indices(positions, start=start, stop=stop, bins=bins)
    counts = np.bincount(index + 1, minlength=bins + 2)
    return PositionHistogram(
        edges=frozen(np.linspace(start, stop, bins + 1)),
        counts=frozen(counts[1:-1].astype(np.intp)),
        below=int(counts[0]),
        above=int(counts[-1]),
    )
