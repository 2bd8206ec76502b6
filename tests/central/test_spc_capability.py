"""Cpk / Ppk: hand-computed cases, rating, interval, and the rules that hold for any data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from central.spc.capability import (
    D2_MOVING_RANGE,
    D2_SUBGROUP_5,
    MIN_POINTS,
    Capability,
    IndexEstimate,
    Rating,
    SpecLimits,
    WithinMethod,
    bissell_interval,
    capability,
    choose_within_method,
    rate,
    rolling_capability,
)
from central.spc.errors import SpcErrorCode, SpcInputError
from central.spc.series import Unavailable, UnavailableReason
from shared.quality import MIN_RATED_SAMPLE

Z_975 = 1.959963984540054  # normal quantile for a two-sided 95 % interval


def estimate(result: IndexEstimate | Unavailable) -> IndexEstimate:
    assert isinstance(result, IndexEstimate), result
    return result


def test_short_one_sided_series_by_hand() -> None:
    # Linearity-error-like values against an upper limit only (USL = 10):
    #   x            = 2 4 3 5 4 6 5 7 6 8      mean = 50 / 10 = 5
    #   moving range =  2 1 2 1 2 1 2 1 2      MR-bar = 14 / 9 = 1.5556
    #   sigma within = MR-bar / 1.128 = 1.37904 (10 values: a short series)
    #   deviations -3 -1 -2 0 -1 1 0 2 1 3, squares sum to 30: sd = sqrt(30 / 9) = 1.82574
    #   Cpk = Cpu = (10 - 5) / (3 * 1.37904) = 1.20857  -> marginal
    #   Ppk = Ppu = (10 - 5) / (3 * 1.82574) = 0.91287  -> incapable
    result = capability([2, 4, 3, 5, 4, 6, 5, 7, 6, 8], SpecLimits(upper=10.0))
    assert result.within_method is WithinMethod.MOVING_RANGE
    assert result.n == 10
    assert result.mean == 5.0
    assert result.sigma_within == pytest.approx(14 / 9 / 1.128)
    assert result.sigma_overall == pytest.approx(math.sqrt(30 / 9))
    cpk, ppk = estimate(result.cpk), estimate(result.ppk)
    assert cpk.value == pytest.approx(5 / (3 * 14 / 9 / 1.128)) == pytest.approx(1.2085714)
    assert cpk.upper_index == cpk.value
    assert cpk.lower_index is None
    assert rate(cpk.value) is Rating.MARGINAL
    assert cpk.rating is None  # 10 values: too few for a rating (shared/quality.py)
    assert ppk.value == pytest.approx(5 / (3 * math.sqrt(30 / 9))) == pytest.approx(0.9128709)
    assert rate(ppk.value) is Rating.INCAPABLE and ppk.rating is None
    # Bissell: 1.20857 +/- 1.96 * sqrt(1 / 90 + 1.20857^2 / 18) = 1.20857 +/- 0.59532
    assert (cpk.ci_low, cpk.ci_high) == pytest.approx((0.6132518, 1.8038911), abs=1e-6)
    assert cpk.confidence == 0.95


def test_two_sided_spec_takes_the_nearer_limit() -> None:
    # x = 1..10, mean 5.5, MR-bar 1 -> sigma within 1 / 1.128 = 0.88652; sd = sqrt(82.5 / 9).
    # Spec [0, 12]: Cpu = 6.5 / 2.65957 = 2.44400, Cpl = 5.5 / 2.65957 = 2.06800 -> Cpk 2.068.
    # Ppl = 5.5 / (3 * 3.02765) = 0.60553 (its square is exactly 30.25 / 82.5 = 0.36667).
    result = capability(np.arange(1.0, 11.0), SpecLimits(lower=0.0, upper=12.0))
    cpk, ppk = estimate(result.cpk), estimate(result.ppk)
    assert cpk.upper_index == pytest.approx(6.5 * 1.128 / 3)
    assert cpk.lower_index == pytest.approx(5.5 * 1.128 / 3)
    assert cpk.value == cpk.lower_index
    assert rate(cpk.value) is Rating.EXCELLENT
    assert ppk.value == pytest.approx(math.sqrt(30.25 / 82.5))
    # 0.60553 +/- 1.96 * sqrt(1 / 90 + 0.36667 / 18) = 0.60553 +/- 0.34776
    half = Z_975 * math.sqrt(1 / 90 + (30.25 / 82.5) / 18)
    assert (ppk.ci_low, ppk.ci_high) == pytest.approx((ppk.value - half, ppk.value + half))
    assert (ppk.ci_low, ppk.ci_high) == pytest.approx((0.2577732, 0.9532869), abs=1e-6)


def test_long_series_uses_subgroup_ranges() -> None:
    # 20 subgroups of 5, each 10 11 12 13 14: range 4 each, R-bar = 4,
    # sigma within = 4 / 2.326 = 1.71969; mean 12; sd = sqrt(20 * 10 / 99) = 1.42134.
    # Spec [0, 20]: Cpk = 8 / (3 * 1.71969) = 1.55067 (capable),
    #               Ppk = 8 / (3 * 1.42134) = 1.87617 (excellent).
    values = [10.0, 11.0, 12.0, 13.0, 14.0] * 20
    result = capability(values, SpecLimits(0.0, 20.0))
    assert result.within_method is WithinMethod.SUBGROUP_RANGE
    assert result.sigma_within == pytest.approx(4 / D2_SUBGROUP_5)
    cpk, ppk = estimate(result.cpk), estimate(result.ppk)
    assert cpk.value == pytest.approx(8 * 2.326 / 12) == pytest.approx(1.5506667)
    assert cpk.rating is Rating.CAPABLE
    assert ppk.value == pytest.approx(8 / (3 * math.sqrt(200 / 99))) == pytest.approx(1.8761663)
    assert ppk.rating is Rating.EXCELLENT


def test_a_trailing_partial_subgroup_counts_in_the_mean_but_not_in_r_bar() -> None:
    # 101 values: the 101st (value 30) is alone in its subgroup; R-bar stays 4.
    values = [10.0, 11.0, 12.0, 13.0, 14.0] * 20 + [30.0]
    result = capability(values, SpecLimits(0.0, 40.0))
    assert result.sigma_within == pytest.approx(4 / 2.326)
    assert result.mean == pytest.approx((1200 + 30) / 101)
    assert result.sigma_overall == pytest.approx(float(np.std(values, ddof=1)))


def test_short_means_fewer_than_20_complete_subgroups() -> None:
    assert choose_within_method(99) is WithinMethod.MOVING_RANGE
    assert choose_within_method(100) is WithinMethod.SUBGROUP_RANGE
    values = np.tile([10.0, 11.0, 12.0, 13.0, 14.0], 20)[:99]
    assert capability(values, SpecLimits(0, 20)).sigma_within == pytest.approx(
        float(np.mean(np.abs(np.diff(values)))) / D2_MOVING_RANGE
    )


def test_the_method_can_be_forced() -> None:
    values = [10.0, 11.0, 12.0, 13.0, 14.0] * 4
    result = capability(values, SpecLimits(0, 20), within=WithinMethod.SUBGROUP_RANGE)
    assert result.within_method is WithinMethod.SUBGROUP_RANGE
    assert result.sigma_within == pytest.approx(4 / 2.326)


def test_fewer_than_ten_values_give_a_reason_not_a_number() -> None:
    result = capability([0.1, 0.2, 0.15, 0.3, 0.2, 0.1, 0.25, 0.2, 0.3], SpecLimits(upper=1.0))
    for index in (result.cpk, result.ppk):
        assert isinstance(index, Unavailable)
        assert index.reason is UnavailableReason.TOO_FEW_POINTS
        assert "at least 10" in index.message and "has 9" in index.message
        assert not index  # falsy, for templates
    assert result.mean == pytest.approx(0.2)
    assert result.sigma_overall is None
    empty = capability([], SpecLimits(upper=1.0))
    assert empty.n == 0 and empty.mean is None


def test_zero_spread_gives_a_reason() -> None:
    result = capability([0.5] * 12, SpecLimits(upper=1.0))
    assert isinstance(result.cpk, Unavailable) and isinstance(result.ppk, Unavailable)
    assert result.cpk.reason is UnavailableReason.ZERO_SPREAD
    assert "Cpk" in result.cpk.message and "Ppk" in result.ppk.message


def test_spread_at_rounding_level_is_zero_spread() -> None:
    # 0.1 + 0.2 differs from 0.3 in the 17th digit: an sd of ~1e-17 is not a process spread.
    values = [0.3] * 10 + [0.1 + 0.2] * 2
    result = capability(values, SpecLimits(upper=1.0))
    assert result.sigma_overall is not None and 0 < result.sigma_overall < 1e-16
    assert isinstance(result.ppk, Unavailable)
    assert result.ppk.reason is UnavailableReason.ZERO_SPREAD
    tiny_but_real = capability([0.3, 0.3 + 1e-9] * 6, SpecLimits(upper=1.0))
    assert isinstance(tiny_but_real.ppk, IndexEstimate)


def test_constant_subgroups_leave_cpk_undefined_but_not_ppk() -> None:
    # Every subgroup of 5 is constant (R-bar = 0) while the subgroups differ.
    values = np.repeat(np.arange(20.0), 5)
    result = capability(values, SpecLimits(-10.0, 30.0))
    assert isinstance(result.cpk, Unavailable)
    assert result.cpk.reason is UnavailableReason.ZERO_SPREAD
    assert isinstance(result.ppk, IndexEstimate)


def test_a_mean_outside_the_spec_gives_a_negative_index() -> None:
    result = capability([1.2, 1.3, 1.1, 1.25, 1.15, 1.2, 1.3, 1.1, 1.2, 1.25], SpecLimits(upper=1))
    assert estimate(result.ppk).value < 0
    assert rate(estimate(result.ppk).value) is Rating.INCAPABLE


@pytest.mark.parametrize(
    ("value", "rating"),
    [
        (2.5, Rating.EXCELLENT),
        (1.67, Rating.EXCELLENT),
        (1.6699, Rating.CAPABLE),
        (1.33, Rating.CAPABLE),
        (1.3299, Rating.MARGINAL),
        (1.0, Rating.MARGINAL),
        (0.9999, Rating.INCAPABLE),
        (-0.4, Rating.INCAPABLE),
    ],
)
def test_ratings_at_their_thresholds(value: float, rating: Rating) -> None:
    assert rate(value) is rating


def test_bissell_interval_by_hand_and_other_levels() -> None:
    # index 1.5, n = 50: sqrt(1 / 450 + 2.25 / 98) = sqrt(0.0022222 + 0.0229592) = 0.1586865
    spread = math.sqrt(1 / 450 + 2.25 / 98)
    low, high = bissell_interval(1.5, 50, 0.95)
    assert (low, high) == pytest.approx((1.5 - Z_975 * spread, 1.5 + Z_975 * spread))
    assert (low, high) == pytest.approx((1.188980, 1.811020), abs=1e-6)
    # 99 %: z = 2.5758293
    low99, high99 = bissell_interval(1.5, 50, 0.99)
    assert high99 - low99 == pytest.approx(2 * 2.5758293035489 * spread, rel=1e-12)
    result = capability(np.arange(1.0, 11.0), SpecLimits(0, 12), confidence=0.9)
    assert estimate(result.ppk).confidence == 0.9


@pytest.mark.parametrize(
    ("lower", "upper"),
    [(None, None), (1.0, 1.0), (2.0, 1.0), (None, math.inf), (math.nan, 1.0)],
)
def test_bad_specs_are_refused(lower: float | None, upper: float | None) -> None:
    with pytest.raises(SpcInputError) as caught:
        SpecLimits(lower=lower, upper=upper)
    assert caught.value.code is SpcErrorCode.BAD_SPEC


def test_bad_input_is_refused() -> None:
    with pytest.raises(SpcInputError) as caught:
        capability([1.0, math.nan] * 6, SpecLimits(upper=2))
    assert caught.value.code is SpcErrorCode.NON_FINITE
    assert "index 1" in caught.value.message
    with pytest.raises(SpcInputError) as caught:
        capability([[1.0, 2.0]] * 6, SpecLimits(upper=2))  # type: ignore[list-item]
    assert caught.value.code is SpcErrorCode.NOT_ONE_DIMENSIONAL
    for confidence in (0.0, 1.0, 1.5):
        with pytest.raises(SpcInputError):
            capability(range(12), SpecLimits(upper=20), confidence=confidence)


def test_rolling_windows_end_at_the_newest_value() -> None:
    values = np.sin(np.arange(23.0)) + 5
    windows = rolling_capability(values, SpecLimits(0, 10), window=10, step=5)
    assert [(w.start, w.stop) for w in windows] == [(3, 13), (8, 18), (13, 23)]
    last = windows[-1].capability
    assert last == capability(values[13:23], SpecLimits(0, 10))
    non_overlapping = rolling_capability(values[:20], SpecLimits(0, 10), window=10)
    assert [(w.start, w.stop) for w in non_overlapping] == [(0, 10), (10, 20)]


def test_rolling_over_a_series_shorter_than_one_window() -> None:
    windows = rolling_capability([1.0, 2.0, 3.0], SpecLimits(0, 10), window=50)
    assert [(w.start, w.stop) for w in windows] == [(0, 3)]
    assert isinstance(windows[0].capability.cpk, Unavailable)


def test_rolling_windows_share_one_within_method() -> None:
    values = np.random.default_rng(3).normal(5, 1, 400)
    windows = rolling_capability(values, SpecLimits(0, 10), window=100)
    assert {w.capability.within_method for w in windows} == {WithinMethod.SUBGROUP_RANGE}


def test_rolling_parameters_are_checked() -> None:
    with pytest.raises(SpcInputError):
        rolling_capability(range(30), SpecLimits(upper=40), window=5)
    with pytest.raises(SpcInputError):
        rolling_capability(range(30), SpecLimits(upper=40), window=10, step=0)


samples = st.lists(st.floats(-100.0, 100.0), min_size=10, max_size=150)


def assert_same_indices(first: Capability, second: Capability, tolerance: float) -> None:
    """Cpk and Ppk agree: both unavailable for the same reason, or equal values."""
    for a, b in ((first.cpk, second.cpk), (first.ppk, second.ppk)):
        if isinstance(a, Unavailable) or isinstance(b, Unavailable):
            assert a == b
        else:
            assert a.value == pytest.approx(b.value, rel=tolerance, abs=tolerance)
            assert a.rating is b.rating or abs(a.value - b.value) < tolerance


@settings(max_examples=150, deadline=None)
@given(values=samples, lower=st.floats(-200.0, 0.0), width=st.floats(1.0, 300.0))
def test_mirroring_data_and_spec_leaves_the_indices_unchanged(
    values: list[float], lower: float, width: float
) -> None:
    spec = SpecLimits(lower, lower + width)
    direct = capability(values, spec)
    assert_same_indices(direct, capability([-v for v in values], spec.mirrored()), 1e-9)


@settings(max_examples=150, deadline=None)
@given(values=samples, upper=st.floats(0.0, 300.0), shift=st.floats(-1000.0, 1000.0))
def test_shifting_data_and_spec_together_changes_nothing(
    values: list[float], upper: float, shift: float
) -> None:
    assume(np.ptp(values) > 1e-3)
    spec = SpecLimits(upper=upper)
    shifted = capability([v + shift for v in values], SpecLimits(upper=upper + shift))
    assert_same_indices(capability(values, spec), shifted, 1e-6)


@settings(max_examples=150, deadline=None)
@given(values=samples, scale=st.floats(1e-3, 1e3))
def test_scaling_data_and_spec_together_changes_nothing(values: list[float], scale: float) -> None:
    assume(np.ptp(values) > 1e-3)
    spec = SpecLimits(-150.0, 150.0)
    scaled = capability([v * scale for v in values], SpecLimits(-150 * scale, 150 * scale))
    assert_same_indices(capability(values, spec), scaled, 1e-9)


@settings(max_examples=150, deadline=None)
@given(values=samples)
def test_every_interval_holds_its_index_and_narrows_with_more_data(values: list[float]) -> None:
    result = capability(values, SpecLimits(-150.0, 150.0))
    for index in (result.cpk, result.ppk):
        if isinstance(index, IndexEstimate):
            assert index.ci_low < index.value < index.ci_high
            assert index.value <= min(
                side for side in (index.upper_index, index.lower_index) if side is not None
            )
            wider = bissell_interval(index.value, result.n, 0.95)
            narrower = bissell_interval(index.value, result.n * 4, 0.95)
            assert narrower[1] - narrower[0] < wider[1] - wider[0]


@given(
    st.integers(min_value=MIN_POINTS, max_value=3 * MIN_RATED_SAMPLE),
    st.integers(min_value=0, max_value=2**32 - 1),
)
def test_no_rating_under_the_minimum_sample_and_always_an_interval(n: int, seed: int) -> None:
    values = np.random.default_rng(seed).normal(0.5, 0.1, n)
    result = capability(values, SpecLimits(lower=0.0, upper=1.5))
    for index in (estimate(result.cpk), estimate(result.ppk)):
        assert index.n == n
        assert index.ci_low < index.value < index.ci_high  # the interval, rated or not
        if n < MIN_RATED_SAMPLE:
            assert index.rating is None and not index.rated
        else:
            assert index.rating is rate(index.value)


def test_the_rating_starts_at_the_minimum_sample() -> None:
    values = np.tile([0.1, 0.12, 0.11, 0.13, 0.1, 0.12], 10)
    just_under = capability(values[: MIN_RATED_SAMPLE - 1], SpecLimits(upper=0.15))
    at_minimum = capability(values[:MIN_RATED_SAMPLE], SpecLimits(upper=0.15))
    assert estimate(just_under.cpk).rating is None
    assert estimate(at_minimum.cpk).rating is rate(estimate(at_minimum.cpk).value)
