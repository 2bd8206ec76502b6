"""Bodies of the read API for the quality page and the station comparison.

Kept apart from central/api/schemas.py (same conventions: `Body`, `finite`,
nothing computed here, only named and copied) so the two pages' bodies can
grow without touching the others'.
"""

from __future__ import annotations

from pydantic import Field

from central.api.schemas import Body, FiltersOut


class QualityRowOut(Body):
    """One group of /quality: its units under the governing policy and the strict rule,
    the adjustment that rescued them, and its serials' first-pass and final yield.

    The group's keys are the columns of `group_by`; the others are null. A key
    that is null within `group_by` is a model missing from the spec table."""

    model: str | None
    station: str | None
    element_type: str | None
    product_class: str | None
    units: int
    passed: int = Field(description="Units that pass under the governing policy.")
    strict_passed: int = Field(description="Units that pass under the strict rule too.")
    yield_pct: float | None = Field(description="Yield under the governing policy.")
    strict_yield_pct: float | None = Field(description="Yield under the strict rule.")
    rescued: int = Field(description="Units that pass, but not strictly.")
    rescued_by_rotation: int
    rescued_by_excluded: int
    rescued_by_both: int
    rescued_unjudged: int = Field(description="Rescued units without a stored curve.")
    serials: int
    first_pass: int
    final_pass: int
    first_pass_yield_pct: float | None
    final_yield_pct: float | None


class Quality(Body):
    filters: FiltersOut
    group: str = Field(description="The grouping asked for (or the default).")
    group_by: list[str] = Field(description="The row columns that name a group.")
    rows: list[QualityRowOut]
    total: QualityRowOut = Field(description="All rows together (keys null).")


class DistributionOut(Body):
    """One metric's distribution at one station, over every analysed track of the window."""

    n: int
    mean: float | None
    sd: float | None
    minimum: float | None
    p05: float | None
    p25: float | None
    median: float | None
    p75: float | None
    p95: float | None
    maximum: float | None
    tested: int = Field(description="The latest tracks the tests used (at most values_cap).")


class StationCompareOut(Body):
    station: str
    sigma: DistributionOut
    linearity: DistributionOut


class DifferenceTestOut(Body):
    """A test of whether the stations differ, or why it could not run."""

    name: str
    statistic: float | None
    df1: float | None
    df2: float | None
    p_value: float | None
    significant: bool | None = Field(description="p-value below alpha.")
    message: str | None = Field(description="Why the test could not run.")


class MetricComparison(Body):
    metric: str = Field(description="sigma or linearity.")
    label: str
    alpha: float
    differ: bool | None = Field(description="Kruskal-Wallis (the headline) says they differ.")
    tests: list[DifferenceTestOut] = Field(description="Kruskal-Wallis, Welch, one-way ANOVA.")
    excluded: list[str] = Field(description="Stations with too few tracks for the tests.")
    capped: bool = Field(description="The tests used each station's latest values only.")


class ModelCompare(Body):
    model: str
    filters: FiltersOut
    values_cap: int
    linearity_specs: list[float]
    rows: list[StationCompareOut]
    comparisons: list[MetricComparison]
