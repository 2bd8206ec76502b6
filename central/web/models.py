"""Model pages: the list of models with their scorecards, one model's SPC, station comparison.

- `GET /models`: every model made in the window, one scorecard line each
  (yield, Cpk of linearity error with its interval, drift state, open alarms),
  sorted by `sort=` (central/web/model_order.py: cpk, yield, volume, failures).
- `GET /models/<model>`: pass / warning / fail rate over time per station;
  I-MR charts of linearity error and sigma gradient with the selected
  Nelson tests marked; Cpk/Ppk with rating and confidence interval, and
  their trend; CUSUM and EWMA per station; near misses; where along the
  travel failing points lie; the model's open alarms.
- `GET /models/<model>/compare`: each station's distribution of sigma
  gradient and linearity error side by side, their means, and whether they
  differ (ANOVA, Welch, Kruskal-Wallis).

Everything a view depends on is in its URL (`from`, `to`, `station`,
`tests=1,2,5`, `window`, `baseline`), so a link shows a colleague the same
view. Without `from`/`to` a view covers the last 90 days up to today, and
the page offers the link with those dates written out. Every page is a
handful of indexed queries (central/queries), and the per-unit work is
bounded by the series limit, never by the size of the tracks table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, render_template, request
from werkzeug.datastructures import MultiDict

from central.alarms import rows as alarm_store
from central.db import Database
from central.queries import compare, models, spec_groups
from central.queries.counts import StatusCounts
from central.queries.filters import Filters, QueryError, QueryErrorCode
from central.spc.control import ALL_TESTS, TEST_DESCRIPTIONS, select_tests
from central.spc.errors import SpcInputError
from central.spc.model import (
    DEFAULT_TREND_WINDOW,
    SCORECARD_TRACKS,
    Scorecard,
    linearity_metric,
    metric_capability,
    scorecard,
    sigma_metric,
    station_drift,
)
from central.stations import list_stations
from central.web import model_order, model_page
from central.web.auth import login_required
from central.web.context import context

bp = Blueprint("models", __name__)

DEFAULT_DAYS = 90
SERIES_LIMIT = models.DEFAULT_SERIES_LIMIT  # units per model behind Cpk, charts and drift
MIN_TREND_WINDOW, MAX_TREND_WINDOW = 20, 5000
COMPARE_VALUES = compare.DEFAULT_VALUES_CAP
MAX_LISTED_MODELS = 300  # rows of the model list; the others are reached by the model filter


def _bad(message: str) -> QueryError:
    return QueryError(QueryErrorCode.INVALID_FILTER, message)


# --------------------------------------------------------------------------- the URL


@dataclass(frozen=True)
class View:
    """What a model view shows, as read from its URL (defaults resolved)."""

    filters: Filters  # its dates are `start` and `end`
    start: date
    end: date
    defaulted: bool  # the dates were not in the URL: the last DEFAULT_DAYS days
    tests: frozenset[int]
    trend_window: int
    baseline: int | None

    def query(self, explicit_dates: bool = False) -> str:
        """This view's query string, for links that keep every filter.

        A defaulted window stays relative ("the last 90 days") unless
        `explicit_dates`, which gives the link that shows exactly these days.
        """
        pairs = [
            (k, v)
            for k, v in self.filters.to_query()
            if explicit_dates or not self.defaulted or k not in ("from", "to")
        ]
        if self.tests != ALL_TESTS:
            pairs.append(("tests", ",".join(str(t) for t in sorted(self.tests)) or "none"))
        if self.trend_window != DEFAULT_TREND_WINDOW:
            pairs.append(("window", str(self.trend_window)))
        if self.baseline is not None:
            pairs.append(("baseline", str(self.baseline)))
        return urlencode(pairs)

    def filters_query(self) -> str:
        """Only the date range and stations: for links to other pages (units, export)."""
        return urlencode(
            [
                (k, v)
                for k, v in self.filters.to_query()
                if (k != "model") and (not self.defaulted or k not in ("from", "to"))
            ]
        )


def _today() -> date:
    """Production days are the stations' own dates; central runs in the plant's time zone."""
    return date.today()


def _number(args: MultiDict[str, str], key: str, low: int, high: int) -> int | None:
    """A whole number from low to high, or None when the URL does not give one."""
    raw = args.get(key, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise _bad(
            f"'{key}' must be a whole number from {low} to {high}, not {raw[:20]!r}."
        ) from None
    if not low <= value <= high:
        raise _bad(f"'{key}' must be from {low} to {high}, not {value}.")
    return value


def parse_tests(values: Iterable[str]) -> frozenset[int]:
    """`tests=1,2,5` (or repeated `tests=1&tests=2`); `none` or an empty list selects none."""
    chosen: set[int] = set()
    for raw in values:
        for part in raw.replace(" ", ",").split(","):
            if not part or part.lower() == "none":
                continue
            try:
                chosen.add(int(part))
            except ValueError:
                raise _bad(
                    "'tests' lists Nelson test numbers 1 to 8 (e.g. tests=1,2,5), "
                    f"not {part[:20]!r}."
                ) from None
    try:
        return select_tests(chosen)
    except SpcInputError as exc:
        raise _bad(f"{exc.message}; e.g. tests=1,2,5.") from None


def parse_view(args: MultiDict[str, str]) -> View:
    """The view a URL asks for; QueryError (a 400 page) for what cannot be read."""
    filters = Filters.from_query(args.items(multi=True))
    defaulted = filters.start is None and filters.end is None
    end = filters.end or _today()
    start = filters.start or end - timedelta(days=DEFAULT_DAYS - 1)
    filters = filters.with_dates(start, end)  # checks start <= end again
    tests = parse_tests(args.getlist("tests")) if "tests" in args else ALL_TESTS
    window = _number(args, "window", MIN_TREND_WINDOW, MAX_TREND_WINDOW) or DEFAULT_TREND_WINDOW
    baseline = _number(args, "baseline", 10, SERIES_LIMIT)
    return View(filters, start, end, defaulted, tests, window, baseline)


def _view_or_400() -> View:
    try:
        return parse_view(request.args)
    except QueryError as exc:
        abort(400, description=exc.message)


# --------------------------------------------------------------------------- /models


@dataclass(frozen=True)
class ModelRow:
    summary: models.ModelSummary
    card: Scorecard | None  # None for files that named no model

    @property
    def model(self) -> str:
        return self.summary.model

    @property
    def counts(self) -> StatusCounts:
        return self.summary.counts


@dataclass(frozen=True)
class ModelListing:
    """What /models lists, gathered once for the page and the read API alike."""

    rows: list[ModelRow]
    every: list[models.ModelSummary]  # every model of the filters, listed or not
    unlisted: int
    classes: spec_groups.SpecClasses

    @property
    def total(self) -> StatusCounts:
        return sum((s.counts for s in self.every), StatusCounts())


def model_listing(db: Database, view: View, baseline_days: int) -> ModelListing:
    """The model list's rows, each with its scorecard over its latest tracks.

    Raises QueryError for an element type or product class the spec table lacks.
    """
    classes = spec_groups.spec_classes(db)
    spec_groups.check(view.filters, classes)
    every = models.model_summaries(db, view.filters)
    summaries = listed_models(every)
    named = [s.model for s in summaries if s.model]
    latest = models.latest_tracks_per_model(db, view.filters, SCORECARD_TRACKS, only=named)
    alarm_counts = models.open_alarm_counts(db, view.filters.stations)
    references = models.drift_references(db, named, view.start, baseline_days)
    rows = [
        ModelRow(
            s,
            None
            if not s.model
            else scorecard(
                s.model,
                s.counts,
                latest.get(s.model, []),
                alarm_counts.get(s.model, 0),
                references[s.model],
            ),
        )
        for s in summaries
    ]
    return ModelListing(
        rows=rows, every=every, unlisted=len(every) - len(summaries), classes=classes
    )


def listed_models(summaries: list[models.ModelSummary]) -> list[models.ModelSummary]:
    """The MAX_LISTED_MODELS models with the most units, by name.

    Model names come from stations (and from file names): a station that invents a
    new one per file must not make the list, and its scorecards, grow without end.
    """
    if len(summaries) <= MAX_LISTED_MODELS:
        return summaries
    busiest = sorted(summaries, key=lambda s: (-s.counts.results, s.model or ""))
    return sorted(busiest[:MAX_LISTED_MODELS], key=lambda s: s.model or "")


@bp.get("/models")
@login_required
def model_list() -> Any:
    view = _view_or_400()
    try:
        order = model_order.parse_order(request.args.get("sort"))
    except QueryError as exc:
        abort(400, description=exc.message)
    db = context().db
    listing = model_listing(db, view, context().alarms.baseline_days)
    classes, total = listing.classes, listing.total
    return render_template(
        "models.html",
        view=view,
        rows=model_order.ordered(listing.rows, order),
        order=order,
        orders=model_order.ORDERS,
        total=total,
        unlisted=listing.unlisted,
        stations=[s.name for s in list_stations(db)],
        scorecard_tracks=SCORECARD_TRACKS,
        classes=classes,
        groups={
            by: spec_groups.breakdown(listing.every, classes, by)
            for by in ("element_type", "product_class")
        },
    )


# --------------------------------------------------------------------------- /models/<model>


def _summary_or_404(model: str, view: View) -> models.ModelSummary | None:
    """The model's summary in the window; 404 when the model never had a result at all."""
    db = context().db
    found = models.model_summaries(db, view.filters.with_models(model))
    if found:
        return found[0]
    if not models.model_summaries(db, Filters(models=(model,))):
        abort(
            404,
            description=(
                f"No results of a model named {model!r} have reached central. Check the "
                "spelling (part numbers are matched exactly), or pick it from the model list."
            ),
        )
    return None


@bp.get("/models/<path:model>")
@login_required
def model_detail(model: str) -> Any:
    view = _view_or_400()
    view = replace(view, filters=view.filters.with_models())  # the path names the model
    db = context().db
    summary = _summary_or_404(model, view)
    filters = view.filters
    try:
        series = models.spc_series(db, model, filters, SERIES_LIMIT)
    except QueryError as exc:
        abort(400, description=exc.message)
    daily = models.daily_counts(db, model, filters)
    positions = models.fail_positions(db, model, filters)
    all_stations = models.near_misses(db, model, Filters(view.start, view.end))
    near = [n for n in all_stations if not filters.stations or n.station in filters.stations]
    alarms = [
        a for a in alarm_store.open_alarms(db, filters.stations, (model,)) if a.model == model
    ]

    lin, sig = linearity_metric(series.points), sigma_metric(series.points)
    lin_cap = metric_capability(lin, view.trend_window)
    sig_cap = metric_capability(sig, view.trend_window)
    (reference,) = models.drift_references(
        db, [model], view.start, context().alarms.baseline_days
    ).values()
    drifts = station_drift(series.points, reference)
    counts = summary.counts if summary else StatusCounts()
    card = scorecard(model, counts, series.points, len(alarms), reference)
    bucket, rates = model_page.rate_charts(daily, view.start, view.end)
    return render_template(
        "model.html",
        model=model,
        view=view,
        summary=summary,
        series=series,
        card=card,
        bucket=bucket,
        rates=rates,
        controls=[
            model_page.control_view("lin", lin, series.points, view.tests, view.baseline),
            model_page.control_view("sigma", sig, series.points, view.tests, view.baseline),
        ],
        capabilities=[
            (lin_cap, model_page.capability_trend("lin-trend", lin_cap, series.points)),
            (sig_cap, model_page.capability_trend("sigma-trend", sig_cap, series.points)),
        ],
        drifts=model_page.drift_views(drifts, series.points),
        drift_days=context().alarms.baseline_days,
        drift_before=reference.before,
        scorecard_tracks=SCORECARD_TRACKS,
        near=near,
        near_total=sum(n.near_misses for n in near),
        near_tracks=sum(n.tracks for n in near),
        stations=[n.station for n in all_stations],
        positions=positions,
        histogram=model_page.fail_histogram("fail-positions", positions),
        alarms=alarms,
        all_tests=sorted(ALL_TESTS),
        test_descriptions=TEST_DESCRIPTIONS,
        series_limit=SERIES_LIMIT,
    )


@dataclass(frozen=True)
class CompareFigures:
    """What the comparison page shows: each station's distributions, the tests of whether
    they differ per metric, and the model's linearity specs. Built once here for the page
    and GET /api/v1/models/<model>/compare, so they cannot disagree."""

    stations: list[compare.StationDistribution]
    views: list[model_page.CompareView]
    specs: list[float]


def compare_figures(model: str, view: View) -> CompareFigures:
    """The comparison of `model`'s stations under the view (its filters name the model)."""
    db = context().db
    filters = view.filters
    stations = compare.station_distributions(db, model, filters, COMPARE_VALUES)
    specs = models.spec_values(db, model, filters, SERIES_LIMIT)
    spec = specs[0] if len(specs) == 1 else None
    views = [
        model_page.compare_view("sigma", stations, "box-sigma", None, "sigma gradient"),
        model_page.compare_view("linearity", stations, "box-lin", spec, "linearity error (V)"),
    ]
    return CompareFigures(stations, views, list(specs))


@bp.get("/models/<path:model>/compare")
@login_required
def model_compare(model: str) -> Any:
    view = _view_or_400()
    view = replace(view, filters=view.filters.with_models())
    db = context().db
    summary = _summary_or_404(model, view)
    found = compare_figures(model, view)
    return render_template(
        "compare.html",
        model=model,
        view=view,
        summary=summary,
        stations=found.stations,
        views=found.views,
        specs=found.specs,
        values_cap=COMPARE_VALUES,
        all_stations=[
            n.station for n in models.near_misses(db, model, Filters(view.start, view.end))
        ],
    )
