"""One track's curves as a single compact blob (how they travel to central and live there).

Format "LTC1": the 4-byte magic, six little-endian uint32 lengths (positions,
errors, upper, lower, untrimmed positions, untrimmed errors; 0xFFFFFFFF for an
absent array), then the arrays as little-endian float64 (NaN where a limit is
blank), zlib-compressed at level 1. Positions and limits are regular, so the
blob is about half the raw size; one blob per track also means one TOAST
entry in PostgreSQL instead of six.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

from shared.models import TrackCurve

MAGIC = b"LTC1"
ABSENT = 0xFFFFFFFF
ZLIB_LEVEL = 1
_HEADER = struct.Struct("<4s6I")
_ARRAYS = 6
_REQUIRED = (0, 1, 2, 3)  # positions, errors, upper, lower


def pack_arrays(arrays: tuple[bytes | None, ...]) -> bytes:
    """Assemble a blob from six arrays already encoded as little-endian float64 bytes."""
    if len(arrays) != _ARRAYS:
        raise ValueError("a curve blob holds exactly six arrays")
    lengths = [ABSENT if a is None else len(a) // 8 for a in arrays]
    body = b"".join(a for a in arrays if a is not None)
    return _HEADER.pack(MAGIC, *lengths) + zlib.compress(body, ZLIB_LEVEL)


def _lengths(blob: bytes) -> list[int]:
    if len(blob) < _HEADER.size:
        raise ValueError("curve blob shorter than its header")
    magic, *lengths = _HEADER.unpack_from(blob)
    if magic != MAGIC:
        raise ValueError("curve blob has the wrong magic")
    if any(lengths[i] == ABSENT for i in _REQUIRED):
        raise ValueError("curve blob lacks positions, errors or limits")
    return list(lengths)


def _body(blob: bytes, lengths: list[int]) -> bytes:
    """Inflate at most the size the header announces: a forged header cannot blow up memory."""
    expected = 8 * sum(n for n in lengths if n != ABSENT)
    inflater = zlib.decompressobj()
    try:
        body = inflater.decompress(blob[_HEADER.size :], expected + 1)
    except zlib.error as exc:
        raise ValueError("curve blob data is not valid zlib") from exc
    if len(body) != expected or not inflater.eof or inflater.unused_data:
        raise ValueError("curve blob size does not match its header")
    return body


def check_blob(blob: bytes) -> None:
    """Raise ValueError unless blob is a well-formed curve blob."""
    _body(blob, _lengths(blob))


def pack_curve(curve: TrackCurve) -> bytes:
    arrays = (
        curve.positions,
        curve.errors,
        curve.upper,
        curve.lower,
        curve.untrimmed_positions,
        curve.untrimmed_errors,
    )
    return pack_arrays(
        tuple(None if a is None else np.array(a, dtype="<f8").tobytes() for a in arrays)
    )


def _limits(values: np.ndarray) -> list[float | None]:
    return [None if np.isnan(v) else float(v) for v in values]


def unpack_curve(blob: bytes) -> TrackCurve:
    lengths = _lengths(blob)
    data = np.frombuffer(_body(blob, lengths), dtype="<f8")
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
        raise ValueError("curve blob lacks positions, errors or limits")  # _lengths checked
    return TrackCurve(
        positions=positions.tolist(),
        errors=errors.tolist(),
        upper=_limits(upper),
        lower=_limits(lower),
        untrimmed_positions=None if untrimmed_positions is None else untrimmed_positions.tolist(),
        untrimmed_errors=None if untrimmed_errors is None else untrimmed_errors.tolist(),
    )
