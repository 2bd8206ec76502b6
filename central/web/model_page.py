"""What a model's page and its station comparison show, built from the data layer's answers.

central/web/models.py parses the URL, runs the queries and renders; this
module turns their results into charts (shared/charts/) and the
small tables beside them, with no database and no Flask, so each piece can
be tested on its own. Statistics come from central/spc/model.py (which
values, which spec) and central/spc (the arithmetic).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import overload

import numpy as np
from markupsafe import Markup

from central.queries.compare import Distribution, StationDistribution
from central.queries.counts import StatusCounts
from central.queries.models import DailyCounts, FailPositions, UnitPoint
from central.rollup_columns import FAIL_BINS
from central.spc.capability import IndexEstimate
from central.spc.compare import Comparison, compare_groups
from central.spc.control import TEST_DESCRIPTIONS, IndividualsChart, imr_chart
from central.spc.model import Metric, MetricCapability, StationDrift
from central.spc.series import Unavailable
from shared.charts import axes, distribution
from shared.charts import series as series_charts
from shared.charts import spc as spc_charts
from shared.charts import svg as canvas
from shared.charts.numbers import format_number

# Both metrics the model page charts are magnitudes: a sigma gradient and a linearity
# error (the largest |error|, or that divided by its limit) are never below 0, so a
# control limit below 0 is drawn at 0 and said to be clamped (shared/charts/spc.py).
NON_NEGATIVE_FLOOR = 0.0
DAILY_UP_TO = 92  # days in a window drawn one bar per day; longer: weeks, then months
WEEKLY_UP_TO = 730


def unit_label(point: UnitPoint) -> str:
    """How a tooltip names a unit: serial and track, station, production time."""
    return (
        f"{point.serial or 'no serial'} {point.track_id}, {point.station}, "
        f"{point.made_at:%Y-%m-%d %H:%M}"
    )


def unit_link(point: UnitPoint) -> str:
    return f"/units/{point.result_id}"


class LazyLabels(Sequence[str]):
    """Labels of the units behind a chart's points, made only when the chart reads one.

    A chart of 2,000 units reads a handful (the marked points and the ticks),
    so making all of them up front would cost more than drawing the chart.
    """

    def __init__(
        self,
        points: Sequence[UnitPoint],
        indices: Sequence[int],
        make: Callable[[UnitPoint], str],
    ) -> None:
        self._points, self._indices, self._make = points, indices, make

    def __len__(self) -> int:
        return len(self._indices)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self._make(self._points[i]) for i in self._indices[index]]
        return self._make(self._points[self._indices[index]])


# --------------------------------------------------------------------------- rates over time


@dataclass(frozen=True)
class Bucket:
    label: str
    first: date
    last: date


def buckets(start: date, end: date) -> tuple[str, list[Bucket]]:
    """The bars of a rate chart: days for up to 92 days, then ISO weeks, then months."""
    span = (end - start).days + 1
    if span <= DAILY_UP_TO:
        days = [start + timedelta(i) for i in range(span)]
        return "day", [Bucket(f"{d:%m-%d}", d, d) for d in days]
    if span <= WEEKLY_UP_TO:
        monday = start - timedelta(start.weekday())
        found = []
        while monday <= end:
            week = monday.isocalendar()
            found.append(
                Bucket(f"{week.year}-W{week.week:02d}", monday, monday + timedelta(days=6))
            )
            monday += timedelta(days=7)
        return "week", found
    found, first = [], date(start.year, start.month, 1)
    while first <= end:
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        found.append(Bucket(f"{first:%Y-%m}", first, following - timedelta(1)))
        first = following
    return "month", found


def _bucket_of(kind: str, day: date, start: date) -> int:
    if kind == "day":
        return (day - start).days
    if kind == "week":
        return (day - (start - timedelta(start.weekday()))).days // 7
    return (day.year - start.year) * 12 + day.month - start.month


@dataclass(frozen=True)
class RateChart:
    station: str
    counts: StatusCounts
    svg: Markup


def rate_charts(
    daily: Sequence[DailyCounts], start: date, end: date, chart_prefix: str = "rates"
) -> tuple[str, list[RateChart]]:
    """Pass / warning / fail rate per bucket, one stacked-bar chart per station."""
    kind, bars = buckets(start, end)
    per_station: dict[str, list[StatusCounts]] = {}
    for row in daily:  # one row per day and station: at most days x stations
        index = _bucket_of(kind, row.day, start)
        if not 0 <= index < len(bars):
            continue
        slots = per_station.setdefault(row.station, [StatusCounts()] * len(bars))
        slots[index] = slots[index] + row.counts
    found = []
    for number, station in enumerate(sorted(per_station)):
        slots = per_station[station]
        total = sum(slots, StatusCounts())
        tips = [_bar_tip(station, bar, counts) for bar, counts in zip(bars, slots, strict=True)]
        svg = series_charts.stacked_bars(
            f"{chart_prefix}-{number}",
            f"Pass, warning and fail rate per {kind} at {station}",
            [b.label for b in bars],
            [
                series_charts.Segment("pass", [c.passes for c in slots], "pass"),
                series_charts.Segment("warning", [c.warnings for c in slots], "warning"),
                series_charts.Segment("fail", [c.fails for c in slots], "fail"),
            ],
            tooltips=tips,
            y_label="% of units with a verdict",
            height=170,
        )
        found.append(RateChart(station, total, svg))
    return kind, found


def _bar_tip(station: str, bar: Bucket, counts: StatusCounts) -> str:
    when = bar.label if bar.first == bar.last else f"{bar.first} to {bar.last}"
    if counts.results == 0:
        return f"{station}, {when}: no units"
    text = (
        f"{station}, {when}: {counts.passes} pass, {counts.warnings} warning, {counts.fails} fail"
    )
    if counts.errors:
        text += f", {counts.errors} error (not in the rate)"
    if counts.yield_pct is not None:
        text += f"; yield {counts.yield_pct:.1f} %"
    return text


# --------------------------------------------------------------------------- control charts


@dataclass(frozen=True)
class ControlView:
    metric: Metric
    chart: IndividualsChart | Unavailable
    individuals: Markup
    moving_range: Markup | None
    points_failing: int  # points failing at least one selected test
    by_test: dict[int, int]  # test -> points failing it


def control_view(
    chart_id: str,
    metric: Metric,
    points: Sequence[UnitPoint],
    tests: frozenset[int],
    baseline: int | None,
) -> ControlView:
    """The metric's I-MR chart with the selected Nelson tests marked on its points.

    `points` is the series the metric was taken from (tooltips and links name its units).
    """
    kept = [int(i) for i in metric.indices]
    title = f"{metric.name.capitalize()}, I-MR chart"
    used = None if baseline is None or baseline > metric.values.size else baseline
    chart = imr_chart(metric.values, tests=tests, baseline=used)
    if isinstance(chart, Unavailable):
        message = canvas.message_chart(f"{chart_id}-i", title, chart.message.capitalize() + ".")
        return ControlView(metric, chart, message, None, 0, {})
    refs = []
    if metric.spec is not None and metric.spec.upper is not None:
        refs.append(axes.RefLine(metric.spec.upper, "spec", "spec"))
    ticks = axes.time_ticks(len(kept), lambda i: points[kept[i]].made_at)
    individuals, moving = spc_charts.imr_charts(
        chart_id,
        metric.name.capitalize(),
        chart,
        descriptions=TEST_DESCRIPTIONS,
        point_labels=LazyLabels(points, kept, unit_label),
        point_links=LazyLabels(points, kept, unit_link),
        x_labels=ticks.labels if ticks is not None else None,
        x_title=f"{spc_charts.X_TITLE}, {ticks.title_note}" if ticks else spc_charts.X_TITLE,
        y_label=metric.label,
        value_name=metric.name,
        extra_refs=refs,
        floor=NON_NEGATIVE_FLOOR,
    )
    by_test = {test: len(points) for test, points in chart.violations.points.items() if points}
    return ControlView(
        metric,
        chart,
        individuals,
        moving,
        len(chart.violations.by_point),
        dict(sorted(by_test.items())),
    )


# --------------------------------------------------------------------------- capability


def capability_trend(
    chart_id: str, cap: MetricCapability, points: Sequence[UnitPoint]
) -> Markup | None:
    """Cpk and Ppk over consecutive windows of units, with their confidence intervals."""
    if not cap.trend:
        return None

    def parts(which: str) -> tuple[list[float], list[float], list[float]]:
        values, low, high = [], [], []
        for window in cap.trend:
            estimate = getattr(window.capability, which)
            ok = isinstance(estimate, IndexEstimate)
            values.append(estimate.value if ok else math.nan)
            low.append(estimate.ci_low if ok else math.nan)
            high.append(estimate.ci_high if ok else math.nan)
        return values, low, high

    cpk, cpk_low, cpk_high = parts("cpk")
    ppk, _, _ = parts("ppk")
    ends = [points[cap.metric.indices[w.stop - 1]].made_at if w.stop else None for w in cap.trend]
    days = [f"{e:%m-%d}" if e else "" for e in ends]
    # Windows ending on the same day read by their time too, so no two ticks read alike.
    labels = (
        days if len(set(days)) == len(days) else [f"{e:%m-%d %H:%M}" if e else "" for e in ends]
    )
    return series_charts.line_chart(
        chart_id,
        f"{cap.metric.name.capitalize()}: Cpk and Ppk per {cap.trend_window} units",
        [
            series_charts.Series("Cpk (95 % CI)", cpk, "line", cpk_low, cpk_high),
            series_charts.Series("Ppk", ppk, "second"),
        ],
        x_labels=labels,
        x_title=f"window of {cap.trend_window} units, ending on",
        refs=[
            axes.RefLine(1.33, "capable", "centre"),
            axes.RefLine(1.0, "marginal", "limit"),
        ],
        height=210,
        desc=f"{len(cap.trend)} windows of {cap.trend_window} units each.",
    )


# --------------------------------------------------------------------------- drift


@dataclass(frozen=True)
class DriftView:
    drift: StationDrift
    cusum: Markup
    ewma: Markup


def drift_views(
    drifts: Sequence[StationDrift], points: Sequence[UnitPoint], prefix: str = "drift"
) -> list[DriftView]:
    """Small CUSUM and EWMA charts of the sigma gradient for every station."""
    found = []
    for number, d in enumerate(drifts):
        labels = LazyLabels(points, d.indices, unit_label)
        cid = f"{prefix}-{number}"
        cusum_svg = (
            canvas.message_chart(
                f"{cid}-cusum", f"CUSUM at {d.station}", d.cusum.message + ".", width=470
            )
            if isinstance(d.cusum, Unavailable)
            else spc_charts.cusum_chart(
                f"{cid}-cusum",
                f"CUSUM of the sigma gradient at {d.station}",
                d.cusum,
                point_labels=labels,
            )
        )
        ewma_svg = (
            canvas.message_chart(
                f"{cid}-ewma", f"EWMA at {d.station}", d.ewma.message + ".", width=470
            )
            if isinstance(d.ewma, Unavailable)
            else spc_charts.ewma_chart(
                f"{cid}-ewma",
                f"EWMA of the sigma gradient at {d.station}",
                d.ewma,
                point_labels=labels,
                floor=NON_NEGATIVE_FLOOR,
            )
        )
        found.append(DriftView(d, cusum_svg, ewma_svg))
    return found


# --------------------------------------------------------------------------- failing positions


def fail_histogram(chart_id: str, positions: FailPositions) -> Markup:
    """Failing points per twentieth of the travel (all stations together)."""
    edges = [100.0 * i / FAIL_BINS for i in range(FAIL_BINS + 1)]
    tips = [
        f"{edges[i]:.0f} to {edges[i + 1]:.0f} % of the travel: {positions.points[i]} failing "
        f"point(s) on {positions.tracks[i]} track(s)"
        for i in range(FAIL_BINS)
    ]
    if not any(positions.points):
        return canvas.message_chart(
            chart_id, "Where failing points lie", "No failing points in this selection.", width=560
        )
    return distribution.histogram(
        chart_id,
        "Failing points along the travel",
        positions.points,
        edges,
        x_title="% of the travel (0 = start)",
        y_label="failing points",
        edge_format=lambda v: f"{v:.0f}",
        bar_tooltips=tips,
        width=560,  # drawn in half the page's width
        height=250,
    )


# --------------------------------------------------------------------------- comparison


@dataclass(frozen=True)
class CompareView:
    key: str  # "sigma" or "linearity"
    name: str
    comparison: Comparison
    distributions: dict[str, Distribution]
    svg: Markup
    capped: bool  # the tests ran on each station's latest values only


def compare_view(
    key: str,
    stations: Sequence[StationDistribution],
    chart_id: str,
    spec: float | None,
    y_label: str,
) -> CompareView:
    """Box plots side by side and the three tests of whether the stations differ."""
    name = "sigma gradient" if key == "sigma" else "linearity error"
    dists = {s.station: (s.sigma if key == "sigma" else s.linearity) for s in stations}
    comparison = compare_groups(
        {station: np.asarray(d.values, dtype=np.float64) for station, d in dists.items()}
    )
    boxes = [
        distribution.Box(
            name=station,
            n=d.n,
            q1=d.p25,
            median=d.median,
            q3=d.p75,
            low=d.p05,
            high=d.p95,
            mean=d.mean,
            minimum=d.minimum,
            maximum=d.maximum,
            points=d.values,
        )
        for station, d in dists.items()
    ]
    refs = [] if spec is None else [axes.RefLine(spec, "spec", "spec")]
    svg = distribution.box_plots(
        chart_id,
        f"{name.capitalize()} per station",
        boxes,
        y_label=y_label,
        refs=refs,
        value_format=lambda v: format_number(v, 3),
    )
    return CompareView(
        key, name, comparison, dists, svg, any(d.values_capped for d in dists.values())
    )
