"""Result models: what one analysed file produces.

The same objects are written to the station's SQLite store, printed by
`lta-agent analyze --json` and sent to central unchanged, so every field is
plain JSON (no NaN: a value that does not exist is None).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from shared.version import ANALYSIS_VERSION, __version__

RESULT_SCHEMA_VERSION = 3  # 2: sheet, passes, station_spec per track; 3: adjustment, strict
MAX_COUNT = 2_000_000_000  # fits a 32-bit database column

# Point counts: never negative, and bounded so a hostile payload cannot overflow storage.
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]


def _utc_representable(moment: datetime) -> datetime:
    """An instant: it must carry a time zone and exist in UTC (years 1-9999)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("needs a time zone (UTC offset)")
    try:
        moment.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("is outside the years 1-9999 in UTC") from exc
    return moment


def _local(moment: datetime) -> datetime:
    if moment.tzinfo is not None:
        raise ValueError("is the station's local time and carries no time zone")
    return moment


Instant = Annotated[datetime, AfterValidator(_utc_representable)]
LocalTime = Annotated[datetime, AfterValidator(_local)]
# Lengths keep every value indexable (PostgreSQL btree rows are limited to ~2.7 kB).
Name = Annotated[str, StringConstraints(max_length=128)]
Text = Annotated[str, StringConstraints(max_length=4000)]
PathText = Annotated[str, StringConstraints(max_length=4096)]


class Status(StrEnum):
    PASS = "Pass"  # noqa: S105 - a verdict, not a password
    WARNING = "Warning"
    FAIL = "Fail"
    ERROR = "Error"
    SKIPPED = "Skipped"

    @property
    def severity(self) -> int:
        """Order used to pick a file's worst track: an unverifiable track ranks above a Fail."""
        return _SEVERITY[self]


_SEVERITY = {
    Status.SKIPPED: 0,
    Status.PASS: 1,
    Status.WARNING: 2,
    Status.FAIL: 3,
    Status.ERROR: 4,
}


def worst_status(statuses: list[Status]) -> Status:
    """A file's status is its worst track's; a file without tracks cannot pass."""
    if not statuses:
        return Status.ERROR
    return max(statuses, key=lambda s: s.severity)


class _Model(BaseModel):
    # NaN/inf are not values a station can measure; JSON and PostgreSQL disagree on them.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class ErrorInfo(_Model):
    code: Name
    message: Text


class Note(_Model):
    """A data-quality observation about what was read (reported, never hidden)."""

    code: Name
    message: Text


class WindowStatus(StrEnum):
    """How the station's electrical-angle window reads against the nominal angle A."""

    OK = "ok"  # W_lo > 0, W_lo < W_hi, A inside: rotation allowed
    WIDE = "wide"  # as ok, but wider than 20 % of A (e.g. 1e9 = "no limit"): still used
    ZERO_WIDTH = "zero_width"  # W_lo = W_hi = A: no rotation
    ZERO_WIDTH_NOMINAL_OFF = "zero_width_nominal_off"  # W_lo = W_hi != A
    NOMINAL_OUTSIDE = "nominal_outside"  # A outside [W_lo, W_hi]: not used
    NONE = "none"  # no window in the file (or the policy has none)
    INVALID = "invalid"  # A missing or <= 0, or W_lo <= 0


class Adjustment(_Model):
    """What the verdict allowed and used: the rotation k, its bounds, the rows left out.

    The adjusted error of point i is e_i + t_i*k + c (c = optimal_offset);
    k = 1 - A/A' for a theory line recomputed at angle A' (angle_adjusted).
    """

    policy: Literal["station", "spec", "strict"]
    k: float = 0.0
    k_bounds: tuple[float, float] = (0.0, 0.0)
    angle_nominal: float | None = None
    angle_adjusted: float | None = None
    window: tuple[float, float] | None = None
    window_status: WindowStatus = WindowStatus.NONE
    excluded_start: Count = 0
    excluded_end: Count = 0
    excluded_source: Literal["station", "spec", "none"] = "none"
    excluded_points: list[Count] = Field(
        default_factory=list,
        max_length=10_000,
        description="Zero-based indices left out of the judgement (both ends and any QA listed).",
    )


class StrictFigures(_Model):
    """Offset only, every point: the first release's rule, shown beside any other policy."""

    linearity_pass: bool
    fail_points: Count
    linearity_error: float


class VerdictReason(_Model):
    """One reason a track is not a plain Pass, in words an operator can act on."""

    code: Literal["linearity", "sigma", "resistance", "angle"]
    message: Text


class TrimEffectiveness(_Model):
    untrimmed_rms: float
    trimmed_rms: float
    improvement_pct: float | None
    resistance_change_ohms: float | None
    resistance_change_pct: float | None


class TrackCurve(_Model):
    """The arrays needed to plot a track: raw errors, limits (None = no spec there)."""

    positions: list[float]
    errors: list[float]
    upper: list[float | None]
    lower: list[float | None]
    theory: list[float] | None = Field(
        default=None, description="Theory volts: the rotation's lever (adjusted = e + t*k + c)."
    )
    untrimmed_positions: list[float] | None = None
    untrimmed_errors: list[float] | None = None


class PassCurve(_Model):
    """One pass's measured error along the travel (its band is the track's)."""

    positions: list[float]
    errors: list[float]


class TrimPass(_Model):
    """One measurement of a track: the untrimmed one (number 0) or one after a laser pass.

    The process engineer reads a unit's trim history from these; the verdict
    is always the final pass's (the same figures as the track's).
    """

    number: Count = Field(description="0 = untrimmed; n = after laser pass n")
    sheet: Name
    trim_set: Count | None = Field(default=None, description="TRM<set> of System A pass sheets")
    final: bool = False
    points: Count = 0
    error: ErrorInfo | None = None
    sigma_gradient: float | None = None
    optimal_offset: float | None = None
    linearity_error: float | None = None
    fail_points: Count | None = None
    raw_fail_points: Count | None = None
    resistance: float | None = None
    adjustment: Adjustment | None = None
    strict: StrictFigures | None = None
    curve: PassCurve | None = None


class StationSpec(_Model):
    """What the file itself says about the unit's spec, reported beside the verdict.

    The verdict rules do not use these (DOMAIN.md: honouring the station's
    ignored end points is a per-model decision); they show where the
    station's own program and our verdict may part ways.
    """

    pot_type: Literal["rotary", "linear"] | None = None
    position_unit: Literal["deg", "in"] | None = None
    resistance_min: float | None = None
    resistance_max: float | None = None
    resistance_in_spec: bool | None = None
    angle_nominal: float | None = None
    angle_measured: float | None = None
    angle_min: float | None = None
    angle_max: float | None = None
    angle_in_window: bool | None = None
    ignored_start: Count | None = None
    ignored_end: Count | None = None
    fails_in_ignored: Count | None = Field(
        default=None, description="Failing points (after the offset) among the ignored ends."
    )


class TrackResult(_Model):
    track_id: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    status: Status
    error: ErrorInfo | None = None
    points: Count = 0
    sigma_gradient: float | None = None
    sigma_threshold: float | None = None
    sigma_pass: bool | None = None
    optimal_offset: float | None = None
    linearity_error: float | None = None
    linearity_pass: bool | None = None
    fail_points: Count | None = None
    raw_fail_points: Count | None = None
    linearity_spec: float | None = None
    travel_length: float | None = None
    untrimmed_resistance: float | None = None
    trimmed_resistance: float | None = None
    max_violation: float | None = None
    mean_violation: float | None = None
    margin_to_spec: float | None = Field(
        default=None, description="Passing tracks: smallest distance to a limit, % of band width."
    )
    near_miss: bool = False
    is_anomaly: bool = False
    untrimmed_only: bool = False
    sheet: Name | None = Field(default=None, description="The sheet holding the final data.")
    trim: TrimEffectiveness | None = None
    station_spec: StationSpec | None = None
    adjustment: Adjustment | None = None
    strict: StrictFigures | None = None
    resistance_pass: bool | None = Field(
        default=None, description="Only when a model spec puts resistance in the verdict."
    )
    angle_pass: bool | None = Field(
        default=None, description="Only when a model spec puts the measured angle in the verdict."
    )
    reasons: list[VerdictReason] = Field(default_factory=list)
    passes: list[TrimPass] = Field(default_factory=list)
    notes: list[Note] = Field(default_factory=list)
    curve: TrackCurve | None = None


class FileResult(_Model):
    schema_version: int = RESULT_SCHEMA_VERSION
    path: PathText
    file_name: PathText
    sha256: str | None = None
    size_bytes: int | None = None
    system: Literal["A", "B"] | None = None
    model: Name | None = None
    serial: Name | None = None
    test_date: LocalTime | None = None
    status: Status
    error: ErrorInfo | None = None
    tracks: list[TrackResult] = Field(default_factory=list)
    notes: list[Note] = Field(default_factory=list)
    analysed_at: Instant
    analysis_version: Name = ANALYSIS_VERSION
    agent_version: Name = __version__
    spec_version: Name | None = Field(
        default=None, description="The model-spec table the verdict was given under, if any."
    )


# Curves live beside the document as blobs (shared/curves.py), on the station and centrally.
_DOCUMENT_EXCLUDE: dict[str, Any] = {
    "tracks": {"__all__": {"curve": True, "passes": {"__all__": {"curve"}}}}
}


def document_json(result: FileResult) -> str:
    """The result as the JSON document both stores keep: everything but the curves."""
    return result.model_dump_json(exclude=_DOCUMENT_EXCLUDE)
