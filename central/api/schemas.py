"""The bodies the read API answers with, as pydantic models.

They are the one description of each body: the routes build them from the
same query and statistics results the pages render, and the OpenAPI document
(central/api/openapi.py) is generated from them, so the document cannot
drift from what is sent. Each `of` builds a body from central's own types;
nothing here computes a figure (yield is StatusCounts.yield_pct, Cpk is
central/spc), it only names and copies.

Non-finite floats have no JSON form: a figure that is NaN or infinite (a
station may send one) goes out as null.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from central.alarms.rows import Alarm
from central.queries.counts import StatusCounts
from central.queries.filters import Filters
from central.spc.capability import IndexEstimate
from central.spc.series import Unavailable

#: A station's own clock reading (a unit's production time): no time zone, and none is
#: invented. RFC 3339 date-time requires an offset, so it is documented as a pattern.
StationTime = Annotated[
    datetime,
    PlainSerializer(lambda moment: moment.isoformat(), return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d)?$",
            "description": "The station's local time (ISO 8601, no offset: the plant's clock).",
        }
    ),
]


def finite(value: float | None) -> float | None:
    """A float JSON can carry, or None."""
    return None if value is None or not math.isfinite(value) else float(value)


class Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ErrorDetail(Body):
    code: str = Field(description="Stable code a script may key on, e.g. invalid_filter.")
    message: str = Field(description="What went wrong and what to send instead.")


class ErrorBody(Body):
    error: ErrorDetail


class FiltersOut(Body):
    """The filters the answer is for, as read back from the URL (defaults resolved)."""

    from_: date | None = Field(alias="from", serialization_alias="from")
    to: date | None
    station: list[str]
    model: list[str]
    element: str | None
    cls: str | None

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @classmethod
    def of(cls, filters: Filters) -> FiltersOut:
        return cls(
            from_=filters.start,
            to=filters.end,
            station=list(filters.stations),
            model=list(filters.models),
            element=filters.element_type,
            cls=filters.product_class,
        )


class Counts(Body):
    """Units (result files) by status; yield = (Pass + Warning) / verdicts (shared/quality.py)."""

    results: int
    passes: int
    warnings: int
    fails: int
    errors: int
    skipped: int
    tracks: int
    near_misses: int
    anomalies: int
    verdicts: int = Field(description="Units with a verdict: the yield's denominator.")
    yield_pct: float | None = Field(description="The dashboard's yield in %; null: no verdict.")

    @classmethod
    def of(cls, counts: StatusCounts) -> Counts:
        return cls(
            results=counts.results,
            passes=counts.passes,
            warnings=counts.warnings,
            fails=counts.fails,
            errors=counts.errors,
            skipped=counts.skipped,
            tracks=counts.tracks,
            near_misses=counts.near_misses,
            anomalies=counts.anomalies,
            verdicts=counts.verdicts,
            yield_pct=finite(counts.yield_pct),
        )


class AlarmOut(Body):
    id: int
    kind: str
    kind_label: str
    station: str
    model: str | None
    detail: str
    opened_at: datetime
    last_seen_at: datetime
    cleared_at: datetime | None
    open: bool = Field(description="Nobody has acknowledged it yet.")
    active: bool = Field(description="The condition held at the latest evaluation.")
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    cause: str | None
    cause_label: str | None
    note: str | None

    @classmethod
    def of(cls, alarm: Alarm) -> AlarmOut:
        return cls(
            id=alarm.id,
            kind=str(alarm.kind),
            kind_label=alarm.kind_label,
            station=alarm.station,
            model=alarm.model or None,
            detail=alarm.detail,
            opened_at=alarm.opened_at,
            last_seen_at=alarm.last_seen_at,
            cleared_at=alarm.cleared_at,
            open=alarm.is_open,
            active=alarm.is_active,
            acknowledged_by=alarm.acknowledged_by,
            acknowledged_at=alarm.acknowledged_at,
            cause=None if alarm.cause is None else str(alarm.cause),
            cause_label=alarm.cause_label,
            note=alarm.note,
        )


# --------------------------------------------------------------------------- overview


class StationRowOut(Body):
    station: str
    revoked: bool
    last_contact: datetime | None
    last_heartbeat_at: datetime | None
    silent_for_s: float | None
    agent_version: str | None
    outbox_pending: int | None
    outbox_oldest_age_s: float | None
    dead_letters: int | None
    silent: bool = Field(description="A silent-station alarm is open or still active.")
    open_alarms: int
    acknowledged_active_alarms: int
    day: Counts = Field(description="The units of `day` (today, or a chosen range's last day).")
    span: Counts = Field(description="The units from `span_start` to `span_end`.")


class Headline(Body):
    day: Counts
    span: Counts
    open_alarms: int
    silent_stations: int


class Overview(Body):
    filters: FiltersOut
    day: date = Field(description="Today, or the last day of the range the filters choose.")
    span_start: date | None = Field(
        description="This week's Monday, or the chosen range's first day (null: open)."
    )
    span_end: date
    chosen: bool = Field(description="The dates come from the filters (`from`, `to`).")
    headline: Headline
    stations: list[StationRowOut]
    open_alarms: list[AlarmOut]
    acknowledged_alarms: list[AlarmOut]
    alarms_evaluated_at: datetime | None


class StationRows(Body):
    """The overview's station table alone (what its CSV holds)."""

    filters: FiltersOut
    day: date = Field(description="Today, or the last day of the range the filters choose.")
    span_start: date | None = Field(
        description="This week's Monday, or the chosen range's first day (null: open)."
    )
    span_end: date
    chosen: bool = Field(description="The dates come from the filters (`from`, `to`).")
    rows: list[StationRowOut]


# --------------------------------------------------------------------------- alarms


class AlarmList(Body):
    filters: FiltersOut
    state: str
    limit: int
    rows: list[AlarmOut]


# --------------------------------------------------------------------------- capability


class IndexOut(Body):
    """A capability index with its confidence interval, or why there is none."""

    value: float | None
    rating: str | None
    ci_low: float | None
    ci_high: float | None
    confidence: float | None
    upper_index: float | None
    lower_index: float | None
    unavailable: str | None = Field(description="Why there is no value (a stable code).")
    message: str | None

    @classmethod
    def of(cls, found: IndexEstimate | Unavailable | None) -> IndexOut | None:
        if found is None:
            return None
        if isinstance(found, Unavailable):
            return cls(
                value=None,
                rating=None,
                ci_low=None,
                ci_high=None,
                confidence=None,
                upper_index=None,
                lower_index=None,
                unavailable=str(found.reason),
                message=found.message,
            )
        return cls(
            value=finite(found.value),
            rating=str(found.rating),
            ci_low=finite(found.ci_low),
            ci_high=finite(found.ci_high),
            confidence=finite(found.confidence),
            upper_index=finite(found.upper_index),
            lower_index=finite(found.lower_index),
            unavailable=None,
            message=None,
        )


class CapabilityOut(Body):
    metric: str
    label: str
    units: int = Field(description="Values behind the figures (the latest of the window).")
    left_out: int
    spec_lower: float | None
    spec_upper: float | None
    mean: float | None
    sigma_overall: float | None
    sigma_within: float | None
    within_method: str | None
    cpk: IndexOut | None
    ppk: IndexOut | None


# --------------------------------------------------------------------------- models


class ModelRowOut(Body):
    model: str = Field(description="'' for files that named no model.")
    element_type: str | None
    product_class: str | None
    stations: int
    first_day: date
    last_day: date
    counts: Counts
    fail_points: int
    cpk: IndexOut | None = Field(description="Cpk of linearity error; null: no spec.")
    units_for_cpk: int | None
    drift: str | None
    open_alarms: int | None


class ModelList(Body):
    filters: FiltersOut
    total: Counts
    unlisted: int = Field(description="Models in the window beyond the listed maximum.")
    rows: list[ModelRowOut]


class SpcPointOut(Body):
    made_at: StationTime
    result_id: UUID
    station: str
    serial: str | None
    track_id: str
    status: str
    sigma_gradient: float | None
    sigma_threshold: float | None
    linearity_error: float | None
    linearity_spec: float | None


class ControlLimitsOut(Body):
    """The I-MR chart's limits of one metric, or why there are none."""

    metric: str
    centre: float | None
    lcl: float | None
    ucl: float | None
    mr_centre: float | None
    mr_ucl: float | None
    out_of_control: list[int] = Field(description="Indices into `series` failing a test.")
    unavailable: str | None


class DriftOut(Body):
    station: str
    state: str
    units: int
    unavailable: str | None


class FailBinOut(Body):
    bin: int
    from_pct: float
    to_pct: float
    points: int
    tracks: int


class ModelStationOut(Body):
    """One station's row of a model: its units, near misses and drift state."""

    station: str
    counts: Counts
    near_misses: int
    near_miss_tracks: int
    near_miss_pct: float | None
    drift: str | None


class ModelStations(Body):
    model: str
    filters: FiltersOut
    rows: list[ModelStationOut]


class ModelDetail(Body):
    model: str
    filters: FiltersOut
    counts: Counts
    cpk: IndexOut | None = Field(description="The scorecard's Cpk (the model list's).")
    drift_state: str
    capability: list[CapabilityOut]
    control: list[ControlLimitsOut]
    drift: list[DriftOut]
    fail_positions: list[FailBinOut]
    stations: list[ModelStationOut]
    series: list[SpcPointOut]
    series_truncated: bool = Field(description="The window holds more units than the series.")
    series_left_out: int
    open_alarms: list[AlarmOut]


# --------------------------------------------------------------------------- units


class UnitRowOut(Body):
    result_id: UUID
    made_at: StationTime
    test_date: StationTime | None
    station: str
    model: str | None
    serial: str | None
    status: str
    tracks: int
    file_name: str
    worst_track: str | None
    linearity_error: float | None
    linearity_spec: float | None
    fail_points: int | None
    sigma_gradient: float | None
    sigma_threshold: float | None
    margin_to_spec: float | None
    max_violation: float | None
    near_miss: bool
    is_anomaly: bool


class UnitList(Body):
    filters: FiltersOut
    serial: str | None
    limit: int
    rows: list[UnitRowOut]
    next_cursor: str | None = Field(description="Pass back as `cursor` for the next page.")


class TrackOut(Body):
    track_id: str
    status: str
    error: str | None
    points: int
    sigma_gradient: float | None
    sigma_threshold: float | None
    sigma_pass: bool | None
    optimal_offset: float | None
    linearity_error: float | None
    linearity_pass: bool | None
    linearity_spec: float | None
    fail_points: int | None
    travel_length: float | None
    untrimmed_resistance: float | None
    trimmed_resistance: float | None
    max_violation: float | None
    margin_to_spec: float | None
    near_miss: bool
    is_anomaly: bool
    untrimmed_only: bool
    trim_passes: int


class UnitDetail(Body):
    result_id: UUID
    made_at: StationTime
    received_at: datetime
    station: str
    model: str | None
    serial: str | None
    status: str
    file_name: str
    agent_version: str | None
    analysis_version: str
    revision: int
    tracks: list[TrackOut]
    retrims: list[UnitRowOut]


def dump(body: BaseModel) -> dict[str, Any]:
    """The JSON form (aliases such as `from`, ISO dates, UUIDs as text)."""
    return body.model_dump(mode="json", by_alias=True)
