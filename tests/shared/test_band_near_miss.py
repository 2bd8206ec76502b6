"""The near-miss rule (shared/band.py): one cutoff for the agent's flag and central's counts."""

from __future__ import annotations

import math

import pytest

from shared.band import NEAR_MISS_MARGIN_PCT, is_near_miss


def test_the_cutoff_is_twenty_percent() -> None:
    # DOMAIN.md: "a near miss is a pass with under 20% margin"; the rollups count the flag.
    assert NEAR_MISS_MARGIN_PCT == 20.0


@pytest.mark.parametrize(
    ("margin", "expected"),
    [(0.0, True), (19.999, True), (20.0, False), (55.0, False), (None, False), (math.nan, False)],
)
def test_one_track(margin: float | None, expected: bool) -> None:
    assert is_near_miss(margin) is expected
