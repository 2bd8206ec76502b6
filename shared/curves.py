"""One track's curves as a single compact blob (how they travel to central and live there).

Format "LTC2": the 4-byte magic, seven little-endian uint32 lengths (positions,
errors, upper, lower, untrimmed positions, untrimmed errors, theory volts;
0xFFFFFFFF for an absent array), then the arrays as little-endian float64 (NaN
where a limit is blank), zlib-compressed at level 1. "LTC1" (agents before
spec-aware verdicts) is the same with six lengths and no theory; both are read.
Positions and limits are regular, so the blob is about half the raw size; one
blob per track also means one TOAST entry in PostgreSQL instead of six.

A blob comes from the network (a station), so nothing in it is trusted: every
declared length is checked against MAX_POINTS before a byte is inflated, and
inflating stops at the size the header declares (docs/security.md).
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

from shared.models import PassCurve, TrackCurve, TrackResult

MAGIC = b"LTC2"
OLD_MAGIC = b"LTC1"
ABSENT = 0xFFFFFFFF
ZLIB_LEVEL = 1
_HEADERS = {MAGIC: struct.Struct("<4s7I"), OLD_MAGIC: struct.Struct("<4s6I")}
_ARRAYS = 7
_REQUIRED = (0, 1, 2, 3)  # positions, errors, upper, lower
# Points in one array: a sheet holds at most this many rows (agent analysis.max_rows is
# capped here), so a header declaring more is forged; it bounds what one blob inflates to.
MAX_POINTS = 100_000


def pack_arrays(arrays: tuple[bytes | None, ...]) -> bytes:
    """Assemble a blob from seven arrays (six: no theory) as little-endian float64 bytes."""
    if len(arrays) not in (_ARRAYS - 1, _ARRAYS):
        raise ValueError("a curve blob holds seven arrays (six without theory volts)")
    arrays = tuple(arrays) + (None,) * (_ARRAYS - len(arrays))
    lengths = [ABSENT if a is None else len(a) // 8 for a in arrays]
    body = b"".join(a for a in arrays if a is not None)
    return _HEADERS[MAGIC].pack(MAGIC, *lengths) + zlib.compress(body, ZLIB_LEVEL)


def _header(blob: bytes) -> struct.Struct:
    header = _HEADERS.get(blob[:4])
    if header is None:
        raise ValueError("curve blob has the wrong magic")
    if len(blob) < header.size:
        raise ValueError("curve blob shorter than its header")
    return header


def _lengths(blob: bytes) -> list[int]:
    """Seven lengths; an LTC1 blob's missing theory reads as absent."""
    _, *lengths = _header(blob).unpack_from(blob)
    if any(lengths[i] == ABSENT for i in _REQUIRED):
        raise ValueError("curve blob lacks positions, errors or limits")
    largest = max(n for n in lengths if n != ABSENT)
    if largest > MAX_POINTS:
        raise ValueError(
            f"curve blob declares {largest} points in one array (at most {MAX_POINTS})"
        )
    return list(lengths) + [ABSENT] * (_ARRAYS - len(lengths))


def declared_points(blob: bytes) -> int:
    """Values a curve blob holds by its header (checked, not inflated): for budgets."""
    return sum(n for n in _lengths(blob) if n != ABSENT)


def _body(blob: bytes, lengths: list[int]) -> bytes:
    """Inflate at most the size the header announces: a forged header cannot blow up memory."""
    expected = 8 * sum(n for n in lengths if n != ABSENT)
    inflater = zlib.decompressobj()
    try:
        body = inflater.decompress(blob[_header(blob).size :], expected + 1)
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
        curve.theory,
    )
    return pack_arrays(
        tuple(None if a is None else np.array(a, dtype="<f8").tobytes() for a in arrays)
    )


def _limits(values: np.ndarray) -> list[float | None]:
    return [None if np.isnan(v) else float(v) for v in values]


def unpack_arrays(blob: bytes) -> list[np.ndarray | None]:
    """The seven arrays of a blob as float64 numpy views (NaN = blank limit), None if absent.

    For readers that compute on the curve (central's rollups) and need no model.
    """
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
    return arrays


def unpack_curve(blob: bytes) -> TrackCurve:
    positions, errors, upper, lower, untrimmed_positions, untrimmed_errors, theory = unpack_arrays(
        blob
    )
    if positions is None or errors is None or upper is None or lower is None:
        raise ValueError("curve blob lacks positions, errors or limits")  # _lengths checked
    return TrackCurve(
        positions=positions.tolist(),
        errors=errors.tolist(),
        upper=_limits(upper),
        lower=_limits(lower),
        untrimmed_positions=None if untrimmed_positions is None else untrimmed_positions.tolist(),
        untrimmed_errors=None if untrimmed_errors is None else untrimmed_errors.tolist(),
        theory=None if theory is None else theory.tolist(),
    )


# ------------------------------------------------------------------ trim-pass curves
# Format "LTP1": the 4-byte magic, a uint32 count, then per stored pass its index in
# the track's `passes` and its point count (two uint32), then every pass's positions
# and errors as little-endian float64, zlib-compressed. The untrimmed pass and the
# final pass are the track's own curve ("LTC1"), so they are not stored twice.
PASS_MAGIC = b"LTP1"
_PASS_HEADER = struct.Struct("<4sI")
_PASS_ENTRY = struct.Struct("<II")
MAX_PASSES = 64


def _stored_elsewhere(track: TrackResult, index: int) -> bool:
    entry = track.passes[index]
    curve = track.curve
    if curve is None:
        return False
    if entry.final:
        return True
    return entry.number == 0 and curve.untrimmed_errors is not None


def pack_passes(track: TrackResult) -> bytes | None:
    """The curves of a track's intermediate passes as one blob (None when there are none)."""
    entries = [
        (i, p.curve)
        for i, p in enumerate(track.passes)
        if p.curve is not None and not _stored_elsewhere(track, i)
    ]
    if not entries:
        return None
    header = _PASS_HEADER.pack(PASS_MAGIC, len(entries))
    header += b"".join(_PASS_ENTRY.pack(i, len(c.positions)) for i, c in entries)
    body = b"".join(
        np.array(c.positions, dtype="<f8").tobytes() + np.array(c.errors, dtype="<f8").tobytes()
        for _, c in entries
    )
    return header + zlib.compress(body, ZLIB_LEVEL)


def _pass_header(blob: bytes) -> tuple[list[tuple[int, int]], int]:
    """The (pass index, points) entries and where the compressed body starts."""
    if len(blob) < _PASS_HEADER.size:
        raise ValueError("pass-curve blob shorter than its header")
    magic, count = _PASS_HEADER.unpack_from(blob)
    if magic != PASS_MAGIC:
        raise ValueError("pass-curve blob has the wrong magic")
    if count > MAX_PASSES:
        raise ValueError(f"pass-curve blob claims {count} passes (at most {MAX_PASSES})")
    start = _PASS_HEADER.size
    end = start + count * _PASS_ENTRY.size
    if len(blob) < end:
        raise ValueError("pass-curve blob shorter than its header")
    entries = [_PASS_ENTRY.unpack_from(blob, start + k * _PASS_ENTRY.size) for k in range(count)]
    largest = max((n for _, n in entries), default=0)
    if largest > MAX_POINTS:
        raise ValueError(
            f"pass-curve blob declares {largest} points in one pass (at most {MAX_POINTS})"
        )
    return entries, end


def declared_pass_points(blob: bytes) -> int:
    """Values a pass-curve blob holds by its header (checked, not inflated): for budgets."""
    return 2 * sum(n for _, n in _pass_header(blob)[0])


def _pass_entries(blob: bytes) -> tuple[list[tuple[int, int]], bytes]:
    entries, end = _pass_header(blob)
    expected = 16 * sum(n for _, n in entries)
    inflater = zlib.decompressobj()
    try:
        body = inflater.decompress(blob[end:], expected + 1)
    except zlib.error as exc:
        raise ValueError("pass-curve blob data is not valid zlib") from exc
    if len(body) != expected or not inflater.eof or inflater.unused_data:
        raise ValueError("pass-curve blob size does not match its header")
    return entries, body


def check_pass_blob(blob: bytes) -> None:
    """Raise ValueError unless blob is a well-formed pass-curve blob."""
    _pass_entries(blob)


def attach_passes(track: TrackResult, blob: bytes | None) -> TrackResult:
    """The track with every pass's curve filled in from its blob and its own curve."""
    curve = track.curve
    if curve is None or not track.passes:
        return track
    stored: dict[int, PassCurve] = {}
    if blob is not None:
        entries, body = _pass_entries(blob)
        data = np.frombuffer(body, dtype="<f8")
        offset = 0
        for index, n in entries:
            stored[index] = PassCurve(
                positions=data[offset : offset + n].tolist(),
                errors=data[offset + n : offset + 2 * n].tolist(),
            )
            offset += 2 * n
    passes = []
    for index, entry in enumerate(track.passes):
        own: PassCurve | None = stored.get(index)
        if entry.final:
            own = PassCurve(positions=curve.positions, errors=curve.errors)
        elif entry.number == 0 and curve.untrimmed_positions and curve.untrimmed_errors:
            own = PassCurve(positions=curve.untrimmed_positions, errors=curve.untrimmed_errors)
        passes.append(entry.model_copy(update={"curve": own}))
    return track.model_copy(update={"passes": passes})
