"""The sync protocol between a station agent and central (DESIGN.md, "Sync contract").

Both sides validate with these models, so a field means the same on both.
A batch travels as gzip-compressed JSON; every result carries a result_id
derived from the station id and the file's SHA-256, so resending is harmless.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    StringConstraints,
    ValidationInfo,
    model_validator,
)

from shared.curves import (
    MAX_PASSES,
    check_blob,
    check_pass_blob,
    declared_pass_points,
    declared_points,
    pack_curve,
    pack_passes,
)
from shared.ids import result_id
from shared.models import Count, FileResult, Instant

# 2: tracks carry their trim history (`passes`, `station_spec`, `sheet`) and each
# result may carry `pass_curves`.
# 3: spec-aware verdicts: tracks and passes carry `adjustment` and `strict`, tracks
# `reasons`, results `spec_version`; curve blobs are "LTC2" (with theory volts).
# Central still accepts versions 1 and 2.
PROTOCOL_VERSION = 3
SUPPORTED_PROTOCOLS = (1, 2, 3)
RESULTS_PATH = "/api/v1/results"
HEARTBEAT_PATH = "/api/v1/heartbeat"
# Same body and checks as a heartbeat, but nothing is recorded: `doctor` checks its
# token here without making central show a station alive that never ran.
TOKEN_CHECK_PATH = "/api/v1/token-check"  # noqa: S105 - a URL path, not a secret
MAX_BATCH_RESULTS = 1000
# What one result may hold. A station's real files stay far below these (1-4 tracks, a
# few trim passes, a few hundred points); they bound what a forged result costs central
# to check, store and show (docs/security.md). MAX_PASSES and the points per array are
# shared/curves.py's.
MAX_TRACKS = 32
MAX_NOTES = 200  # per result, and per track
MAX_RESULT_POINTS = 2_000_000  # values in all of a result's curve blobs (16 MB as float64)
MAX_BATCH_POINTS = 20_000_000  # the same over a batch: what one request may make central inflate
# Any measured figure beyond this is not a measurement: sums of squares of a few billion
# of them must still fit a float8 in PostgreSQL's statistics.
MAX_ABS_VALUE = 1e12
BUDGET_KEY = "curve_point_budget"
SHA256_HEX = re.compile(r"[0-9a-f]{64}")

StationId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$")
]


def _blob_in(value: object) -> bytes:
    """Raw bytes from Python; standard base64 text from JSON."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error as exc:
            raise ValueError("curve blob is not valid base64") from exc
    raise ValueError("curve blob must be base64 text")


def _blob_out(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _no_nul(text: str) -> str:
    if "\x00" in text:
        raise ValueError("contains a NUL character")
    return text


Version = Annotated[str, StringConstraints(max_length=64), AfterValidator(_no_nul)]
ErrorText = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_no_nul)]
CurveBlob = Annotated[bytes, PlainValidator(_blob_in), PlainSerializer(_blob_out, when_used="json")]
ResultId = Annotated[str, StringConstraints(min_length=36, max_length=36)]


class PointBudget:
    """Curve values a whole batch may still declare; spent result by result while parsing.

    Passed as validation context (`parse_batch`), so a batch is refused on its headers
    before central inflates more than `MAX_BATCH_POINTS` values.
    """

    def __init__(self, points: int = MAX_BATCH_POINTS) -> None:
        self.total = self.left = points

    def spend(self, points: int) -> None:
        self.left -= points
        if self.left < 0:
            raise ValueError(
                f"the batch's curves hold more than {self.total} values; send fewer "
                "results per batch"
            )


def _out_of_range(node: object, where: str) -> str | None:
    """The first float in a result beyond MAX_ABS_VALUE, as a path, or None."""
    if isinstance(node, float):
        return where if abs(node) > MAX_ABS_VALUE else None
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            found = _out_of_range(getattr(node, name), f"{where}.{name}")
            if found:
                return found
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found = _out_of_range(value, f"{where}[{index}]")
            if found:
                return found
    return None


def _check_sizes(result: FileResult) -> None:
    """The per-result limits above, with messages that say which one was passed."""
    if len(result.tracks) > MAX_TRACKS:
        raise ValueError(f"a result holds at most {MAX_TRACKS} tracks, not {len(result.tracks)}")
    if len(result.notes) > MAX_NOTES:
        raise ValueError(f"a result holds at most {MAX_NOTES} notes, not {len(result.notes)}")
    for track in result.tracks:
        if len(track.passes) > MAX_PASSES:
            raise ValueError(f"track {track.track_id!r} has more than {MAX_PASSES} trim passes")
        if len(track.notes) > MAX_NOTES:
            raise ValueError(f"track {track.track_id!r} has more than {MAX_NOTES} notes")
    beyond = _out_of_range(result, "result")
    if beyond:
        raise ValueError(f"{beyond} is beyond +/-{MAX_ABS_VALUE:g}, not a measured value")


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class StationResult(_Message):
    """One analysed file as a station reports it.

    The tracks' curves travel beside the result as "LTC2" blobs
    (shared/curves.py, base64 in JSON), not as JSON number lists: a tenth of
    the parsing on both sides, bit-exact, and stored by central as they come.
    """

    result_id: ResultId
    result: FileResult
    curves: dict[str, CurveBlob] = Field(default_factory=dict)
    pass_curves: dict[str, CurveBlob] = Field(
        default_factory=dict, description="Per track: its intermediate passes' curves (LTP1)."
    )
    # Re-analysis (`lta-agent reanalyze`, docs/decisions/0018-revisions.md): the same
    # result_id with a higher revision replaces the stored one; equal or lower is a duplicate.
    revision: Count = Field(default=0, description="0 = first analysis; n = n-th re-analysis.")
    revision_reason: ErrorText | None = None
    first_analysed_at: Instant | None = Field(
        default=None,
        description="Revisions > 0: when revision 0 was analysed (the unit's place in time).",
    )

    @model_validator(mode="after")
    def _has_identity(self, info: ValidationInfo) -> StationResult:
        if self.result.sha256 is None or not SHA256_HEX.fullmatch(self.result.sha256):
            raise ValueError("a result needs the file's sha256 as 64 lower-case hex digits")
        track_ids = [t.track_id for t in self.result.tracks]
        if len(set(track_ids)) != len(track_ids):
            raise ValueError("track ids within one result must be unique")
        if any(t.curve is not None for t in self.result.tracks):
            raise ValueError("send curves in 'curves', not inside the tracks")
        if any(p.curve is not None for t in self.result.tracks for p in t.passes):
            raise ValueError("send pass curves in 'pass_curves', not inside the passes")
        unknown = (set(self.curves) | set(self.pass_curves)) - set(track_ids)
        if unknown:
            raise ValueError(f"curves for unknown track(s): {sorted(unknown)}")
        _check_sizes(self.result)
        # Headers first (cheap, nothing inflated), then each blob inflated within them.
        points = sum(declared_points(b) for b in self.curves.values()) + sum(
            declared_pass_points(b) for b in self.pass_curves.values()
        )
        if points > MAX_RESULT_POINTS:
            raise ValueError(
                f"the result's curves hold {points} values (at most {MAX_RESULT_POINTS})"
            )
        budget = (info.context or {}).get(BUDGET_KEY)
        if isinstance(budget, PointBudget):
            budget.spend(points)
        for blob in self.curves.values():
            check_blob(blob)
        for blob in self.pass_curves.values():
            check_pass_blob(blob)
        return self

    @classmethod
    def from_result(cls, result_id: str, result: FileResult) -> StationResult:
        """Split a result with curves into the wire form."""
        curves = {t.track_id: pack_curve(t.curve) for t in result.tracks if t.curve is not None}
        pass_curves = {
            t.track_id: blob for t in result.tracks if (blob := pack_passes(t)) is not None
        }
        return cls(
            result_id=result_id,
            result=without_curves(result),
            curves=curves,
            pass_curves=pass_curves,
        )

    def matches(self, station_id: str) -> bool:
        """The id must be the one derived from this station and this file."""
        assert self.result.sha256 is not None  # noqa: S101 - checked by the validator
        return self.result_id == result_id(station_id, self.result.sha256)


def without_curves(result: FileResult) -> FileResult:
    """The result as its document is stored: curves travel and live as blobs."""
    tracks = [
        t.model_copy(
            update={
                "curve": None,
                "passes": [p.model_copy(update={"curve": None}) for p in t.passes],
            }
        )
        for t in result.tracks
    ]
    return result.model_copy(update={"tracks": tracks})


class IngestBatch(_Message):
    protocol_version: int
    station_id: StationId
    agent_version: Version
    sent_at: Instant
    results: list[StationResult] = Field(min_length=1, max_length=MAX_BATCH_RESULTS)


def parse_batch(data: bytes | str, budget: int = MAX_BATCH_POINTS) -> IngestBatch:
    """A batch from its JSON, refused (ValidationError) once its curves pass `budget` values."""
    return IngestBatch.model_validate_json(data, context={BUDGET_KEY: PointBudget(budget)})


class Rejected(_Message):
    result_id: str
    reason: str


class IngestResponse(_Message):
    """Per-item acknowledgement: accepted and duplicate ids are both delivered."""

    accepted: list[str] = Field(default_factory=list)
    duplicate: list[str] = Field(default_factory=list)
    rejected: list[Rejected] = Field(default_factory=list)


class Heartbeat(_Message):
    protocol_version: int
    station_id: StationId
    agent_version: Version
    sent_at: Instant
    outbox_pending: Count
    oldest_undelivered_age_s: float | None = Field(default=None, ge=0)
    dead_letters: Count = 0
    last_error: (
        Annotated[str, StringConstraints(max_length=2000), AfterValidator(_no_nul)] | None
    ) = None


class ErrorBody(_Message):
    """Every 4xx/5xx from central has this body."""

    code: str
    message: str
