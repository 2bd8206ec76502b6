"""One track's curves as a single compact blob (how central stores them).

Format "LTC1": the 4-byte magic, six little-endian uint32 lengths (positions,
errors, upper, lower, untrimmed positions, untrimmed errors; 0xFFFFFFFF for an
absent array), then the arrays as little-endian float64, NaN where a limit is
blank. One blob per track means one TOAST entry instead of six, which is most
of the cost of storing curves in PostgreSQL.
"""

from __future__ import annotations

import struct

import numpy as np

from shared.models import TrackCurve

MAGIC = b"LTC1"
ABSENT = 0xFFFFFFFF
_HEADER = struct.Struct("<4s6I")
_ORDER = ("positions", "errors", "upper", "lower", "untrimmed_positions", "untrimmed_errors")
_REQUIRED = (0, 1, 2, 3)


def pack_arrays(arrays: tuple[bytes | None, ...]) -> bytes:
    """Assemble a blob from six arrays already encoded as little-endian float64 bytes."""
    if len(arrays) != len(_ORDER):
        raise ValueError("a curve blob holds exactly six arrays")
    lengths = [ABSENT if a is None else len(a) // 8 for a in arrays]
    return _HEADER.pack(MAGIC, *lengths) + b"".join(a for a in arrays if a is not None)


def check_blob(blob: bytes) -> None:
    """Raise ValueError unless blob is a well-formed curve blob (header and size agree)."""
    if len(blob) < _HEADER.size:
        raise ValueError("curve blob shorter than its header")
    magic, *lengths = _HEADER.unpack_from(blob)
    if magic != MAGIC:
        raise ValueError("curve blob has the wrong magic")
    present = [n for n in lengths if n != ABSENT]
    if len(present) < len(_REQUIRED) or any(lengths[i] == ABSENT for i in _REQUIRED):
        raise ValueError("curve blob lacks positions, errors or limits")
    if len(blob) != _HEADER.size + 8 * sum(present):
        raise ValueError("curve blob size does not match its header")


def pack_curve(curve: TrackCurve) -> bytes:
    arrays = (
        curve.positions,
        curve.errors,
        curve.upper,
        curve.lower,
        curve.untrimmed_positions,
        curve.untrimmed_errors,
    )
    packed = [None if a is None else np.array(a, dtype="<f8") for a in arrays]
    lengths = [ABSENT if a is None else a.size for a in packed]
    body = b"".join(a.tobytes() for a in packed if a is not None)
    return _HEADER.pack(MAGIC, *lengths) + body


def _limits(values: np.ndarray) -> list[float | None]:
    return [None if np.isnan(v) else float(v) for v in values]


def unpack_curve(blob: bytes) -> TrackCurve:
    check_blob(blob)
    _, *lengths = _HEADER.unpack_from(blob)
    data = np.frombuffer(blob, dtype="<f8", offset=_HEADER.size)
    arrays: list[np.ndarray | None] = []
    start = 0
    for length in lengths:
        if length == ABSENT:
            arrays.append(None)
            continue
        arrays.append(data[start : start + length])
        start += length
    positions, errors, upper, lower, untrimmed_positions, untrimmed_errors = arrays
    if positions is None or errors is None or upper is None or lower is None:
        raise ValueError("a curve blob needs positions, errors and both limit arrays")
    return TrackCurve(
        positions=positions.tolist(),
        errors=errors.tolist(),
        upper=_limits(upper),
        lower=_limits(lower),
        untrimmed_positions=None if untrimmed_positions is None else untrimmed_positions.tolist(),
        untrimmed_errors=None if untrimmed_errors is None else untrimmed_errors.tolist(),
    )
