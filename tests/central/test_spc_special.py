"""Our incomplete beta/gamma and distribution tails against scipy (a dev-only reference)."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

from central.spc import special as ours
from central.spc.errors import SpcConvergenceError, SpcErrorCode, SpcInputError

TOLERANCE = 1e-10
SHAPES = [0.05, 0.3, 0.5, 1.0, 1.5, 2.5, 5.0, 9.5, 10.0, 30.0, 100.0, 500.0, 1000.0, 5000.0]
GAMMA_X = [1e-10, 1e-4, 0.01, 0.1, 0.5, 1.0, 2.0, 4.5, 10.0, 30.0, 100.0, 300.0, 1000.0, 6000.0]
BETA_SHAPES = [0.05, 0.5, 1.0, 2.5, 9.99, 10.0, 50.0, 200.0, 1000.0, 10000.0]
BETA_X = [0.0, 1e-8, 1e-3, 0.05, 0.2, 0.5, 0.8, 0.95, 0.999, 1 - 1e-8, 1.0]


def test_lower_and_upper_gamma_match_scipy_over_a_grid() -> None:
    worst = 0.0
    for a, x in itertools.product(SHAPES, GAMMA_X):
        worst = max(worst, abs(ours.regularized_gamma_p(a, x) - special.gammainc(a, x)))
        worst = max(worst, abs(ours.regularized_gamma_q(a, x) - special.gammaincc(a, x)))
    assert worst <= TOLERANCE


def test_incomplete_beta_matches_scipy_over_a_grid() -> None:
    worst = 0.0
    for a, b, x in itertools.product(BETA_SHAPES, BETA_SHAPES, BETA_X):
        worst = max(worst, abs(ours.regularized_beta(a, b, x) - special.betainc(a, b, x)))
    assert worst <= TOLERANCE


@settings(max_examples=300, deadline=None)
@given(
    a=st.floats(0.01, 2000.0),
    b=st.floats(0.01, 2000.0),
    # No subnormal x: at x = 5e-324 scipy's answer is 0.5 % off the leading term
    # x^a / (a B(a, b)) of the series, which ours reproduces.
    x=st.floats(0.0, 1.0, allow_subnormal=False),
)
def test_incomplete_beta_matches_scipy_anywhere(a: float, b: float, x: float) -> None:
    assert ours.regularized_beta(a, b, x) == pytest.approx(special.betainc(a, b, x), abs=1e-10)


@settings(max_examples=300, deadline=None)
@given(a=st.floats(0.01, 2000.0), x=st.floats(0.0, 5000.0, allow_subnormal=False))
def test_gamma_matches_scipy_anywhere(a: float, x: float) -> None:
    assert ours.regularized_gamma_p(a, x) == pytest.approx(special.gammainc(a, x), abs=1e-10)
    assert ours.regularized_gamma_q(a, x) == pytest.approx(special.gammaincc(a, x), abs=1e-10)


@pytest.mark.parametrize("df1", [1, 2, 3, 4.5, 19, 49])
@pytest.mark.parametrize("df2", [1, 3, 10, 57.3, 1000, 20000])
@pytest.mark.parametrize("statistic", [0.01, 0.5, 1.0, 2.7, 10.0, 150.0])
def test_f_survival_matches_scipy(df1: float, df2: float, statistic: float) -> None:
    assert ours.f_sf(statistic, df1, df2) == pytest.approx(
        stats.f.sf(statistic, df1, df2), abs=TOLERANCE
    )


@pytest.mark.parametrize(("statistic", "df1", "df2"), [(3.2, 3, 1e6), (1.2, 19, 999_980)])
def test_f_survival_keeps_its_digits_with_a_million_units(
    statistic: float, df1: float, df2: float
) -> None:
    # lgamma(500000) is about 6e6; without the Stirling form of ln B only ~9 digits survive.
    assert ours.f_sf(statistic, df1, df2) == pytest.approx(
        stats.f.sf(statistic, df1, df2), rel=1e-9
    )


def test_f_survival_keeps_relative_precision_in_the_far_tail() -> None:
    # A p-value of 3e-189 must not be rounded to 0 or to a neighbouring power of ten.
    assert ours.f_sf(50.0, 19, 999_980) == pytest.approx(stats.f.sf(50.0, 19, 999_980), rel=1e-9)


@pytest.mark.parametrize("df", [1, 2, 3, 7, 19, 49, 120])
@pytest.mark.parametrize("statistic", [1e-6, 0.3, 1.0, 3.84, 12.0, 40.0, 200.0])
def test_chi_square_survival_matches_scipy(df: int, statistic: float) -> None:
    assert ours.chi2_sf(statistic, df) == pytest.approx(stats.chi2.sf(statistic, df), abs=TOLERANCE)


@pytest.mark.parametrize("p", [1e-12, 1e-6, 0.001, 0.025, 0.05, 0.3, 0.5, 0.7, 0.95, 0.975, 0.999])
def test_normal_quantile_matches_scipy(p: float) -> None:
    assert ours.normal_quantile(p) == pytest.approx(stats.norm.ppf(p), abs=TOLERANCE)
    assert ours.normal_cdf(ours.normal_quantile(p)) == pytest.approx(p, rel=1e-12)


def test_the_leading_term_near_zero() -> None:
    # For tiny x, I_x(a, b) = x^a / (a B(a, b)) (1 + O(x)); with b = 2, a B(a, 2) = 1 / (a + 1).
    a, x = 0.015625, 5e-324
    assert ours.regularized_beta(a, 2.0, x) == pytest.approx(
        math.exp(a * math.log(x)) * (a + 1), rel=1e-12
    )


def test_the_familiar_values() -> None:
    # z for a two-sided 95 % interval; chi-square(1) at 3.841459 is the 5 % point.
    assert ours.normal_quantile(0.975) == pytest.approx(1.959963984540054, abs=1e-14)
    assert ours.chi2_sf(3.841458820694124, 1) == pytest.approx(0.05, abs=1e-14)
    # F(1, n) is t(n) squared: P(t(4) > 2.776445) = 0.025 on each side.
    assert ours.f_sf(2.7764451051977987**2, 1, 4) == pytest.approx(0.05, abs=1e-13)


def test_ends_of_the_ranges() -> None:
    assert ours.regularized_gamma_p(2.0, 0.0) == 0.0
    assert ours.regularized_gamma_q(2.0, 0.0) == 1.0
    assert ours.regularized_gamma_p(2.0, math.inf) == 1.0
    assert ours.regularized_gamma_q(2.0, math.inf) == 0.0
    assert ours.regularized_beta(2.0, 3.0, 0.0) == 0.0
    assert ours.regularized_beta(2.0, 3.0, 1.0) == 1.0
    assert ours.f_sf(0.0, 2, 5) == 1.0
    assert ours.f_sf(-1.0, 2, 5) == 1.0
    assert ours.f_sf(math.inf, 2, 5) == 0.0
    assert ours.chi2_sf(0.0, 3) == 1.0


@pytest.mark.parametrize(
    "call",
    [
        lambda: ours.regularized_gamma_p(0.0, 1.0),
        lambda: ours.regularized_gamma_q(-1.0, 1.0),
        lambda: ours.regularized_gamma_p(1.0, -0.5),
        lambda: ours.regularized_gamma_p(1.0, math.nan),
        lambda: ours.regularized_beta(0.0, 1.0, 0.5),
        lambda: ours.regularized_beta(1.0, math.inf, 0.5),
        lambda: ours.regularized_beta(1.0, 1.0, 1.5),
        lambda: ours.f_sf(1.0, 0, 5),
        lambda: ours.f_sf(1.0, 2, -5),
        lambda: ours.f_sf(math.nan, 2, 5),
        lambda: ours.chi2_sf(1.0, 0),
        lambda: ours.chi2_sf(math.nan, 2),
        lambda: ours.normal_quantile(0.0),
        lambda: ours.normal_quantile(1.0),
    ],
)
def test_arguments_outside_the_domain_are_refused(call: object) -> None:
    with pytest.raises(SpcInputError) as caught:
        call()  # type: ignore[operator]
    assert caught.value.code is SpcErrorCode.BAD_PARAMETER
    assert str(caught.value).startswith("spc_bad_parameter: ")


def test_a_fraction_that_never_settles_is_an_error_not_a_number() -> None:
    # -1 / (1 - 1 / (1 - 1 / ...)) would satisfy f = -1 / (1 + f), which has no real root:
    # the convergents cycle for ever.
    with pytest.raises(SpcConvergenceError) as caught:
        ours._lentz(itertools.repeat((-1.0, 1.0)))
    assert caught.value.code is SpcErrorCode.NO_CONVERGENCE


def test_a_series_cut_short_is_an_error_not_a_number(monkeypatch: pytest.MonkeyPatch) -> None:
    # P(100, 50) needs dozens of terms; allowed three, the series must refuse to answer.
    monkeypatch.setattr(ours, "MAX_STEPS", 3)
    with pytest.raises(SpcConvergenceError):
        ours.regularized_gamma_p(100.0, 50.0)
