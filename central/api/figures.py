"""The API's bodies, built from the queries and statistics the dashboard pages use.

One function per view: it makes the same calls, with the same filters, as the
page's route (central/web/overview.py, models.py, units.py) and copies the
results into the bodies of central/api/schemas.py. No figure is computed
here: counts and yield come from central/queries (StatusCounts), Cpk/Ppk,
control limits and drift from central/spc, so a page and its API answer
cannot disagree. Every list is bounded by the query it comes from.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from central.alarms import rows as alarm_rows
from central.alarms.rows import Alarm
from central.api import schemas as out
from central.db import Database
from central.queries import models, spec_groups, units
from central.queries.counts import StatusCounts
from central.queries.filters import Filters
from central.queries.fleet import fleet
from central.rollup_columns import FAIL_BINS
from central.spc.control import imr_chart
from central.spc.model import (
    MetricCapability,
    linearity_metric,
    metric_capability,
    scorecard,
    sigma_metric,
    station_drift,
)
from central.spc.series import Unavailable
from central.web import overview as overview_page
from central.web.models import SERIES_LIMIT, View, model_listing

# --------------------------------------------------------------------------- overview


def _alarms(db: Database, filters: Filters) -> tuple[list[Alarm], list[Alarm], list[Alarm]]:
    """Open, acknowledged-but-active and acknowledged alarms, as the overview lists them."""
    classes = spec_groups.spec_classes(db)
    spec_groups.check(filters, classes)

    def kept(found: list[Alarm]) -> list[Alarm]:  # the model filter's SQL, by spec class
        return [a for a in found if not filters.by_spec or classes.matches(a.model, filters)]

    live = kept(alarm_rows.open_alarms(db, filters.stations, filters.models))
    active = kept(alarm_rows.live_acknowledged(db, filters.stations, filters.models))
    acknowledged = kept(alarm_rows.acknowledged_alarms(db, filters.stations, filters.models))
    return live, active, acknowledged


def _station_row(row: overview_page.StationRow) -> out.StationRowOut:
    s = row.status
    return out.StationRowOut(
        station=s.name,
        revoked=s.revoked,
        last_contact=s.last_contact,
        last_heartbeat_at=s.last_heartbeat_at,
        silent_for_s=out.finite(s.silent_for_s),
        agent_version=s.agent_version,
        outbox_pending=s.outbox_pending,
        outbox_oldest_age_s=out.finite(s.outbox_oldest_age_s),
        dead_letters=s.dead_letters,
        silent=row.is_silent,
        open_alarms=len(row.open_alarms),
        acknowledged_active_alarms=len(row.active_alarms),
        day=out.Counts.of(s.day),
        span=out.Counts.of(s.span),
    )


def overview(db: Database, filters: Filters, today: date, now: datetime) -> out.Overview:
    """The overview's tiles, station rows and alarms for these filters.

    The headline is the page's: the units the filters keep (their models over
    their stations), the day's and the span's.
    """
    live, active, acknowledged = _alarms(db, filters)
    found = fleet(db, today, now, filters)
    day_total, span_total = found.total(filters.stations)
    rows = overview_page._rows(found, filters, live + active)  # the page's own selection
    run = alarm_rows.last_run(db)
    return out.Overview(
        filters=out.FiltersOut.of(filters),
        day=found.day,
        span_start=found.span_start,
        span_end=found.span_end,
        chosen=found.chosen,
        headline=out.Headline(
            day=out.Counts.of(day_total),
            span=out.Counts.of(span_total),
            open_alarms=len(live),
            silent_stations=sum(1 for r in rows if r.is_silent),
        ),
        stations=[_station_row(r) for r in rows],
        open_alarms=[out.AlarmOut.of(a) for a in live],
        acknowledged_alarms=[out.AlarmOut.of(a) for a in acknowledged],
        alarms_evaluated_at=None if run is None else run.evaluated_at,
    )


def alarm_list(db: Database, filters: Filters, state: str, limit: int) -> out.AlarmList:
    """Alarms in one state: open (newest first), active (acknowledged, still holding) or
    acknowledged (newest acknowledgement first)."""
    classes = spec_groups.spec_classes(db)
    spec_groups.check(filters, classes)
    if state == "open":
        found = alarm_rows.open_alarms(db, filters.stations, filters.models, limit)
    elif state == "active":
        found = alarm_rows.live_acknowledged(db, filters.stations, filters.models)[:limit]
    else:
        found = alarm_rows.acknowledged_alarms(db, filters.stations, filters.models, limit)
    kept = [a for a in found if not filters.by_spec or classes.matches(a.model, filters)]
    return out.AlarmList(
        filters=out.FiltersOut.of(filters),
        state=state,
        limit=limit,
        rows=[out.AlarmOut.of(a) for a in kept],
    )


# --------------------------------------------------------------------------- models


def model_list(db: Database, view: View, baseline_days: int) -> out.ModelList:
    """The /models table: the page's own listing (central/web/models.py), copied."""
    listing = model_listing(db, view, baseline_days)
    rows = []
    for row in listing.rows:
        s, card = row.summary, row.card
        kind, cls = listing.classes.of(s.model)
        rows.append(
            out.ModelRowOut(
                model=s.model,
                element_type=kind,
                product_class=cls,
                stations=s.stations,
                first_day=s.first_day,
                last_day=s.last_day,
                counts=out.Counts.of(s.counts),
                fail_points=s.fail_points,
                cpk=None if card is None else out.IndexOut.of(card.cpk),
                units_for_cpk=None if card is None else card.units_for_cpk,
                drift=None if card is None else str(card.drift),
                open_alarms=None if card is None else card.open_alarms,
            )
        )
    return out.ModelList(
        filters=out.FiltersOut.of(view.filters),
        total=out.Counts.of(listing.total),
        unlisted=listing.unlisted,
        rows=rows,
    )


def _capability(found: MetricCapability) -> out.CapabilityOut:
    metric, cap = found.metric, found.capability
    return out.CapabilityOut(
        metric=metric.key,
        label=metric.label,
        units=int(metric.values.size),
        left_out=metric.left_out,
        spec_lower=None if metric.spec is None else out.finite(metric.spec.lower),
        spec_upper=None if metric.spec is None else out.finite(metric.spec.upper),
        mean=None if cap is None else out.finite(cap.mean),
        sigma_overall=None if cap is None else out.finite(cap.sigma_overall),
        sigma_within=None if cap is None else out.finite(cap.sigma_within),
        within_method=None if cap is None else str(cap.within_method),
        cpk=None if cap is None else out.IndexOut.of(cap.cpk),
        ppk=None if cap is None else out.IndexOut.of(cap.ppk),
    )


def _control(found: MetricCapability, view: View) -> out.ControlLimitsOut:
    """The I-MR limits the model page draws (the same tests and baseline)."""
    metric = found.metric
    used = None if view.baseline is None or view.baseline > metric.values.size else view.baseline
    chart = imr_chart(metric.values, tests=view.tests, baseline=used)
    if isinstance(chart, Unavailable):
        return out.ControlLimitsOut(
            metric=metric.key,
            centre=None,
            lcl=None,
            ucl=None,
            mr_centre=None,
            mr_ucl=None,
            out_of_control=[],
            unavailable=str(chart.reason),
        )
    kept = [int(i) for i in metric.indices]
    return out.ControlLimitsOut(
        metric=metric.key,
        centre=out.finite(chart.limits.centre),
        lcl=out.finite(chart.limits.lcl),
        ucl=out.finite(chart.limits.ucl),
        mr_centre=out.finite(chart.mr_limits.centre),
        mr_ucl=out.finite(chart.mr_limits.ucl),
        out_of_control=[kept[i] for i in chart.violations.by_point],
        unavailable=None,
    )


def _fail_bins(positions: models.FailPositions) -> list[out.FailBinOut]:
    width = 100.0 / FAIL_BINS
    return [
        out.FailBinOut(
            bin=i, from_pct=i * width, to_pct=(i + 1) * width, points=points, tracks=tracks
        )
        for i, (points, tracks) in enumerate(zip(positions.points, positions.tracks, strict=True))
    ]


def _pct(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


def model_stations(
    db: Database, model: str, view: View, drift: dict[str, str] | None = None
) -> list[out.ModelStationOut]:
    """A model's rows per station: its units (the rate chart's counts), its near misses (the
    page's table) and, when given, its drift state."""
    filters = view.filters
    per_station: dict[str, StatusCounts] = {}
    for day in models.daily_counts(db, model, filters):
        per_station[day.station] = per_station.get(day.station, StatusCounts()) + day.counts
    near = {
        n.station: n
        for n in models.near_misses(db, model, Filters(view.start, view.end))
        if not filters.stations or n.station in filters.stations
    }
    rows = []
    for station in sorted(set(per_station) | set(near)):
        n = near.get(station)
        rows.append(
            out.ModelStationOut(
                station=station,
                counts=out.Counts.of(per_station.get(station, StatusCounts())),
                near_misses=0 if n is None else n.near_misses,
                near_miss_tracks=0 if n is None else n.tracks,
                near_miss_pct=None if n is None else _pct(n.near_misses, n.tracks),
                drift=None if drift is None else drift.get(station),
            )
        )
    return rows


def model_detail(
    db: Database,
    model: str,
    view: View,
    summary: models.ModelSummary | None,
    points: int,
    baseline_days: int,
) -> out.ModelDetail:
    """The model page's figures (summary: the page's, None when the window has no unit)."""
    filters = view.filters
    series = models.spc_series(db, model, filters, SERIES_LIMIT)
    positions = models.fail_positions(db, model, filters)
    alarms = [a for a in alarm_rows.open_alarms(db, filters.stations, (model,)) if a.model == model]
    lin, sig = linearity_metric(series.points), sigma_metric(series.points)
    caps = [metric_capability(lin, view.trend_window), metric_capability(sig, view.trend_window)]
    (reference,) = models.drift_references(db, [model], view.start, baseline_days).values()
    drifts = station_drift(series.points, reference)
    counts = summary.counts if summary else StatusCounts()
    card = scorecard(model, counts, series.points, len(alarms), reference)
    shown = series.points[-points:] if points else []
    return out.ModelDetail(
        model=model,
        filters=out.FiltersOut.of(filters),
        counts=out.Counts.of(counts),
        cpk=out.IndexOut.of(card.cpk),
        drift_state=str(card.drift),
        capability=[_capability(c) for c in caps],
        control=[_control(c, view) for c in caps],
        drift=[
            out.DriftOut(
                station=d.station,
                state=str(d.state),
                units=len(d.indices),
                unavailable=str(d.cusum.reason) if isinstance(d.cusum, Unavailable) else None,
            )
            for d in drifts
        ],
        fail_positions=_fail_bins(positions),
        stations=model_stations(db, model, view, {d.station: str(d.state) for d in drifts}),
        series=[
            out.SpcPointOut(
                made_at=p.made_at,
                result_id=p.result_id,
                station=p.station,
                serial=p.serial,
                track_id=p.track_id,
                status=p.status,
                sigma_gradient=out.finite(p.sigma_gradient),
                sigma_threshold=out.finite(p.sigma_threshold),
                linearity_error=out.finite(p.linearity_error),
                linearity_spec=out.finite(p.linearity_spec),
            )
            for p in shown
        ],
        series_truncated=series.truncated or len(shown) < len(series.points),
        series_left_out=series.left_out,
        open_alarms=[out.AlarmOut.of(a) for a in alarms],
    )


# --------------------------------------------------------------------------- units


def _unit_row(row: units.UnitRow, metrics: units.KeyMetrics | None) -> out.UnitRowOut:
    m = metrics or units.KeyMetrics(test_date=None, track_id=None)
    return out.UnitRowOut(
        result_id=row.result_id,
        made_at=row.made_at,
        test_date=m.test_date,
        station=row.station,
        model=row.model,
        serial=row.serial,
        status=row.status,
        tracks=row.tracks,
        file_name=row.file_name,
        worst_track=m.track_id,
        linearity_error=out.finite(m.linearity_error),
        linearity_spec=out.finite(m.linearity_spec),
        fail_points=m.fail_points,
        sigma_gradient=out.finite(m.sigma_gradient),
        sigma_threshold=out.finite(m.sigma_threshold),
        margin_to_spec=out.finite(m.margin_to_spec),
        max_violation=out.finite(m.max_violation),
        near_miss=m.near_miss,
        is_anomaly=m.is_anomaly,
    )


def unit_list(
    db: Database, filters: Filters, serial: str | None, cursor: str | None, limit: int
) -> out.UnitList:
    """One page of the unit search, with the key metrics its table shows."""
    page = units.search_units(db, filters, serial=serial, cursor=cursor, limit=limit)
    metrics = units.key_metrics(db, [row.result_id for row in page.rows])
    return out.UnitList(
        filters=out.FiltersOut.of(filters),
        serial=serial,
        limit=limit,
        rows=[_unit_row(row, metrics.get(row.result_id)) for row in page.rows],
        next_cursor=page.next_cursor,
    )


def unit_detail(db: Database, result_id: UUID) -> out.UnitDetail | None:
    """One unit with every track's figures (no curves) and its re-trims."""
    found = units.unit(db, result_id)
    if found is None:
        return None
    metrics = units.key_metrics(db, [r.result_id for r in found.retrims])
    result = found.result
    return out.UnitDetail(
        result_id=found.row.result_id,
        made_at=found.row.made_at,
        received_at=found.received_at,
        station=found.row.station,
        model=found.row.model,
        serial=found.row.serial,
        status=found.row.status,
        file_name=found.row.file_name,
        agent_version=found.agent_version,
        analysis_version=result.analysis_version,
        revision=found.revision,
        tracks=[
            out.TrackOut(
                track_id=t.track_id,
                status=str(t.status),
                error=None if t.error is None else t.error.code,
                points=t.points,
                sigma_gradient=out.finite(t.sigma_gradient),
                sigma_threshold=out.finite(t.sigma_threshold),
                sigma_pass=t.sigma_pass,
                optimal_offset=out.finite(t.optimal_offset),
                linearity_error=out.finite(t.linearity_error),
                linearity_pass=t.linearity_pass,
                linearity_spec=out.finite(t.linearity_spec),
                fail_points=t.fail_points,
                travel_length=out.finite(t.travel_length),
                untrimmed_resistance=out.finite(t.untrimmed_resistance),
                trimmed_resistance=out.finite(t.trimmed_resistance),
                max_violation=out.finite(t.max_violation),
                margin_to_spec=out.finite(t.margin_to_spec),
                near_miss=t.near_miss,
                is_anomaly=t.is_anomaly,
                untrimmed_only=t.untrimmed_only,
                trim_passes=len(t.passes),
            )
            for t in result.tracks
        ],
        retrims=[_unit_row(r, metrics.get(r.result_id)) for r in found.retrims],
    )
