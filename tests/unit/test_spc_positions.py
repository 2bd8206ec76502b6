"""Where failing points cluster along the travel: bins by hand and against numpy's histogram."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from central.spc.errors import SpcErrorCode, SpcInputError
from central.spc.positions import bin_indices, bin_positions, travel_fraction


def test_bins_by_hand() -> None:
    # Travel 0..10 in 5 bins of 2: [0,2) [2,4) [4,6) [6,8) [8,10]; the end belongs to the
    # last bin; -0.1 lies before the travel and 10.1 past it.
    positions = [0.0, 1.99, 2.0, 9.99, 10.0, -0.1, 10.1]
    assert bin_indices(positions, start=0, stop=10, bins=5).tolist() == [0, 0, 1, 4, 4, -1, 5]
    histogram = bin_positions(positions, start=0, stop=10, bins=5)
    assert histogram.edges.tolist() == [0, 2, 4, 6, 8, 10]
    assert histogram.counts.tolist() == [2, 1, 0, 0, 2]
    assert (histogram.below, histogram.above, histogram.total) == (1, 1, 7)


def test_units_with_different_travels_share_the_fraction_axis() -> None:
    # A unit measured over 10..350 degrees fails at 27 and 333; one over 0..300 at 15 and 285.
    first = travel_fraction([27.0, 333.0], 10.0, 350.0)
    second = travel_fraction([15.0, 285.0], 0.0, 300.0)
    assert first.tolist() == pytest.approx([0.05, 0.95])
    histogram = bin_positions(np.concatenate([first, second]), bins=10)
    assert histogram.counts.tolist() == [2, 0, 0, 0, 0, 0, 0, 0, 0, 2]


def test_no_failing_points_is_an_empty_histogram() -> None:
    histogram = bin_positions([], bins=4)
    assert histogram.counts.tolist() == [0, 0, 0, 0]
    assert histogram.total == 0


@pytest.mark.parametrize(
    ("start", "stop", "bins"), [(1.0, 1.0, 5), (2.0, 1.0, 5), (0.0, math.inf, 5), (0.0, 1.0, 0)]
)
def test_bad_ranges_are_refused(start: float, stop: float, bins: int) -> None:
    with pytest.raises(SpcInputError) as caught:
        bin_positions([0.5], start=start, stop=stop, bins=bins)
    assert caught.value.code is SpcErrorCode.BAD_PARAMETER


@settings(max_examples=200, deadline=None)
@given(
    positions=st.lists(st.floats(-50.0, 400.0), max_size=300),
    bins=st.integers(1, 40),
)
def test_agrees_with_numpy_inside_and_counts_everything(positions: list[float], bins: int) -> None:
    histogram = bin_positions(positions, start=0.0, stop=340.0, bins=bins)
    inside = [p for p in positions if 0.0 <= p <= 340.0]
    expected, _ = np.histogram(inside, bins=bins, range=(0.0, 340.0))
    # numpy computes bin edges slightly differently; allow a point on an edge to move by one.
    assert np.abs(histogram.counts - expected).sum() <= 2 * sum(
        1 for p in inside if abs(p / 340.0 * bins - round(p / 340.0 * bins)) < 1e-9
    )
    assert histogram.total == len(positions)
    assert histogram.below == sum(p < 0 for p in positions)
    assert histogram.above == sum(p > 340.0 for p in positions)
