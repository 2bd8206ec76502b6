"""The compiled kernels against scipy/numpy references and against the rules they implement.

scripts/test.sh runs this module twice: compiled, and with NUMBA_DISABLE_JIT=1.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from agent.analysis import linearity, shape
from agent.analysis.filtering import butter_lowpass, filtfilt, lfilter, lfilter_steady_state
from agent.analysis.sigma import gradient_std, sigma_gradient, sigma_threshold
from tests.reference import candidate_offsets, failures_reference, sigma_reference


@pytest.mark.parametrize("order", [1, 2, 3, 4, 6])
@pytest.mark.parametrize("cutoff", [0.05, 0.1, 0.3, 0.8])
def test_butterworth_design_matches_scipy(order: int, cutoff: float) -> None:
    b, a = butter_lowpass(order, cutoff)
    ref_b, ref_a = signal.butter(order, cutoff)
    np.testing.assert_allclose(b, ref_b, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(a, ref_a, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("order", [1, 2, 4])
def test_steady_state_and_lfilter_match_scipy(order: int) -> None:
    b, a = signal.butter(order, 0.2)
    np.testing.assert_allclose(lfilter_steady_state(b, a), signal.lfilter_zi(b, a), rtol=1e-12)
    x = np.random.default_rng(order).normal(size=200)
    zi = signal.lfilter_zi(b, a) * x[0]
    expected, _ = signal.lfilter(b, a, x, zi=zi)
    np.testing.assert_allclose(lfilter(b, a, x, zi), expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("n", [10, 11, 13, 50, 257, 600, 1500])
def test_filtfilt_matches_scipy(n: int) -> None:
    b, a = signal.butter(2, 0.1)
    x = np.cumsum(np.random.default_rng(n).normal(size=n)) * 1e-3
    np.testing.assert_allclose(filtfilt(b, a, x), signal.filtfilt(b, a, x), rtol=1e-9, atol=1e-15)


def _random_track(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    n = int(rng.integers(10, 800))
    travel = float(rng.choice([1.0, 2.5, 120.0, 340.0]))
    positions = np.sort(rng.uniform(0.0, travel, n))
    if rng.random() < 0.3:
        positions = np.round(positions)  # whole degrees: repeated positions, skipped dx
    errors = rng.normal(0.0, 10 ** rng.uniform(-4, -2), n) + np.linspace(0, rng.normal(0, 0.01), n)
    return positions, errors


def test_sigma_gradient_agrees_with_reference_on_hundreds_of_random_tracks() -> None:
    rng = np.random.default_rng(2024)
    for _ in range(400):
        positions, errors = _random_track(rng)
        expected = sigma_reference(positions, errors)
        assert sigma_gradient(positions, errors) == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_gradient_std_skips_tiny_steps_and_needs_two_gradients() -> None:
    assert gradient_std(np.array([0.0, 1.0]), np.array([0.0, 1.0])) == 0.0
    x = np.array([0.0, 1.0, 1.0 + 1e-7, 2.0, 3.0])
    y = np.array([0.0, 1.0, 5.0, 2.0, 4.0])
    assert gradient_std(x, y) == pytest.approx(np.std([1.0, -3.0 / (1 - 1e-7), 2.0], ddof=1))


def test_sigma_threshold_rules() -> None:
    assert sigma_threshold(0.01, 50.0) == pytest.approx(0.01 / 24)
    assert sigma_threshold(0.01, 300.0) == pytest.approx(0.01 / (24 * 3))
    assert sigma_threshold(1e-6, 10.0) == 1e-4


@st.composite
def banded_tracks(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 60))
    finite = st.floats(-1.0, 1.0, allow_nan=False, allow_infinity=False)
    # Coarse values make ties and points exactly on a limit common.
    errors = np.array(draw(st.lists(finite.map(lambda v: round(v, 2)), min_size=n, max_size=n)))
    half = np.array(
        draw(st.lists(st.floats(0.0, 0.5).map(lambda v: round(v, 2)), min_size=n, max_size=n))
    )
    centre = np.array(
        draw(st.lists(st.floats(-0.2, 0.2).map(lambda v: round(v, 2)), min_size=n, max_size=n))
    )
    upper, lower = centre + half, centre - half
    for arr in (upper, lower):
        blanks = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        arr[np.array(blanks, dtype=bool)] = np.nan
    if draw(st.booleans()):  # some inverted bands: such points can never pass
        flip = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
        upper[flip], lower[flip] = lower[flip].copy(), upper[flip].copy()
    return errors, upper, lower


@settings(max_examples=400, deadline=None)
@given(banded_tracks())
def test_no_offset_fails_fewer_points_and_ties_have_no_smaller_error(
    track: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    errors, upper, lower = track
    chosen = linearity.optimal_offset(errors, upper, lower)
    chosen_fails = failures_reference(errors, upper, lower, chosen)
    assert linearity.count_failures(errors, upper, lower, chosen) == chosen_fails
    chosen_error = linearity.max_abs_shifted(errors, chosen)
    for c in candidate_offsets(errors, upper, lower):
        fails = failures_reference(errors, upper, lower, c)
        assert fails >= chosen_fails
        if fails == chosen_fails:
            assert np.max(np.abs(errors + c)) >= chosen_error - 1e-12


def test_point_exactly_on_its_limit_after_the_offset_passes() -> None:
    errors = np.array([0.013, -0.007, 0.0031])
    upper = np.full(3, 0.01)
    lower = np.full(3, -0.01)
    c = linearity.optimal_offset(errors, upper, lower)
    assert linearity.count_failures(errors, upper, lower, c) == 0
    assert linearity.max_abs_shifted(errors, c) == pytest.approx(0.01)


def test_offset_without_limits_centres_the_curve() -> None:
    errors = np.array([0.1, 0.3, 0.2])
    blank = np.full(3, np.nan)
    assert linearity.optimal_offset(errors, blank, blank) == pytest.approx(-0.2)
    assert linearity.count_failures(errors, blank, blank, 5.0) == 0


def test_one_sided_limits_and_impossible_points() -> None:
    errors = np.array([0.0, 0.05, 0.0, 0.0])
    upper = np.array([0.01, 0.01, np.nan, -0.5])
    lower = np.array([np.nan, -0.01, -0.01, 0.5])  # last point: inverted band
    c = linearity.optimal_offset(errors, upper, lower)
    # point 1 needs c <= -0.04, point 2 needs c >= -0.01: one of them fails, and so does
    # the inverted point; points 0 and 2 agree, so c stays in [-0.01, 0.01]
    assert linearity.count_failures(errors, upper, lower, c) == 2
    assert -0.01 <= c <= 0.01
    worst, mean, margin = linearity.strict_margins(errors, upper, lower, c, 0.02)
    assert worst == pytest.approx(0.5 - c)  # inverted point: e + c sits 0.5 - c under lower
    assert 0 < mean < worst
    assert margin >= 0.0


def test_band_margins_for_a_passing_curve() -> None:
    errors = np.array([0.0, 0.006, -0.002])
    upper = np.full(3, 0.01)
    lower = np.full(3, -0.01)
    worst, mean, margin = linearity.strict_margins(errors, upper, lower, 0.0, 0.02)
    assert (worst, mean) == (0.0, 0.0)
    assert margin == pytest.approx(20.0)  # 0.004 of a 0.02 band
    blank = np.full(3, np.nan)
    assert np.isnan(linearity.strict_margins(errors, blank, blank, 0.0, 0.02)[2])


def test_linearity_spec_from_present_limits_only() -> None:
    upper = np.array([0.01, np.nan, 0.03])
    lower = np.array([-0.01, -0.01, np.nan])
    assert shape.linearity_spec(upper, lower) == pytest.approx((0.02 - -0.01) / 2)
    blank = np.full(3, np.nan)
    assert shape.linearity_spec(blank, blank) == 0.01


def test_anomaly_is_a_wide_straight_line() -> None:
    x = np.linspace(0, 300, 200)
    assert shape.is_anomaly(x, 0.0004 * x, 0.0001)
    assert not shape.is_anomaly(x, 0.00001 * x, 0.0001)  # straight but within reach of a trim
    noisy = np.random.default_rng(3).normal(0, 0.05, 200)
    assert not shape.is_anomaly(x, noisy, 0.0001)
    assert shape.line_fit_r_squared(x[:2], x[:2]) == 0.0
    assert shape.rms(np.array([3.0, 4.0])) == pytest.approx(np.sqrt(12.5))
