"""The body of `GET /api/v1/priorities`: every figure of the priorities page.

Built from the same `Priorities` the page renders (central/priorities/page.py),
so the API and the page cannot differ. Costs travel as decimal strings
("237.50"): a float would round a plant's money. Like central/api/schemas.py,
nothing here computes a figure; it only names and copies.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import Field

from central.api.schemas import Body, Counts, FiltersOut, finite
from central.priorities.page import Priorities
from central.priorities.queries import Impact, Positions
from central.priorities.recommendations import Recommendation
from central.priorities.weekly import WeekChange
from central.rollup_columns import FAIL_BINS
from shared.charts.pareto import ParetoBar, pareto_order

BIN_PCT = 100 // FAIL_BINS  # the share of the travel one fail-position bin covers

Money = str | None


def decimal_text(value: Decimal) -> str:
    """Two decimals as text, never a float."""
    return f"{value:.2f}"


def money(value: Decimal | None) -> Money:
    return None if value is None else decimal_text(value)


class ImpactOut(Body):
    """One row of a ranking: a model's or a station's failures and what they cost."""

    name: str = Field(description="The model or station; '' for files that named no model.")
    counts: Counts
    fail_share_pct: float | None = Field(description="Its share of the selection's failures.")
    cost: Money = Field(
        description="Failing units x cost per failing unit, decimal text; null: none priced."
    )
    unpriced_fails: int = Field(description="Failing units of models without a unit cost.")

    @classmethod
    def of(cls, row: Impact) -> ImpactOut:
        return cls(
            name=row.name,
            counts=Counts.of(row.counts),
            fail_share_pct=finite(row.fail_share_pct),
            cost=money(row.cost),
            unpriced_fails=row.unpriced_fails,
        )


class WeekChangeOut(Body):
    """This week against the mean week of the four before."""

    name: str
    units: int
    units_before: float = Field(description="Mean units per week over the four weeks.")
    fails: int
    fails_before: float = Field(description="Mean failing units per week.")
    yield_pct: float | None = Field(description="Null: too few verdicts to judge.")
    yield_before_pct: float | None
    yield_change_points: float | None = Field(description="Negative: worse this week.")
    sigma_mean: float | None
    sigma_mean_before: float | None
    sigma_change_pct: float | None

    @classmethod
    def of(cls, row: WeekChange) -> WeekChangeOut:
        return cls(
            name=row.name,
            units=row.units,
            units_before=row.units_before,
            fails=row.fails,
            fails_before=row.fails_before,
            yield_pct=finite(row.yield_pct),
            yield_before_pct=finite(row.yield_before),
            yield_change_points=finite(row.yield_change),
            sigma_mean=finite(row.sigma),
            sigma_mean_before=finite(row.sigma_before),
            sigma_change_pct=finite(row.sigma_change_pct),
        )


class WeeksOut(Body):
    this_start: date
    this_end: date
    before_start: date
    before_end: date
    weeks_with_units_before: int = Field(description="Of the four weeks, those with units.")
    models: list[WeekChangeOut] = Field(description="The largest changes first.")
    stations: list[WeekChangeOut]


class ParetoBarOut(Body):
    part: str = Field(description="The part of the travel, e.g. '0-5' (%).")
    points: float
    share_pct: float
    cumulative_pct: float

    @classmethod
    def of(cls, bar: ParetoBar) -> ParetoBarOut:
        return cls(
            part=bar.label,
            points=bar.value,
            share_pct=bar.share_pct,
            cumulative_pct=bar.cumulative_pct,
        )


class FailPositionsOut(Body):
    bin_pct: int = Field(description="The share of the travel one bin covers (%).")
    points: list[int] = Field(description="Failing points per bin, from the travel's start.")
    tracks: list[int] = Field(description="Tracks with a failing point per bin.")
    pareto: list[ParetoBarOut] = Field(description="The bins, largest first.")

    @classmethod
    def of(cls, positions: Positions) -> FailPositionsOut:
        places = [
            (f"{BIN_PCT * i}-{BIN_PCT * (i + 1)}", float(n)) for i, n in enumerate(positions.points)
        ]
        return cls(
            bin_pct=BIN_PCT,
            points=list(positions.points),
            tracks=list(positions.tracks),
            pareto=[ParetoBarOut.of(b) for b in pareto_order(places, max_bars=len(places))],
        )


class RecommendationOut(Body):
    rule: str = Field(description="Stable code of the rule that fired.")
    text: str
    figure: str = Field(description="The figure that triggered it, as the evidence shows it.")
    evidence: str = Field(description="Link (path and query) to the evidence.")

    @classmethod
    def of(cls, found: Recommendation) -> RecommendationOut:
        return cls(rule=str(found.rule), text=found.text, figure=found.figure, evidence=found.href)


class PrioritiesOut(Body):
    filters: FiltersOut = Field(description="Without dates: the last 28 days, resolved.")
    rank: str = Field(description="fails or cost: what the rankings are ordered by.")
    recommendations: list[RecommendationOut]
    models: list[ImpactOut] = Field(description="Models ranked (what the CSV holds).")
    stations: list[ImpactOut]
    unit_costs: dict[str, str] = Field(description="Cost per failing unit, per priced model.")
    fail_positions: FailPositionsOut
    weeks: WeeksOut

    @classmethod
    def of(cls, found: Priorities) -> PrioritiesOut:
        weeks = found.weeks
        return cls(
            filters=FiltersOut.of(found.filters),
            rank=found.rank,
            recommendations=[RecommendationOut.of(r) for r in found.recommendations],
            models=[ImpactOut.of(m) for m in found.models],
            stations=[ImpactOut.of(s) for s in found.stations],
            unit_costs={model: decimal_text(cost) for model, cost in found.costs.items()},
            fail_positions=FailPositionsOut.of(found.positions),
            weeks=WeeksOut(
                this_start=weeks.this_start,
                this_end=weeks.end,
                before_start=weeks.before_start,
                before_end=weeks.before_end,
                weeks_with_units_before=found.weeks_before,
                models=[WeekChangeOut.of(w) for w in found.model_weeks],
                stations=[WeekChangeOut.of(w) for w in found.station_weeks],
            ),
        )
