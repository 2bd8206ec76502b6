"""I-MR limits and the 8 Nelson tests: each fires exactly where worked out by hand, and
agrees with a literal point-by-point reading of its definition on any series."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from central.spc.control import (
    ALL_TESTS,
    D2,
    D4,
    TEST_DESCRIPTIONS,
    IndividualsChart,
    Limits,
    Violations,
    estimate_limits,
    imr_chart,
    moving_range_limits,
    nelson_tests,
    run_lengths,
    select_tests,
    window_counts,
)
from central.spc.errors import SpcErrorCode, SpcInputError
from central.spc.series import Unavailable, UnavailableReason

UNIT = Limits(centre=0.0, sigma=1.0)  # values below are already in sigma units


def failing(
    values: Sequence[float], tests: set[int] | frozenset[int] = ALL_TESTS
) -> dict[int, tuple[int, ...]]:
    """{point index: tests it fails} over every selected test."""
    return dict(nelson_tests(values, UNIT, tests=tests).by_point)


def chart(values: Sequence[float], **options: object) -> IndividualsChart:
    result = imr_chart(values, **options)  # type: ignore[arg-type]
    assert isinstance(result, IndividualsChart), result
    return result


# --- each test, by hand, with every other test run too -------------------------------------


def test_1_one_point_beyond_3_sigma() -> None:
    # 3.5 and -3.1 are beyond 3 sigma; 3.0 is exactly on the limit, which is not beyond.
    # Nothing else: sides + - + + - + -, steps - + - - + -, no zone counts reached.
    assert failing([0.5, -0.5, 3.5, 0.2, -3.1, 3.0, -0.3]) == {2: (1,), 4: (1,)}


def test_2_nine_points_on_one_side() -> None:
    # Ten points above the centre, then one below: the 9th and 10th complete the run.
    # The values above 1 sigma (indices 1, 4, 7) are never 4 of any 5, so test 6 stays quiet;
    # the repeated 0.5s are "no change", which breaks every test-3 and test-4 run.
    values = [0.5, 1.5, 0.5, 0.5, 1.5, 0.5, 0.5, 1.5, 0.5, 0.5, -0.5]
    assert failing(values) == {8: (2,), 9: (2,)}


def test_2_a_point_on_the_centre_line_ends_the_run() -> None:
    # 8 above, one exactly on the centre, 9 above: only the last point completes 9 in a row.
    values = [0.5] * 8 + [0.0] + [0.5] * 9
    assert failing(values, {2}) == {17: (2,)}
    # ... and the same 18 points, all within 1 sigma, also fail test 7 from the 15th on.
    assert failing(values) == {14: (7,), 15: (7,), 16: (7,), 17: (2, 7)}


def test_3_six_points_steadily_increasing() -> None:
    # Steps: -1.0, then +0.3 five times (points 1..6 rise), then -0.4.
    # Point 6 is the 6th rising point: it completes the pattern, and only it.
    assert failing([0.2, -0.8, -0.5, -0.2, 0.1, 0.4, 0.7, 0.3]) == {6: (3,)}


def test_3_five_rising_points_are_not_enough_and_a_tie_breaks_the_trend() -> None:
    assert failing([0.2, -0.8, -0.5, -0.2, 0.1, 0.4, 0.3]) == {}
    # -0.5 twice: the step between them is neither up nor down.
    assert failing([-0.8, -0.5, -0.5, -0.2, 0.1, 0.4, 0.7]) == {}


def test_3_decreasing_works_the_same_way() -> None:
    assert failing([-0.2, 0.8, 0.5, 0.2, -0.1, -0.4, -0.7, -0.3]) == {6: (3,)}


def test_4_fourteen_points_alternating() -> None:
    # 0.5, -1.5, 0.5, -1.5, ... 15 points: every step changes direction.
    # The 14th point (index 13) completes 14 alternating points, the 15th extends it.
    # -1.5 is beyond 1 sigma but never twice in a row and never 4 of 5: no tests 6 or 8.
    values = [0.5, -1.5] * 7 + [0.5]
    assert failing(values) == {13: (4,), 14: (4,)}
    assert failing(values[:13]) == {}


def test_4_a_flat_step_restarts_the_count() -> None:
    values = [0.5, -1.5] * 4 + [-1.5] + [0.5, -1.5] * 5
    assert failing(values, {4}) == {}


def test_5_two_of_three_beyond_2_sigma_on_one_side() -> None:
    # Above 2 sigma at 1 and 3 (window 1..3 holds 2): point 3 completes it.
    # Below -2 sigma at 5 and 7 (window 5..7 holds 2): point 7 completes it.
    # 2.5 is not beyond 3 sigma; no 4 of 5 beyond 1 sigma on one side; no runs.
    values = [0.5, 2.5, 0.5, 2.5, 0.5, -2.5, 0.5, -2.5, -0.5, 0.5]
    assert failing(values) == {3: (5,), 7: (5,)}


def test_5_marks_the_point_that_completes_it_not_the_one_after() -> None:
    # At the start the window is shorter: points 0 and 1 are both beyond, so point 1 fails;
    # point 2 (0.5) is not itself beyond 2 sigma and is not marked although its window
    # 0..2 holds two such points.
    assert failing([2.5, 2.5, 0.5, 0.5], {5}) == {1: (5,)}
    # Opposite sides do not add up.
    assert failing([2.5, 0.0, -2.5, 0.0], {5}) == {}


def test_6_four_of_five_beyond_1_sigma_on_one_side() -> None:
    # Above 1 sigma at 0, 1, 3, 4: the window 0..4 holds four, completed by point 4.
    # Runs beyond 1 sigma are only 2 long (no test 8); all points above the centre
    # but only 6 of them (no test 2).
    assert failing([1.5, 1.5, 0.5, 1.5, 1.5, 0.5, -0.5]) == {4: (6,)}


def test_6_from_the_start_and_for_each_further_point() -> None:
    # Four beyond from the first point: point 3 completes it; point 4 (also beyond) has
    # five of five beyond and fails too.
    assert failing([1.5] * 5 + [0.0], {6}) == {3: (6,), 4: (6,)}
    assert failing([-1.5, -1.5, 0.5, -1.5, -1.5], {6}) == {4: (6,)}


def test_7_fifteen_points_hugging_the_centre() -> None:
    # 0.5 0.5 -0.5 -0.5 ... 16 points: within 1 sigma, sides alternate in pairs (no test 2),
    # the flat steps stop tests 3 and 4. Points 14 and 15 complete 15 within in a row.
    assert failing([0.5, 0.5, -0.5, -0.5] * 4) == {14: (7,), 15: (7,)}


def test_7_a_point_on_the_1_sigma_line_is_not_within() -> None:
    values = [0.5, 0.5, -0.5, -0.5] * 3 + [1.0] + [0.5, 0.5, -0.5]
    assert failing(values, {7}) == {}


def test_8_eight_points_avoiding_the_middle() -> None:
    # 1.5 -1.5 -1.5 1.5 1.5 -1.5 -1.5 1.5: all 8 beyond 1 sigma, on both sides; no side holds
    # 4 of any 5, and the flat steps break the alternation. Point 7 completes it.
    values = [1.5, -1.5, -1.5, 1.5, 1.5, -1.5, -1.5, 1.5, 0.0]
    assert failing(values) == {7: (8,)}


def test_a_point_failing_several_tests_lists_them_lowest_first() -> None:
    # A climb far above the centre: test 1 at 3.5 and 4.5 (points 5, 6), test 3 at points 5
    # and 6 (5 and 6 rising steps), test 5 from point 2 (2.1 and 2.2 beyond 2 sigma),
    # test 6 from point 3, test 8 at point 7 (8 in a row beyond 1 sigma); 8 points above the
    # centre are one short of test 2.
    values = [1.5, 2.1, 2.2, 2.3, 2.4, 3.5, 4.5, 1.6]
    violations = nelson_tests(values, UNIT)
    assert violations.points[5] == (2, 3, 4, 5, 6)
    assert violations.points[6] == (3, 4, 5, 6, 7)
    assert violations.points[2] == ()
    assert violations.at(5) == (1, 3, 5, 6)
    assert violations.at(6) == (1, 3, 5, 6)
    assert violations.at(7) == (6, 8)
    assert violations.at(0) == ()
    assert violations.points[8] == (7,)
    assert list(violations.by_point) == sorted(violations.by_point)


def test_only_the_selected_tests_run() -> None:
    values = [1.5, 2.1, 2.2, 2.3, 2.4, 3.5, 4.5, 1.6]
    selected = nelson_tests(values, UNIT, tests={1, 8})
    assert selected.tests == frozenset({1, 8})
    assert set(selected.points) == {1, 8}
    assert selected.by_point == {5: (1,), 6: (1,), 7: (8,)}
    assert not nelson_tests(values, UNIT, tests=set())
    assert nelson_tests(values, UNIT)


def test_unknown_test_numbers_are_refused() -> None:
    assert select_tests(["1", 5]) == frozenset({1, 5})  # type: ignore[list-item]
    with pytest.raises(SpcInputError) as caught:
        select_tests([0, 9])
    assert caught.value.code is SpcErrorCode.BAD_PARAMETER
    assert "[0, 9]" in caught.value.message
    assert set(TEST_DESCRIPTIONS) == ALL_TESTS


def test_run_and_window_helpers() -> None:
    mask = np.array([True, True, False, True, True, True])
    assert run_lengths(mask).tolist() == [1, 2, 0, 1, 2, 3]
    assert window_counts(mask, 3).tolist() == [1, 2, 2, 2, 2, 3]
    assert window_counts(mask, 10).tolist() == [1, 2, 2, 3, 4, 5]
    assert failing([]) == {}
    assert failing([4.0]) == {0: (1,)}


# --- the I-MR chart by hand -----------------------------------------------------------------


def test_limits_by_hand() -> None:
    # x = 2 4 3 5 4 6 5 7 6 8: mean 5, MR-bar = 14 / 9, sigma = MR-bar / 1.128 = 1.379039
    # UCL = 5 + 3 * 1.379039 = 9.137116 (= 5 + 2.66 * MR-bar, 2.66 = 3 / 1.128)
    # MR chart: UCL = 3.267 * 14 / 9 = 5.082, LCL = 0
    result = chart([2, 4, 3, 5, 4, 6, 5, 7, 6, 8])
    assert result.limits.centre == 5.0
    assert result.limits.sigma == pytest.approx(14 / 9 / 1.128)
    assert result.limits.ucl == pytest.approx(9.137116, abs=1e-6)
    assert result.limits.lcl == pytest.approx(0.862884, abs=1e-6)
    assert result.limits.ucl - result.limits.centre == pytest.approx(3 / 1.128 * 14 / 9)
    assert result.limits.zone(2) == pytest.approx((5 - 2 * 1.379039, 5 + 2 * 1.379039))
    assert result.mr_limits.centre == pytest.approx(14 / 9)
    assert result.mr_limits.ucl == pytest.approx(3.267 * 14 / 9)
    assert result.mr_limits.lcl == 0.0
    assert result.moving_ranges.tolist() == [2, 1, 2, 1, 2, 1, 2, 1, 2]
    assert not result.violations and result.mr_violations == ()
    assert result.baseline_points == 10


def test_an_outlier_fails_both_charts() -> None:
    # Ten values near 5, then 9.0, then 5.0.
    #   sum = 50.2 + 9 + 5 = 64.2, mean = 5.35
    #   moving ranges 0.2 0.3 0.2 0.1 0.2 0.4 0.1 0.2 0.1 4.0 4.0: MR-bar = 9.8 / 11 = 0.890909
    #   sigma = 0.789813, UCL = 5.35 + 2.369440 = 7.719440 -> 9.0 fails test 1 (point 10)
    #   the first ten are all below 5.35 -> test 2 at points 8 and 9
    #   MR UCL = 3.267 * 0.890909 = 2.910600 -> both ranges of 4.0 fail (points 10 and 11)
    values = [5.0, 5.2, 4.9, 5.1, 5.0, 4.8, 5.2, 5.1, 4.9, 5.0, 9.0, 5.0]
    result = chart(values)
    assert result.limits.centre == pytest.approx(5.35)
    assert result.limits.sigma == pytest.approx(9.8 / 11 / 1.128)
    assert result.mr_limits.ucl == pytest.approx(2.910600, abs=1e-6)
    assert dict(result.violations.by_point) == {8: (2,), 9: (2,), 10: (1,)}
    assert result.mr_violations == (10, 11)


def test_limits_from_a_baseline_judge_the_later_points() -> None:
    # Baseline = the first ten: mean 5.02, MR-bar = 1.8 / 9 = 0.2, sigma = 0.177305,
    # UCL = 5.551915. Point 10 (9.0) is far beyond; the baseline's own points fail nothing.
    values = [5.0, 5.2, 4.9, 5.1, 5.0, 4.8, 5.2, 5.1, 4.9, 5.0, 9.0, 5.0]
    result = chart(values, baseline=10)
    assert result.baseline_points == 10
    assert result.limits.centre == pytest.approx(5.02)
    assert result.limits.sigma == pytest.approx(0.2 / 1.128)
    assert result.limits.ucl == pytest.approx(5.551915, abs=1e-6)
    assert dict(result.violations.by_point) == {10: (1,)}
    assert result.mr_limits.ucl == pytest.approx(3.267 * 0.2)
    assert result.mr_violations == (10, 11)


def test_given_limits_are_used_as_they_are() -> None:
    result = chart([5.0, 5.9, 5.1], limits=Limits(centre=5.0, sigma=0.25), tests={1})
    assert result.baseline_points == 0
    assert dict(result.violations.by_point) == {1: (1,)}
    assert result.mr_limits == moving_range_limits(Limits(5.0, 0.25))
    assert result.mr_limits.centre == pytest.approx(D2 * 0.25)
    assert result.mr_limits.ucl == pytest.approx(D4 * D2 * 0.25)


def test_too_few_points_or_no_spread_give_a_reason() -> None:
    assert isinstance(imr_chart([]), Unavailable)
    short = imr_chart([1.0, 2.0, 3.0])
    assert isinstance(short, Unavailable)
    assert short.reason is UnavailableReason.TOO_FEW_POINTS
    flat = imr_chart([2.0] * 12)
    assert isinstance(flat, Unavailable)
    assert flat.reason is UnavailableReason.ZERO_SPREAD
    assert isinstance(estimate_limits([0.1 + 0.2] + [0.3] * 11), Unavailable)
    assert isinstance(imr_chart(list(range(30)), baseline=5), Unavailable)


@pytest.mark.parametrize(
    "options",
    [
        {"baseline": 0},
        {"baseline": 13},
        {"limits": Limits(centre=0.0, sigma=0.0)},
        {"limits": Limits(centre=math.nan, sigma=1.0)},
        {"tests": {2, 11}},
    ],
)
def test_bad_options_are_refused(options: dict[str, object]) -> None:
    with pytest.raises(SpcInputError):
        imr_chart(list(range(12)), **options)  # type: ignore[arg-type]


def test_nan_values_are_refused_not_skipped() -> None:
    with pytest.raises(SpcInputError) as caught:
        imr_chart([1.0, 2.0, math.nan] + [1.0] * 10)
    assert caught.value.code is SpcErrorCode.NON_FINITE


def test_results_cannot_be_changed_afterwards() -> None:
    result = chart([2, 4, 3, 5, 4, 6, 5, 7, 6, 8])
    with pytest.raises(ValueError, match="read-only"):
        result.values[0] = 100.0
    with pytest.raises(ValueError, match="read-only"):
        result.moving_ranges[0] = 100.0
    with pytest.raises(TypeError):
        result.violations.points[1] = (0,)  # type: ignore[index]


# --- any series: the vectorised tests agree with their definitions read literally -----------


def reference(x: Sequence[float], centre: float, sigma: float) -> dict[int, tuple[int, ...]]:
    """Each test as its sentence reads, one point at a time (slow and obvious)."""
    z = [(v - centre) / sigma for v in x]
    found: dict[int, list[int]] = {}

    def mark(point: int, test: int) -> None:
        found.setdefault(point, []).append(test)

    def last(i: int, k: int) -> range:
        """The (up to) k points ending at point i."""
        return range(max(0, i - k + 1), i + 1)

    for i in range(len(x)):
        if abs(z[i]) > 3:
            mark(i, 1)
        if i >= 8 and (all(z[j] > 0 for j in last(i, 9)) or all(z[j] < 0 for j in last(i, 9))):
            mark(i, 2)
        steps = [x[j] - x[j - 1] for j in range(i - 4, i + 1)] if i >= 5 else []
        if steps and (all(s > 0 for s in steps) or all(s < 0 for s in steps)):
            mark(i, 3)
        steps = [x[j] - x[j - 1] for j in range(i - 12, i + 1)] if i >= 13 else []
        # Up then down or down then up; compared as signs because the product of two
        # tiny steps (subnormal values) underflows to zero.
        if steps and all(a < 0 < b or b < 0 < a for a, b in itertools.pairwise(steps)):
            mark(i, 4)
        for test, k, width, line in ((5, 2, 3, 2.0), (6, 4, 5, 1.0)):
            above = z[i] > line and sum(z[j] > line for j in last(i, width)) >= k
            below = z[i] < -line and sum(z[j] < -line for j in last(i, width)) >= k
            if above or below:
                mark(i, test)
        if i >= 14 and all(abs(z[j]) < 1 for j in last(i, 15)):
            mark(i, 7)
        if i >= 7 and all(abs(z[j]) > 1 for j in last(i, 8)):
            mark(i, 8)
    return {point: tuple(sorted(tests)) for point, tests in found.items()}


# Values on and between every zone line, so the strict/inclusive edges are exercised.
zone_values = st.sampled_from([-3.5, -3.0, -2.5, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5])
patterned = st.lists(st.one_of(zone_values, st.floats(-4.0, 4.0)), max_size=120)


@settings(max_examples=400, deadline=None)
@given(values=patterned)
def test_vectorised_tests_agree_with_the_literal_definitions(values: list[float]) -> None:
    assert failing(values) == reference(values, 0.0, 1.0)


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(st.floats(-1.0, 1.0), min_size=20, max_size=200),
    drift=st.floats(-0.2, 0.2),
)
def test_agreement_on_wandering_series_with_estimated_limits(
    steps: list[float], drift: float
) -> None:
    values = np.cumsum(np.array(steps) + drift)
    result = imr_chart(values)
    assume(isinstance(result, IndividualsChart))
    assert isinstance(result, IndividualsChart)
    expected = reference(values.tolist(), result.limits.centre, result.limits.sigma)
    assert dict(result.violations.by_point) == expected


integer_series = st.lists(st.integers(-50, 50), min_size=10, max_size=80)


def near_a_zone_line(result: IndividualsChart) -> bool:
    z = (result.values - result.limits.centre) / result.limits.sigma
    return any(np.any(np.abs(np.abs(z) - line) < 1e-9) for line in (1.0, 2.0, 3.0))


def same_marks(first: IndividualsChart, second: IndividualsChart) -> None:
    assert dict(first.violations.by_point) == dict(second.violations.by_point)
    assert first.mr_violations == second.mr_violations


@settings(max_examples=200, deadline=None)
@given(values=integer_series, shift=st.integers(-10_000, 10_000))
def test_a_shift_moves_the_limits_and_changes_no_mark(values: list[int], shift: int) -> None:
    first = imr_chart(values)
    assume(isinstance(first, IndividualsChart) and not near_a_zone_line(first))
    assert isinstance(first, IndividualsChart)
    second = chart([v + shift for v in values])
    assert second.limits.centre == pytest.approx(first.limits.centre + shift, abs=1e-9)
    assert second.limits.ucl - second.limits.centre == pytest.approx(
        first.limits.ucl - first.limits.centre
    )
    assert second.mr_limits == first.mr_limits
    same_marks(first, second)


@settings(max_examples=200, deadline=None)
@given(values=integer_series, scale=st.sampled_from([0.125, 0.5, 2.0, 8.0, 1024.0]))
def test_a_scale_scales_the_limits_and_changes_no_mark(values: list[int], scale: float) -> None:
    # Powers of two scale floating-point numbers exactly, so not even an edge may move.
    first = imr_chart(values)
    assume(isinstance(first, IndividualsChart))
    assert isinstance(first, IndividualsChart)
    second = chart([v * scale for v in values])
    assert second.limits.sigma == first.limits.sigma * scale
    assert second.mr_limits.ucl == pytest.approx(first.mr_limits.ucl * scale)
    same_marks(first, second)


@settings(max_examples=200, deadline=None)
@given(values=integer_series)
def test_a_mirror_image_fails_the_same_tests_at_the_same_points(values: list[int]) -> None:
    first = imr_chart(values)
    assume(isinstance(first, IndividualsChart))
    assert isinstance(first, IndividualsChart)
    second = chart([-v for v in values])
    assert second.limits.centre == -first.limits.centre
    same_marks(first, second)


@settings(max_examples=100, deadline=None)
@given(values=patterned, tests=st.sets(st.integers(1, 8)))
def test_a_selection_reports_exactly_those_tests_unchanged(
    values: list[float], tests: set[int]
) -> None:
    everything: Violations = nelson_tests(values, UNIT)
    chosen = nelson_tests(values, UNIT, tests=tests)
    assert dict(chosen.points) == {t: everything.points[t] for t in sorted(tests)}
