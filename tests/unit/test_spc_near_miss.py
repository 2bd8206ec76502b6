"""Near misses: the agent's 20 % rule, counted over many tracks without hiding unknowns."""

from __future__ import annotations

import math

import pytest

from central.spc.errors import SpcErrorCode, SpcInputError
from central.spc.near_miss import NEAR_MISS_MARGIN_PCT, count_near_misses, is_near_miss
from shared.band import NEAR_MISS_MARGIN_PCT as AGENT_THRESHOLD


def test_the_threshold_is_the_agents() -> None:
    # The station flags near misses too; central must not count them differently.
    assert NEAR_MISS_MARGIN_PCT == AGENT_THRESHOLD == 20.0


@pytest.mark.parametrize(
    ("margin", "expected"),
    [(0.0, True), (19.999, True), (20.0, False), (55.0, False), (None, False), (math.nan, False)],
)
def test_one_track(margin: float | None, expected: bool) -> None:
    assert is_near_miss(margin) is expected


def test_counting_over_tracks() -> None:
    # Five linearity passes (margins 5, 19.9, 20, 80, unknown) and two failures (whatever
    # their margin column says, a failure is never a near miss).
    passed = [True, True, True, True, True, False, False]
    margins = [5.0, 19.9, 20.0, 80.0, math.nan, 3.0, math.nan]
    count = count_near_misses(passed, margins)
    assert (count.passes, count.near_misses, count.unknown) == (4, 2, 1)
    assert count.rate == 0.5
    assert count_near_misses([], []).rate is None
    assert count_near_misses(passed, margins, threshold_pct=10.0).near_misses == 1


def test_mismatched_arrays_are_refused() -> None:
    with pytest.raises(SpcInputError) as caught:
        count_near_misses([True, False], [1.0])
    assert caught.value.code is SpcErrorCode.NOT_ONE_DIMENSIONAL
