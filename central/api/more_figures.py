"""Bodies of GET /api/v1/quality and /api/v1/models/<model>/compare.

As in central/api/figures.py: each reads the figures from the page's own
functions (central/specs/quality_web.py's rows, central/web/models.py's
compare_figures) and only copies them, so the page and the API cannot
disagree.
"""

from __future__ import annotations

from dataclasses import replace

from central.api import more_schemas as out
from central.api.schemas import FiltersOut, finite
from central.queries.compare import Distribution
from central.queries.filters import Filters
from central.spc.compare import DifferenceTest
from central.spc.series import Unavailable
from central.specs import quality
from central.specs.quality_web import QualityView, rows_of
from central.web import model_page
from central.web.models import COMPARE_VALUES, CompareFigures

# --------------------------------------------------------------------------- /quality


def _quality_row(row: quality.QualityRow) -> out.QualityRowOut:
    keys = row.keys
    return out.QualityRowOut(
        model=keys.get("model"),
        station=keys.get("station"),
        element_type=keys.get("element_type"),
        product_class=keys.get("product_class"),
        units=row.units,
        passed=row.passed,
        strict_passed=row.strict_passed,
        yield_pct=finite(row.pass_pct),
        strict_yield_pct=finite(row.strict_pct),
        rescued=row.rescued,
        rescued_by_rotation=row.by_rotation,
        rescued_by_excluded=row.by_excluded,
        rescued_by_both=row.by_both,
        rescued_unjudged=row.unjudged,
        serials=row.serials,
        first_pass=row.first_pass,
        final_pass=row.final_pass,
        first_pass_yield_pct=finite(row.first_pass_pct),
        final_yield_pct=finite(row.final_pct),
    )


def quality_table(view: QualityView) -> out.Quality:
    """The /quality page's rows and total row for the same view."""
    rows = rows_of(view)
    # The page's facets are beside its date filters; report both as the filters.
    filters = replace(view.filters, element_type=view.element, product_class=view.product_class)
    return out.Quality(
        filters=FiltersOut.of(filters),
        group=view.grouping,
        group_by=list(quality.GROUPINGS[view.grouping]),
        rows=[_quality_row(r) for r in rows],
        total=_quality_row(quality.totals(rows)),
    )


# --------------------------------------------------------------------------- compare

TEST_NAMES = ("Kruskal-Wallis", "Welch's ANOVA", "one-way ANOVA")  # the page's order


def _distribution(d: Distribution) -> out.DistributionOut:
    return out.DistributionOut(
        n=d.n,
        mean=finite(d.mean),
        sd=finite(d.sd),
        minimum=finite(d.minimum),
        p05=finite(d.p05),
        p25=finite(d.p25),
        median=finite(d.median),
        p75=finite(d.p75),
        p95=finite(d.p95),
        maximum=finite(d.maximum),
        tested=len(d.values),
    )


def _test(name: str, found: DifferenceTest | Unavailable, alpha: float) -> out.DifferenceTestOut:
    if isinstance(found, Unavailable):
        return out.DifferenceTestOut(
            name=name,
            statistic=None,
            df1=None,
            df2=None,
            p_value=None,
            significant=None,
            message=found.message,
        )
    return out.DifferenceTestOut(
        name=found.name,
        statistic=finite(found.statistic),
        df1=finite(found.df1),
        df2=finite(found.df2),
        p_value=finite(found.p_value),
        significant=found.significant(alpha),
        message=None,
    )


def _comparison(view: model_page.CompareView) -> out.MetricComparison:
    c = view.comparison
    found = (c.kruskal, c.welch, c.anova)
    return out.MetricComparison(
        metric=view.key,
        label=view.name,
        alpha=c.alpha,
        differ=c.differ,
        tests=[_test(name, t, c.alpha) for name, t in zip(TEST_NAMES, found, strict=True)],
        excluded=list(c.excluded),
        capped=view.capped,
    )


def station_rows(found: CompareFigures) -> list[out.StationCompareOut]:
    """The page's means tables, one row per station with both metrics."""
    return [
        out.StationCompareOut(
            station=s.station,
            sigma=_distribution(s.sigma),
            linearity=_distribution(s.linearity),
        )
        for s in found.stations
    ]


def model_compare(model: str, filters: Filters, found: CompareFigures) -> out.ModelCompare:
    """The comparison page's figures: per station, per metric's tests, the specs."""
    return out.ModelCompare(
        model=model,
        filters=FiltersOut.of(filters),
        values_cap=COMPARE_VALUES,
        linearity_specs=[v for v in (finite(s) for s in found.specs) if v is not None],
        rows=station_rows(found),
        comparisons=[_comparison(v) for v in found.views],
    )
