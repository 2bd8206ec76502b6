"""Do stations differ for one model? Per-station summaries and three tests.

- One-way ANOVA (F, p): the classic test of equal means, assuming equal
  variances.
- Welch's ANOVA (F, p): equal means without assuming equal variances;
  stations rarely have the same spread.
- Kruskal-Wallis (H, p, with the tie correction): compares rank
  distributions, because sigma gradient and linearity error are skewed (both
  bounded below by 0) and a few outliers would dominate a mean.
`differ` answers the page's question with Kruskal-Wallis at `alpha` (the
skew-safe one); the others are shown beside it. A station with fewer than 2
values takes part in no test (it is listed in `excluded`), and the tests need
at least 2 stations that remain. p-values come from `special` (no scipy).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from central.spc.errors import SpcErrorCode, SpcInputError
from central.spc.series import (
    ArrayLike,
    FloatArray,
    Unavailable,
    UnavailableReason,
    as_series,
    negligible,
    zero_spread,
)
from central.spc.special import chi2_sf, f_sf

DEFAULT_ALPHA = 0.05
MIN_GROUP_SIZE = 2
MIN_GROUPS = 2


@dataclass(frozen=True)
class GroupSummary:
    """One station's distribution, enough to draw a box plot and label its mean."""

    name: str
    n: int
    mean: float | None
    sd: float | None  # ddof = 1; None below 2 values
    median: float | None
    q1: float | None  # quartiles by linear interpolation (numpy's default)
    q3: float | None
    minimum: float | None
    maximum: float | None


@dataclass(frozen=True)
class DifferenceTest:
    """A test statistic, its degrees of freedom and p-value."""

    name: str
    statistic: float
    df1: float
    df2: float | None  # None for chi-square based tests
    p_value: float

    def significant(self, alpha: float = DEFAULT_ALPHA) -> bool:
        """Whether the p-value is below alpha."""
        return self.p_value < alpha


@dataclass(frozen=True)
class Comparison:
    """Every station's summary and the tests of whether they differ."""

    groups: tuple[GroupSummary, ...]
    excluded: tuple[str, ...]  # stations with too few values to take part in the tests
    anova: DifferenceTest | Unavailable
    welch: DifferenceTest | Unavailable
    kruskal: DifferenceTest | Unavailable
    alpha: float

    @property
    def differ(self) -> bool | None:
        """Kruskal-Wallis says the stations differ at alpha; None when it cannot say."""
        if isinstance(self.kruskal, Unavailable):
            return None
        return self.kruskal.significant(self.alpha)


def summarize(name: str, values: FloatArray) -> GroupSummary:
    """n, mean, sd, median, quartiles and range of one station's values."""
    if values.size == 0:
        return GroupSummary(name, 0, None, None, None, None, None, None, None)
    q1, median, q3 = (float(q) for q in np.percentile(values, [25, 50, 75]))
    return GroupSummary(
        name=name,
        n=int(values.size),
        mean=float(np.mean(values)),
        sd=float(np.std(values, ddof=1)) if values.size >= 2 else None,
        median=median,
        q1=q1,
        q3=q3,
        minimum=float(np.min(values)),
        maximum=float(np.max(values)),
    )


def one_way_anova(groups: list[FloatArray]) -> DifferenceTest | Unavailable:
    """F = between-group mean square / within-group mean square, df (k - 1, N - k)."""
    k = len(groups)
    total = sum(g.size for g in groups)
    grand = float(sum(float(np.sum(g)) for g in groups)) / total
    between = sum(g.size * (float(np.mean(g)) - grand) ** 2 for g in groups)
    within = sum(float(np.sum((g - np.mean(g)) ** 2)) for g in groups)
    largest = max(float(np.max(np.abs(g))) for g in groups)
    if negligible(float(np.sqrt(within / total)), largest):
        return zero_spread("ANOVA (no station's values vary)")
    df1, df2 = k - 1, total - k
    statistic = (between / df1) / (within / df2)
    return DifferenceTest(
        "one-way ANOVA", statistic, float(df1), float(df2), f_sf(statistic, df1, df2)
    )


def welch_anova(groups: list[FloatArray]) -> DifferenceTest | Unavailable:
    """Welch's F for unequal variances, with its fractional denominator df.

    w_i = n_i / s_i^2, m = sum w_i mean_i / sum w_i,
    A = sum w_i (mean_i - m)^2 / (k - 1),
    T = sum (1 - w_i / sum w)^2 / (n_i - 1),
    F = A / (1 + 2 (k - 2) T / (k^2 - 1)), df = (k - 1, (k^2 - 1) / (3 T)).
    """
    k = len(groups)
    sizes = np.array([g.size for g in groups], dtype=np.float64)
    variances = np.array([np.var(g, ddof=1) for g in groups])
    if any(
        negligible(float(np.sqrt(v)), float(np.max(np.abs(g))))
        for v, g in zip(variances, groups, strict=True)
    ):
        return zero_spread("Welch's ANOVA (a station's values do not vary)")
    means = np.array([np.mean(g) for g in groups])
    weights = sizes / variances
    centre = float(np.sum(weights * means) / np.sum(weights))
    spread = float(np.sum(weights * (means - centre) ** 2)) / (k - 1)
    tail = float(np.sum((1.0 - weights / np.sum(weights)) ** 2 / (sizes - 1.0)))
    statistic = spread / (1.0 + 2.0 * (k - 2) * tail / (k * k - 1))
    df2 = (k * k - 1) / (3.0 * tail)
    return DifferenceTest(
        "Welch's ANOVA", statistic, float(k - 1), df2, f_sf(statistic, k - 1.0, df2)
    )


def average_ranks(values: FloatArray) -> FloatArray:
    """Ranks 1..N, ties sharing the average of the ranks they span."""
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    ends = np.concatenate((starts[1:], [ordered.size]))
    tied_rank = (starts + ends + 1) / 2.0  # mean of ranks start+1 .. end
    ranks = np.empty(values.size)
    ranks[order] = np.repeat(tied_rank, ends - starts)
    return ranks


def kruskal_wallis(groups: list[FloatArray]) -> DifferenceTest | Unavailable:
    """H = 12 / (N (N + 1)) sum R_i^2 / n_i - 3 (N + 1), divided by the tie correction.

    Computed as 12 / (N (N + 1)) sum n_i (mean rank_i - (N + 1) / 2)^2, the
    same number without subtracting two values of order N^2 (for a million
    units the textbook form would lose four digits). The correction is
    1 - sum (t^3 - t) / (N^3 - N) over groups of t tied values; p from
    chi-square with k - 1 df.
    """
    pooled = np.concatenate(groups)
    total = pooled.size
    ranks = average_ranks(pooled)
    bounds = np.cumsum([0] + [g.size for g in groups])
    middle = (total + 1) / 2.0
    h = float(
        12.0
        / (total * (total + 1.0))
        * sum(
            (bounds[i + 1] - bounds[i])
            * (float(np.mean(ranks[bounds[i] : bounds[i + 1]])) - middle) ** 2
            for i in range(len(groups))
        )
    )
    _, ties = np.unique(pooled, return_counts=True)
    correction = 1.0 - float(np.sum(ties.astype(np.float64) ** 3 - ties)) / (total**3 - total)
    if correction <= 0.0:
        return zero_spread("Kruskal-Wallis (every value is the same)")
    h /= correction
    df = len(groups) - 1
    return DifferenceTest("Kruskal-Wallis", h, float(df), None, chi2_sf(h, df))


def compare_groups(groups: Mapping[str, ArrayLike], *, alpha: float = DEFAULT_ALPHA) -> Comparison:
    """Summaries of every group (station) and whether their values differ."""
    if not 0.0 < alpha < 1.0:
        raise SpcInputError(SpcErrorCode.BAD_PARAMETER, f"alpha must lie in (0, 1), got {alpha}")
    arrays = {name: as_series(values, f"values of {name}") for name, values in groups.items()}
    summaries = tuple(summarize(name, values) for name, values in arrays.items())
    taking_part = [v for v in arrays.values() if v.size >= MIN_GROUP_SIZE]
    excluded = tuple(name for name, v in arrays.items() if v.size < MIN_GROUP_SIZE)
    if len(taking_part) < MIN_GROUPS:
        missing = Unavailable(
            UnavailableReason.TOO_FEW_GROUPS,
            f"comparing stations needs at least {MIN_GROUPS} stations with "
            f"{MIN_GROUP_SIZE} or more values; this selection has {len(taking_part)}",
        )
        return Comparison(summaries, excluded, missing, missing, missing, alpha)
    return Comparison(
        groups=summaries,
        excluded=excluded,
        anova=one_way_anova(taking_part),
        welch=welch_anova(taking_part),
        kruskal=kruskal_wallis(taking_part),
        alpha=alpha,
    )
