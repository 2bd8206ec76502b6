"""How results map to rows: timestamps as fixed-width UTC text, curves as float64 blobs."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np

from shared.models import FileResult, TrackCurve, document_json


def iso(moment: datetime) -> str:
    """Fixed-width UTC text, so text order is time order in SQL."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def pack(values: list[float] | list[float | None] | None) -> bytes | None:
    """Little-endian float64; None (no limit at a point) becomes NaN."""
    if values is None:
        return None
    array = np.array([math.nan if v is None else v for v in values], dtype="<f8")
    return array.tobytes()


def unpack(blob: bytes | None) -> np.ndarray | None:
    return None if blob is None else np.frombuffer(blob, dtype="<f8")


def limits_list(blob: bytes | None) -> list[float | None]:
    array = unpack(blob)
    if array is None:
        return []
    return [None if math.isnan(v) else v for v in array.tolist()]


def curve_columns(curve: TrackCurve | None) -> dict[str, bytes | None]:
    if curve is None:
        return dict.fromkeys(CURVE_COLUMNS)
    return {
        "positions": pack(curve.positions),
        "errors": pack(curve.errors),
        "upper": pack(curve.upper),
        "lower": pack(curve.lower),
        "untrimmed_positions": pack(curve.untrimmed_positions),
        "untrimmed_errors": pack(curve.untrimmed_errors),
        "theory": pack(curve.theory),
    }


def curve_from_row(row: dict[str, bytes | None]) -> TrackCurve | None:
    positions, errors = unpack(row["positions"]), unpack(row["errors"])
    if positions is None or errors is None:
        return None
    untrimmed_positions = unpack(row["untrimmed_positions"])
    untrimmed_errors = unpack(row["untrimmed_errors"])
    theory = unpack(row.get("theory"))
    return TrackCurve(
        positions=positions.tolist(),
        errors=errors.tolist(),
        upper=limits_list(row["upper"]),
        lower=limits_list(row["lower"]),
        untrimmed_positions=None if untrimmed_positions is None else untrimmed_positions.tolist(),
        untrimmed_errors=None if untrimmed_errors is None else untrimmed_errors.tolist(),
        theory=None if theory is None else theory.tolist(),
    )


CURVE_COLUMNS = (
    "positions",
    "errors",
    "upper",
    "lower",
    "untrimmed_positions",
    "untrimmed_errors",
    "theory",
)


def document(result: FileResult) -> str:
    """The result as JSON without curves (they live in the tracks table as blobs)."""
    return document_json(result)
