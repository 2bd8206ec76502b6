"""The offset-and-rotation kernel against exact references and the rules it implements.

scripts/test.sh runs this module twice: compiled, and with NUMBA_DISABLE_JIT=1.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.analysis import linearity, rotation
from shared import band
from tests.reference import rotation_reference, widest_gap_reference


def _track(
    rng: np.random.Generator, n: int, spread: float = 0.02
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A curve with a tilt the rotation can take out, in a +/-0.01 band with some blanks."""
    theory = np.linspace(0.0, 10.0, n)
    errors = rng.normal(0.0, spread, n) + theory * rng.uniform(-0.004, 0.004)
    upper = np.full(n, 0.01) + rng.uniform(0.0, 0.01, n)
    lower = -upper.copy()
    upper[rng.random(n) < 0.1] = np.nan
    lower[rng.random(n) < 0.1] = np.nan
    return errors, theory, upper, lower


def _fails_at(
    errors: np.ndarray,
    theory: np.ndarray,
    upper: np.ndarray,
    lower: np.ndarray,
    judged: np.ndarray,
    c: float,
    k: float,
) -> int:
    return int(band.outside_mask(errors, upper, lower, c, theory, k, ~judged).sum())


@pytest.mark.parametrize("seed", range(40))
def test_fewest_failures_equal_the_exact_rational_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 14))
    errors, theory, upper, lower = _track(rng, n, spread=float(rng.choice([0.004, 0.02])))
    judged = rng.random(n) > 0.15
    k_lo, k_hi = sorted(rng.uniform(-0.01, 0.01, 2))
    k, c, fails = rotation.best_rotation(errors, theory, upper, lower, judged, k_lo, k_hi)
    assert k_lo <= k <= k_hi
    assert fails == rotation_reference(errors, theory, upper, lower, judged, k_lo, k_hi)
    assert fails == _fails_at(errors, theory, upper, lower, judged, c, k)


@pytest.mark.parametrize("seed", range(25))
def test_feasibility_and_the_widest_rotation_agree_with_linear_programming(seed: int) -> None:
    rng = np.random.default_rng(1000 + seed)
    n = int(rng.integers(10, 300))
    errors, theory, upper, lower = _track(rng, n, spread=0.003)
    upper[0], lower[-1] = 0.01, -0.01  # both sides bounded somewhere: the LP is finite
    judged = np.ones(n, dtype=np.bool_)
    k_lo, k_hi = -0.005, 0.005
    best_gap = widest_gap_reference(errors, theory, upper, lower, k_lo, k_hi)
    lo, hi, live, _dead = rotation._base_lines(errors, theory, upper, lower, judged)
    _k, gap = rotation.widest_rotation(lo, hi, theory, live, k_lo, k_hi)
    assert gap == pytest.approx(best_gap, abs=1e-12)
    _, _, fails = rotation.best_rotation(errors, theory, upper, lower, judged, k_lo, k_hi)
    assert (fails == 0) == (best_gap >= 0.0)


@st.composite
def rotated_tracks(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    n = draw(st.integers(1, 16))
    coarse = st.floats(-0.05, 0.05).map(lambda v: round(v, 3))
    errors = np.array(draw(st.lists(coarse, min_size=n, max_size=n)))
    theory = np.array(
        draw(st.lists(st.floats(-10.0, 10.0).map(lambda v: round(v, 1)), min_size=n, max_size=n))
    )
    half = np.array(
        draw(st.lists(st.floats(0.0, 0.03).map(lambda v: round(v, 3)), min_size=n, max_size=n))
    )
    upper, lower = half.copy(), -half
    for arr in (upper, lower):
        blanks = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
        arr[blanks] = np.nan
    judged = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    k_lo = draw(st.floats(-0.01, 0.0).map(lambda v: round(v, 4)))
    k_hi = draw(st.floats(0.0, 0.01).map(lambda v: round(v, 4)))
    return errors, theory, upper, lower, judged, np.array([k_lo, k_hi])


@settings(max_examples=150, deadline=None)
@given(rotated_tracks(), st.randoms(use_true_random=False))
def test_no_allowed_offset_and_rotation_fails_fewer_points(
    track: tuple[np.ndarray, ...], random: object
) -> None:
    errors, theory, upper, lower, judged, bounds = track
    k_lo, k_hi = float(bounds[0]), float(bounds[1])
    k, c, fails = rotation.best_rotation(errors, theory, upper, lower, judged, k_lo, k_hi)
    assert k_lo <= k <= k_hi
    assert fails == _fails_at(errors, theory, upper, lower, judged, c, k)
    rng = np.random.default_rng(abs(hash(errors.tobytes())) % 2**32)
    for k_try in np.concatenate([[k_lo, k_hi, 0.0], rng.uniform(k_lo, k_hi, 20)]):
        k_try = min(max(float(k_try), k_lo), k_hi)
        c_try, fails_try = linearity.fewest_at(errors, theory, upper, lower, k_try, judged)
        assert fails_try >= fails
        assert _fails_at(errors, theory, upper, lower, judged, c_try, k_try) == fails_try


@settings(max_examples=200, deadline=None)
@given(rotated_tracks())
def test_zero_rotation_bounds_give_the_strict_answer(track: tuple[np.ndarray, ...]) -> None:
    errors, theory, upper, lower, _, _ = track
    everything = np.ones(errors.size, dtype=np.bool_)
    k, c, fails = rotation.best_rotation(errors, theory, upper, lower, everything, 0.0, 0.0)
    assert k == 0.0
    assert c == linearity.optimal_offset(errors, upper, lower)
    assert fails == linearity.count_failures(errors, upper, lower, c)


def test_a_tilted_curve_passes_only_when_the_line_may_rotate() -> None:
    theory = np.linspace(0.0, 10.0, 41)
    errors = 0.003 * theory - 0.015  # 0.03 V of tilt across a +/-0.01 band
    upper, lower = np.full(41, 0.01), np.full(41, -0.01)
    judged = np.ones(41, dtype=np.bool_)
    _, _, strict = rotation.best_rotation(errors, theory, upper, lower, judged, 0.0, 0.0)
    assert strict > 0
    k, c, fails = rotation.best_rotation(errors, theory, upper, lower, judged, -0.005, 0.005)
    assert fails == 0
    assert k == pytest.approx(-0.003)  # the widest room: the tilt taken out exactly
    assert c == pytest.approx(0.015)


def test_a_rotation_too_small_still_gives_the_exact_fewest_failures() -> None:
    theory = np.linspace(0.0, 10.0, 12)
    errors = 0.004 * theory - 0.02  # 0.04 V of tilt; rotation takes out at most 0.01
    upper, lower = np.full(12, 0.01), np.full(12, -0.01)
    judged = np.ones(12, dtype=np.bool_)
    k, _c, fails = rotation.best_rotation(errors, theory, upper, lower, judged, -0.001, 0.001)
    assert fails == rotation_reference(errors, theory, upper, lower, judged, -0.001, 0.001)
    assert 0 < fails < rotation.best_rotation(errors, theory, upper, lower, judged, 0.0, 0.0)[2]
    assert -0.001 <= k < 0.0


def test_excluded_and_unlimited_points_never_fail_and_swapped_limits_always_do() -> None:
    theory = np.linspace(0.0, 5.0, 6)
    errors = np.array([0.5, 0.0, 0.0, 0.0, 0.0, -0.5])
    upper = np.array([0.01, 0.01, np.nan, 0.01, -0.2, 0.01])
    lower = np.array([-0.01, -0.01, np.nan, -0.01, 0.2, -0.01])  # point 4: swapped
    judged = np.array([False, True, True, True, True, False])
    k, c, fails = rotation.best_rotation(errors, theory, upper, lower, judged, -0.01, 0.01)
    assert fails == 1
    mask = band.outside_mask(errors, upper, lower, c, theory, k, ~judged)
    assert mask.tolist() == [False, False, False, False, True, False]


def test_no_limits_anywhere_keeps_the_line_where_it_is() -> None:
    errors = np.array([0.1, 0.3, 0.2])
    blank = np.full(3, np.nan)
    judged = np.ones(3, dtype=np.bool_)
    k, c, fails = rotation.best_rotation(errors, np.arange(3.0), blank, blank, judged, -0.1, 0.2)
    assert (k, fails) == (0.0, 0)
    assert c == pytest.approx(-0.2)


def test_the_compiled_window_and_the_numpy_mask_agree_bit_for_bit() -> None:
    rng = np.random.default_rng(7)
    n = 2000
    errors = np.round(rng.normal(0.0, 0.01, n), 4)
    theory = np.round(rng.uniform(-10, 10, n), 3)
    upper = np.where(rng.random(n) < 0.1, np.nan, 0.01)
    lower = np.where(rng.random(n) < 0.1, np.nan, -0.01)
    judged = rng.random(n) > 0.05
    for k in (0.0, 1e-3, -2.5e-3, 0.1234567):
        low, high, constrained = linearity.offset_intervals(errors, theory, upper, lower, k, judged)
        for c in (0.0, 0.0031, -0.0049, float(low[3])):
            kernel = linearity.outside(low, high, constrained, c)
            mask = band.outside_mask(errors, upper, lower, c, theory, k, ~judged)
            assert kernel.tolist() == mask.tolist()
