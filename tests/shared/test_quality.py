"""The definitions every page shares (shared/quality.py), as rules over any counts."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from shared import band, quality
from shared.models import Status, TrackResult

statuses = st.lists(st.sampled_from([s.value for s in Status]), max_size=60)


@given(statuses)
def test_yield_is_passes_and_warnings_over_every_verdict(units: list[str]) -> None:
    counts = {s.value: units.count(s.value) for s in Status}
    got = quality.yield_pct(counts["Pass"], counts["Warning"], counts["Fail"])
    assert got == quality.yield_of(units)
    judged = counts["Pass"] + counts["Warning"] + counts["Fail"]
    if judged == 0:
        assert got is None  # Errors and Skipped alone: no yield, never 0 % or 100 %
    else:
        assert got is not None and 0.0 <= got <= 100.0
        assert abs(got * judged - 100.0 * (counts["Pass"] + counts["Warning"])) < 1e-9 * judged


@given(statuses, st.sampled_from(["Error", "Skipped"]))
def test_an_error_or_skipped_file_never_moves_the_yield(units: list[str], extra: str) -> None:
    assert quality.yield_of([*units, extra]) == quality.yield_of(units)


@given(statuses)
def test_a_warning_weighs_like_a_pass(units: list[str]) -> None:
    as_passes = ["Pass" if s == "Warning" else s for s in units]
    assert quality.yield_of(units) == quality.yield_of(as_passes)


def test_passing_and_verdict_statuses() -> None:
    assert [quality.passes(s.value) for s in Status] == [True, True, False, False, False]
    assert set(quality.PASSING) < set(quality.VERDICTS)
    assert quality.first_pass_yield_pct(3, 4) == 75.0
    assert quality.first_pass_yield_pct(0, 0) is None


@given(st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)))
def test_near_miss_uses_the_band_cutoff(margin: float | None) -> None:
    finite = margin is not None and math.isfinite(margin)
    assert quality.is_near_miss(margin) is (finite and margin < band.NEAR_MISS_MARGIN_PCT)
    assert quality.NEAR_MISS_MARGIN_PCT is band.NEAR_MISS_MARGIN_PCT


@given(st.booleans(), st.booleans(), st.one_of(st.none(), st.floats(0, 10)))
def test_capability_keeps_only_trimmed_tracks_with_a_value(
    untrimmed_only: bool, is_anomaly: bool, linearity: float | None
) -> None:
    track = TrackResult(
        track_id="TRK1",
        status=Status.PASS,
        untrimmed_only=untrimmed_only,
        is_anomaly=is_anomaly,
        linearity_error=linearity,
    )
    out = quality.untrimmed_or_aborted(untrimmed_only, is_anomaly)
    assert out is (untrimmed_only or is_anomaly)
    assert quality.in_capability(track) is (linearity is not None and not out)


@given(st.integers(0, 500))
def test_a_rating_needs_the_minimum_sample(n: int) -> None:
    assert quality.rating_allowed(n) is (n >= quality.MIN_RATED_SAMPLE)
