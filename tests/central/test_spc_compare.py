"""Station comparison: summaries, ANOVA, Welch and Kruskal-Wallis by hand and against scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from central.spc.compare import (
    Comparison,
    DifferenceTest,
    average_ranks,
    compare_groups,
)
from central.spc.errors import SpcErrorCode, SpcInputError
from central.spc.series import Unavailable, UnavailableReason


def outcome(result: DifferenceTest | Unavailable) -> DifferenceTest:
    assert isinstance(result, DifferenceTest), result
    return result


def test_two_stations_by_hand() -> None:
    # A = 1 2 3, B = 4 5 6; grand mean 3.5.
    # ANOVA: between = 3 (2 - 3.5)^2 + 3 (5 - 3.5)^2 = 13.5 (df 1); within = 2 + 2 = 4 (df 4)
    #        F = 13.5 / (4 / 4) = 13.5
    # Welch: s^2 = 1 each, w = 3 each, A = 13.5, T = 2 (1 - 0.5)^2 / 2 = 0.25,
    #        F = 13.5 / (1 + 0) = 13.5, df2 = 3 / (3 * 0.25) = 4 (two groups: the t-test)
    # Kruskal-Wallis: rank sums 6 and 15; H = 12 / 42 (36/3 + 225/3) - 21 = 3.857143
    result = compare_groups({"A": [1, 2, 3], "B": [4, 5, 6]})
    anova, welch, kruskal = outcome(result.anova), outcome(result.welch), outcome(result.kruskal)
    assert (anova.statistic, anova.df1, anova.df2) == pytest.approx((13.5, 1, 4))
    assert (welch.statistic, welch.df1, welch.df2) == pytest.approx((13.5, 1, 4))
    assert kruskal.statistic == pytest.approx(27 / 7)
    assert kruskal.df1 == 1 and kruskal.df2 is None
    # p-values: F(1, 4) tail at 13.5, chi-square(1) tail at 3.857143
    assert anova.p_value == pytest.approx(stats.f.sf(13.5, 1, 4), abs=1e-12)
    assert anova.p_value == pytest.approx(0.021311641128756, abs=1e-9)
    assert kruskal.p_value == pytest.approx(0.049534613435626, abs=1e-9)
    assert kruskal.significant(0.05) and not kruskal.significant(0.01)
    assert result.differ is True


def test_summaries_for_box_plots() -> None:
    result = compare_groups({"line-1": [4.0, 1.0, 3.0, 2.0, 10.0], "line-2": [5.0]})
    first, second = result.groups
    assert first.name == "line-1"
    assert (first.n, first.mean, first.median) == (5, 4.0, 3.0)
    assert first.sd == pytest.approx(math.sqrt(50 / 4))
    assert (first.q1, first.q3, first.minimum, first.maximum) == (2.0, 4.0, 1.0, 10.0)
    assert (second.n, second.mean, second.sd, second.median) == (1, 5.0, None, 5.0)


def test_ties_are_ranked_and_corrected_by_hand() -> None:
    # A = 1 1 2, B = 2 3 3: ranks 1.5 1.5 3.5 | 3.5 5.5 5.5, sums 6.5 and 14.5
    # H = 12 / 42 (6.5^2 / 3 + 14.5^2 / 3) - 21 = 3.047619
    # three pairs of ties: correction 1 - 3 (2^3 - 2) / (6^3 - 6) = 1 - 18 / 210 = 0.914286
    # H = 3.047619 / 0.914286 = 3.333333
    assert average_ranks(np.array([1.0, 1.0, 2.0, 2.0, 3.0, 3.0])).tolist() == [
        1.5,
        1.5,
        3.5,
        3.5,
        5.5,
        5.5,
    ]
    kruskal = outcome(compare_groups({"A": [1, 1, 2], "B": [2, 3, 3]}).kruskal)
    assert kruskal.statistic == pytest.approx(10 / 3)
    assert kruskal.statistic == pytest.approx(stats.kruskal([1, 1, 2], [2, 3, 3]).statistic)


def test_stations_with_too_few_values_sit_out_the_tests() -> None:
    result = compare_groups({"a": [1.0, 2.0, 3.0], "b": [4.0], "c": []})
    assert result.excluded == ("b", "c")
    for test in (result.anova, result.welch, result.kruskal):
        assert isinstance(test, Unavailable)
        assert test.reason is UnavailableReason.TOO_FEW_GROUPS
    assert result.differ is None
    assert [g.n for g in result.groups] == [3, 1, 0]
    assert result.groups[2].mean is None
    three = compare_groups({"a": [1.0, 2.0, 3.0], "b": [4.0], "c": [6.0, 7.5, 6.5]})
    assert three.excluded == ("b",)
    assert outcome(three.anova).df1 == 1  # a and c only


def test_no_spread_gives_reasons_but_ranks_still_work() -> None:
    # Each station constant, the two different: F and Welch are undefined; Kruskal-Wallis
    # has ranks 1.5 1.5 | 3.5 3.5, H = 0.6 (9/2 + 49/2) - 15 = 2.4, ties 1 - 12/60 = 0.8 -> 3.
    result = compare_groups({"a": [1.0, 1.0], "b": [2.0, 2.0]})
    assert isinstance(result.anova, Unavailable)
    assert result.anova.reason is UnavailableReason.ZERO_SPREAD
    assert isinstance(result.welch, Unavailable)
    assert outcome(result.kruskal).statistic == pytest.approx(3.0)
    same = compare_groups({"a": [1.0, 1.0], "b": [1.0, 1.0]})
    assert isinstance(same.kruskal, Unavailable)
    assert same.differ is None


def test_welch_needs_every_station_to_vary() -> None:
    result = compare_groups({"a": [1.0, 1.0, 1.0], "b": [2.0, 3.0, 4.0]})
    assert isinstance(result.welch, Unavailable)
    assert isinstance(result.anova, DifferenceTest)


def test_bad_input_is_refused() -> None:
    with pytest.raises(SpcInputError) as caught:
        compare_groups({"a": [1.0, math.nan], "b": [1.0, 2.0]})
    assert caught.value.code is SpcErrorCode.NON_FINITE
    assert "values of a" in caught.value.message
    with pytest.raises(SpcInputError):
        compare_groups({"a": [1.0, 2.0], "b": [1.0, 3.0]}, alpha=0.0)


def groups_strategy() -> st.SearchStrategy[list[list[float]]]:
    group = st.lists(st.floats(0.0, 100.0), min_size=2, max_size=40)
    return st.lists(group, min_size=2, max_size=8)


def agrees(ours: DifferenceTest, statistic: float, p_value: float, rel: float) -> None:
    if np.isnan(p_value):  # scipy gives up when the means coincide exactly; F = 0 means p = 1
        assert ours.statistic == pytest.approx(0.0, abs=1e-12)
        assert ours.p_value == pytest.approx(1.0)
        return
    assert ours.statistic == pytest.approx(statistic, rel=rel, abs=1e-9)
    if statistic < 1e-6:
        # Stations with (nearly) identical ranks: scipy's H is rounding noise of ~1e-13 where
        # ours is exactly 0, and a chi-square(1) tail near 0 moves like sqrt(H).
        assert ours.p_value == pytest.approx(p_value, abs=1e-3)
    else:
        assert ours.p_value == pytest.approx(p_value, abs=1e-10)
    assert type(ours.statistic) is float and type(ours.p_value) is float


@settings(max_examples=200, deadline=None)
@given(groups=groups_strategy())
def test_all_three_tests_agree_with_scipy(groups: list[list[float]]) -> None:
    assume(all(np.ptp(g) > 1e-6 for g in groups))
    result: Comparison = compare_groups({f"s{i}": g for i, g in enumerate(groups)})
    anova, welch, kruskal = outcome(result.anova), outcome(result.welch), outcome(result.kruskal)
    reference = stats.f_oneway(*groups)
    agrees(anova, reference.statistic, reference.pvalue, rel=1e-9)
    reference = stats.f_oneway(*groups, equal_var=False)
    agrees(welch, reference.statistic, reference.pvalue, rel=1e-8)
    reference = stats.kruskal(*groups)
    agrees(kruskal, reference.statistic, reference.pvalue, rel=1e-9)


def test_skewed_stations_that_really_differ() -> None:
    # Sigma-gradient-like data: lognormal, one station 30 % higher. 20 stations, 400 units each.
    rng = np.random.default_rng(9)
    groups = {f"st-{i:02d}": rng.lognormal(-6.0, 0.5, 400) for i in range(20)}
    groups["st-07"] = groups["st-07"] * 1.3
    result = compare_groups(groups)
    assert result.differ is True
    assert outcome(result.kruskal).p_value < 1e-6
    reference = stats.kruskal(*groups.values())
    assert outcome(result.kruskal).p_value == pytest.approx(reference.pvalue, rel=1e-8)
    same = compare_groups({f"st-{i}": rng.lognormal(-6.0, 0.5, 400) for i in range(5)})
    assert outcome(same.kruskal).p_value > 0.001
