"""CUSUM and EWMA worked out step by step, the baseline, the scorecard state, and the rules."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from central.spc.drift import (
    Baseline,
    Cusum,
    Direction,
    DriftState,
    Ewma,
    cusum,
    drift_state,
    estimate_baseline,
    ewma,
)
from central.spc.errors import SpcErrorCode, SpcInputError
from central.spc.series import Unavailable, UnavailableReason

UNIT = Baseline(mean=10.0, sd=1.0, points=0)


def as_cusum(result: Cusum | Unavailable) -> Cusum:
    assert isinstance(result, Cusum), result
    return result


def as_ewma(result: Ewma | Unavailable) -> Ewma:
    assert isinstance(result, Ewma), result
    return result


def test_cusum_step_by_step() -> None:
    # Baseline mean 10, sd 1; K = 0.5, H = 5.
    #  i  x   x-10.5  C+                      9.5-x  C-
    #  0  10  -0.5    max(0, 0 - 0.5)  = 0    -0.5   0
    #  1  11   0.5    0 + 0.5          = 0.5  -1.5   0
    #  2  12   1.5    0.5 + 1.5        = 2.0  -2.5   0
    #  3  12   1.5    3.5                     -2.5   0
    #  4  13   2.5    6.0  > 5: alarm up      -3.5   0
    #  5  11   0.5    6.5  alarm              -1.5   0
    #  6   9  -1.5    5.0  (= H, not beyond)   0.5   0.5
    #  7   8  -2.5    2.5                      1.5   2.0
    #  8   7  -3.5    0                        2.5   4.5
    #  9   6  -4.5    0                        3.5   8.0  > 5: alarm down
    # 10   6  -4.5    0                        3.5  11.5  alarm
    result = as_cusum(cusum([10, 11, 12, 12, 13, 11, 9, 8, 7, 6, 6], baseline=UNIT))
    assert result.upper.tolist() == [0, 0.5, 2, 3.5, 6, 6.5, 5, 2.5, 0, 0, 0]
    assert result.lower.tolist() == [0, 0, 0, 0, 0, 0, 0.5, 2, 4.5, 8, 11.5]
    assert result.alarms_up == (4, 5)
    assert result.alarms_down == (9, 10)
    assert result.first_alarm == (4, Direction.UP)
    assert result.state is Direction.DOWN
    assert result.allowance == 0.5 and result.decision_interval == 5.0


def test_cusum_in_the_data_units() -> None:
    # The same series scaled: mean 1.0, sd 0.1 -> K = 0.05, H = 0.5; sums scale by 0.1.
    values = np.array([10, 11, 12, 12, 13, 11, 9, 8, 7, 6, 6]) / 10
    result = as_cusum(cusum(values, baseline=Baseline(1.0, 0.1, 0)))
    assert result.upper == pytest.approx(np.array([0, 0.5, 2, 3.5, 6, 6.5, 5, 2.5, 0, 0, 0]) / 10)
    assert result.decision_interval == pytest.approx(0.5)
    assert result.alarms_up == (4, 5)


def test_a_process_on_target_raises_nothing() -> None:
    result = as_cusum(cusum([10, 10.4, 9.6, 10.2, 9.9, 10.1], baseline=UNIT))
    assert result.first_alarm is None and result.state is None
    assert result.alarms_up == () == result.alarms_down


def test_cusum_parameters_can_be_changed() -> None:
    # k = 1, h = 2: C+ = max(0, C+ + x - 11): 0, 1, 2, 3 -> alarm at index 3 (3 > 2).
    result = as_cusum(cusum([11, 12, 12, 12], baseline=UNIT, k=1.0, h=2.0))
    assert result.upper.tolist() == [0, 1, 2, 3]
    assert result.alarms_up == (3,)


def test_ewma_step_by_step() -> None:
    # Baseline mean 0, sd 1; lambda 0.2, L = 3.
    #  z1 = 0.2 * 1 + 0.8 * 0     = 0.2
    #  z2 = 0.2 * 1 + 0.8 * 0.2   = 0.36
    #  z3 = 0.2 * 1 + 0.8 * 0.36  = 0.488
    #  z4 = 0.2 * 2 + 0.8 * 0.488 = 0.7904
    #  z5 = 0.2 * 4 + 0.8 * 0.7904 = 1.43232
    # limit_i = 3 sqrt(0.2 / 1.8 * (1 - 0.8^(2i))):
    #  i=1: 3 sqrt(0.11111 * 0.36)        = 0.6
    #  i=2: 3 sqrt(0.11111 * 0.5904)      = 0.768375
    #  i=3: 3 sqrt(0.11111 * 0.737856)    = 0.858985
    #  i=4: 3 sqrt(0.11111 * 0.83222784)  = 0.912265
    #  i=5: 3 sqrt(0.11111 * 0.892625818) = 0.944789  < z5: alarm up at index 4
    result = as_ewma(ewma([1, 1, 1, 2, 4], baseline=Baseline(0.0, 1.0, 0)))
    assert result.statistic == pytest.approx([0.2, 0.36, 0.488, 0.7904, 1.43232])
    assert result.ucl == pytest.approx([0.6, 0.768375, 0.858985, 0.912265, 0.944789], abs=1e-6)
    assert result.lcl == pytest.approx(-result.ucl)
    assert result.alarms_up == (4,)
    assert result.alarms_down == ()
    assert result.first_alarm == (4, Direction.UP)
    assert result.state is Direction.UP


def test_ewma_limits_widen_towards_the_asymptote() -> None:
    # As i grows the limit tends to L sd sqrt(lambda / (2 - lambda)) = 3 / 3 = 1.
    result = as_ewma(ewma(np.zeros(200), baseline=Baseline(0.0, 1.0, 0)))
    assert result.ucl[0] == pytest.approx(0.6)
    assert np.all(np.diff(result.ucl) >= 0)
    assert result.ucl[-1] == pytest.approx(1.0, abs=1e-12)


def test_ewma_downward_drift_and_other_parameters() -> None:
    # lambda = 0.5, L = 1: z1 = 0.5 * -1 = -0.5, z2 = -1 - 0.25 = -1.25, z3 = -1 - 0.625;
    # limits sqrt(1/3 (1 - 0.25^i)): 0.5, 0.559, 0.573. z1 = -0.5 lies exactly on the lower
    # limit, which is not outside it; z2 and z3 are below it.
    result = as_ewma(ewma([-1, -2, -2], baseline=Baseline(0.0, 1.0, 0), lam=0.5, width=1.0))
    assert result.statistic.tolist() == [-0.5, -1.25, -1.625]
    assert result.lcl == pytest.approx([-0.5, -math.sqrt(1 / 3 * 0.9375), -math.sqrt(21 / 64)])
    assert result.lcl[0] == -0.5
    assert result.alarms_down == (1, 2)
    assert result.first_alarm == (1, Direction.DOWN)
    assert result.state is Direction.DOWN


def test_baseline_from_the_first_points() -> None:
    # First 5 of 1 2 3 4 5 9 9: mean 3, sd = sqrt(10 / 4) = 1.581139.
    base = estimate_baseline([1, 2, 3, 4, 5, 9, 9], points=5)
    assert isinstance(base, Baseline)
    assert (base.mean, base.points) == (3.0, 5)
    assert base.sd == pytest.approx(math.sqrt(2.5))
    # CUSUM from that baseline: K = 0.5 * 1.581139 = 0.790569, so x - 3.790569 accumulates:
    #   x = 1, 2, 3: C+ stays 0;  x = 4: 0.209431;  x = 5: 0.209431 + 1.209431 = 1.418861
    #   x = 9: 1.418861 + 5.209431 = 6.628292 (H = 5 * 1.581139 = 7.905694: no alarm yet)
    #   x = 9: 6.628292 + 5.209431 = 11.837722 > H: alarm up at index 6
    result = as_cusum(cusum([1, 2, 3, 4, 5, 9, 9], baseline_points=5))
    assert result.baseline == base
    assert result.upper.tolist()[:3] == [0, 0, 0]
    assert result.upper[3:] == pytest.approx([0.209431, 1.418861, 6.628292, 11.837722], abs=1e-6)
    assert result.decision_interval == pytest.approx(7.905694, abs=1e-6)
    assert result.alarms_up == (6,)


def test_the_default_baseline_is_the_first_20_points() -> None:
    values = np.concatenate([np.tile([9.0, 11.0], 10), [13.0] * 5])
    result = as_ewma(ewma(values))
    assert result.baseline.points == 20
    assert result.baseline.mean == 10.0
    assert result.baseline.sd == pytest.approx(float(np.std([9.0, 11.0] * 10, ddof=1)))


def test_too_short_or_flat_baselines_give_a_reason() -> None:
    short = cusum([1.0, 2.0, 3.0])
    assert isinstance(short, Unavailable)
    assert short.reason is UnavailableReason.TOO_FEW_POINTS
    assert "at least 20" in short.message
    flat = ewma([4.0] * 25)
    assert isinstance(flat, Unavailable)
    assert flat.reason is UnavailableReason.ZERO_SPREAD


@pytest.mark.parametrize(
    "call",
    [
        lambda: estimate_baseline([1.0, 2.0, 3.0], points=1),
        lambda: Baseline(mean=1.0, sd=0.0, points=0),
        lambda: Baseline(mean=math.inf, sd=1.0, points=0),
        lambda: cusum([1.0] * 30, k=0.0),
        lambda: cusum([1.0] * 30, h=-1.0),
        lambda: ewma([1.0] * 30, lam=0.0),
        lambda: ewma([1.0] * 30, lam=1.5),
        lambda: ewma([1.0] * 30, width=math.nan),
        lambda: cusum([1.0, math.nan] * 15),
    ],
)
def test_bad_parameters_are_refused(call: object) -> None:
    with pytest.raises(SpcInputError) as caught:
        call()  # type: ignore[operator]
    assert caught.value.code in {SpcErrorCode.BAD_PARAMETER, SpcErrorCode.NON_FINITE}


def test_drift_state_for_the_scorecard() -> None:
    up = cusum([10, 13, 13, 13], baseline=UNIT)  # C+ = 0, 2.5, 5.0, 7.5: the newest > 5
    down = cusum([10, 7, 7, 7], baseline=UNIT)
    calm = cusum([10, 10, 10, 10], baseline=UNIT)
    ewma_up = ewma([10, 13, 13, 13], baseline=UNIT)  # z = 10, 10.6, 11.08, 11.464 > 10.91
    ewma_calm = ewma([10, 10, 10, 10], baseline=UNIT)
    missing = cusum([1.0])
    missing_ewma = ewma([1.0])
    assert drift_state(up, ewma_up) is DriftState.UP
    assert drift_state(up, ewma_calm) is DriftState.UP
    assert drift_state(down, ewma_calm) is DriftState.DOWN
    assert drift_state(calm, ewma_calm) is DriftState.STABLE
    assert drift_state(down, ewma_up) is DriftState.MIXED
    assert drift_state(missing, missing_ewma) is DriftState.UNKNOWN
    assert drift_state(missing, ewma_up) is DriftState.UP


def test_results_cannot_be_changed_afterwards() -> None:
    result = as_cusum(cusum([10, 11, 12], baseline=UNIT))
    with pytest.raises(ValueError, match="read-only"):
        result.upper[0] = 3.0


series = st.lists(st.floats(-50.0, 50.0), min_size=1, max_size=150)
baselines = st.builds(
    Baseline, mean=st.floats(-20.0, 20.0), sd=st.floats(0.01, 20.0), points=st.just(0)
)


@settings(max_examples=200, deadline=None)
@given(values=series, base=baselines)
def test_cusum_sums_are_never_negative_and_mirror_each_other(
    values: list[float], base: Baseline
) -> None:
    result = as_cusum(cusum(values, baseline=base))
    assert np.all(result.upper >= 0) and np.all(result.lower >= 0)
    mirrored = as_cusum(cusum([-v for v in values], baseline=Baseline(-base.mean, base.sd, 0)))
    np.testing.assert_allclose(mirrored.upper, result.lower, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(mirrored.lower, result.upper, rtol=1e-9, atol=1e-9)


@settings(max_examples=200, deadline=None)
@given(values=series, base=baselines)
def test_cusum_matches_its_recursion_step_by_step(values: list[float], base: Baseline) -> None:
    # The implementation uses Lindley's identity; the definition is the recursion.
    result = as_cusum(cusum(values, baseline=base))
    high = low = 0.0
    scale = base.sd * len(values) + max(abs(v - base.mean) for v in values)
    for i, value in enumerate(values):
        high = max(0.0, high + value - (base.mean + 0.5 * base.sd))
        low = max(0.0, low + (base.mean - 0.5 * base.sd) - value)
        assert result.upper[i] == pytest.approx(high, abs=1e-12 * scale)
        assert result.lower[i] == pytest.approx(low, abs=1e-12 * scale)


@settings(max_examples=200, deadline=None)
@given(values=series, base=baselines)
def test_ewma_matches_its_closed_form(values: list[float], base: Baseline) -> None:
    # z_i = (1 - l)^i mean + sum_j l (1 - l)^(i - j) x_j, computed term by term.
    result = as_ewma(ewma(values, baseline=base))
    lam = 0.2
    for i in range(len(values)):
        expected = (1 - lam) ** (i + 1) * base.mean + sum(
            lam * (1 - lam) ** (i - j) * values[j] for j in range(i + 1)
        )
        assert result.statistic[i] == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert np.all(result.lcl < base.mean) and np.all(result.ucl > base.mean)


@settings(max_examples=150, deadline=None)
@given(values=st.lists(st.integers(-100, 100), min_size=20, max_size=120))
def test_shift_and_scale_leave_the_alarms_alone(values: list[int]) -> None:
    # Integers and a power-of-two scale keep the arithmetic exact enough that no alarm moves.
    first_c, first_e = cusum(values), ewma(values)
    if isinstance(first_c, Unavailable):
        assert isinstance(first_e, Unavailable)
        return
    assert isinstance(first_e, Ewma)
    for moved in ([v + 1000 for v in values], [v * 4.0 for v in values]):
        c, e = as_cusum(cusum(moved)), as_ewma(ewma(moved))
        assert (c.alarms_up, c.alarms_down) == (first_c.alarms_up, first_c.alarms_down)
        assert (e.alarms_up, e.alarms_down) == (first_e.alarms_up, first_e.alarms_down)
