"""The priorities page's figures as plain JSON values, for `GET /api/v1/priorities`.

The same `Priorities` the page renders, so the API and the page cannot differ.
Costs travel as decimal strings ("237.50"): a float would round a plant's money.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from central.priorities.page import Priorities
from central.priorities.queries import Impact
from central.priorities.weekly import WeekChange
from central.queries.counts import StatusCounts
from shared.charts.pareto import pareto_order


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _counts(counts: StatusCounts) -> dict[str, Any]:
    return {
        "units": counts.results,
        "passes": counts.passes,
        "warnings": counts.warnings,
        "fails": counts.fails,
        "errors": counts.errors,
        "skipped": counts.skipped,
        "yield_pct": counts.yield_pct,
    }


def _impact(row: Impact) -> dict[str, Any]:
    return {
        "name": row.name,
        **_counts(row.counts),
        "fail_share_pct": row.fail_share_pct,
        "cost": _money(row.cost),
        "unpriced_fails": row.unpriced_fails,
    }


def _week(row: WeekChange) -> dict[str, Any]:
    return {
        "name": row.name,
        "units": row.units,
        "units_before": row.units_before,
        "fails": row.fails,
        "fails_before": row.fails_before,
        "yield_pct": row.yield_pct,
        "yield_before_pct": row.yield_before,
        "yield_change_points": row.yield_change,
        "sigma_mean": row.sigma,
        "sigma_mean_before": row.sigma_before,
        "sigma_change_pct": row.sigma_change_pct,
    }


def as_json(found: Priorities) -> dict[str, Any]:
    """Every figure of the page for these filters."""
    filters = found.filters
    places = [(f"{5 * i}-{5 * (i + 1)}", float(n)) for i, n in enumerate(found.positions.points)]
    return {
        "filters": {
            "from": filters.start.isoformat() if filters.start else None,
            "to": filters.end.isoformat() if filters.end else None,
            "stations": list(filters.stations),
            "models": list(filters.models),
            "element": filters.element_type,
            "cls": filters.product_class,
            "rank": found.rank,
        },
        "recommendations": [
            {"rule": str(r.rule), "text": r.text, "figure": r.figure, "evidence": r.href}
            for r in found.recommendations
        ],
        "models": [_impact(m) for m in found.models],
        "stations": [_impact(s) for s in found.stations],
        "unit_costs": {model: _money(cost) for model, cost in found.costs.items()},
        "fail_positions": {
            "bin_pct": 5,
            "points": list(found.positions.points),
            "tracks": list(found.positions.tracks),
            "pareto": [
                {"part": b.label, "points": b.value, "cumulative_pct": b.cumulative_pct}
                for b in pareto_order(places, max_bars=len(places))
            ],
        },
        "weeks": {
            "this_week": [found.weeks.this_start.isoformat(), found.weeks.end.isoformat()],
            "before": [found.weeks.before_start.isoformat(), found.weeks.before_end.isoformat()],
            "weeks_with_units_before": found.weeks_before,
            "models": [_week(w) for w in found.model_weeks],
            "stations": [_week(w) for w in found.station_weeks],
        },
    }
