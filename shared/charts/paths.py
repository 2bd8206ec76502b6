"""Path data for lines, bands and dot strips, with a gap wherever a value is missing.

A missing measurement must show as a break in the line, never as a straight
segment bridging it, so every builder splits at non-finite coordinates here, once.
Coordinates are written to 0.1 of a viewBox unit (well below a pixel).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.intp]

# A point is left out only when it is this close (viewBox units) to the line through
# its neighbours: exact straight stretches collapse, curves stay as drawn.
COLLINEAR_TOLERANCE = 1e-6


def runs(px: FloatArray, py: FloatArray) -> Iterator[IndexArray]:
    """Index arrays of the stretches where both coordinates exist (a NaN ends a stretch)."""
    index = np.flatnonzero(np.isfinite(px) & np.isfinite(py))
    if index.size == 0:
        return
    yield from np.split(index, np.flatnonzero(np.diff(index) > 1) + 1)


def pairs(px: FloatArray, py: FloatArray) -> list[str]:
    """Each point as "x y", rounded to 0.1."""
    # %-formatting a tuple is several times faster than an f-string per coordinate.
    return ["%.1f %.1f" % pair for pair in zip(px.tolist(), py.tolist(), strict=True)]  # noqa: UP031


def distinct_points(px: FloatArray, py: FloatArray) -> list[str]:
    """'x y' strings rounded to 0.1, without repeats of the same rounded point."""
    rx, ry = np.round(px, 1), np.round(py, 1)
    if rx.size > 1:
        fresh = np.ones(rx.size, dtype=bool)
        fresh[1:] = (rx[1:] != rx[:-1]) | (ry[1:] != ry[:-1])
        rx, ry = rx[fresh], ry[fresh]
    return pairs(rx, ry)


def drop_collinear(px: FloatArray, py: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Leave out points on the straight line through their neighbours (unrounded coordinates).

    Spec limits are often constant or linear over hundreds of points; one
    segment draws them the same. Only (numerically) exact collinearity
    counts, so dropping many points in a row cannot bend a curve.
    """
    if px.size <= 2:
        return px, py
    dx, dy = px[2:] - px[:-2], py[2:] - py[:-2]
    cross = dx * (py[1:-1] - py[:-2]) - dy * (px[1:-1] - px[:-2])
    keep = np.ones(px.size, dtype=bool)
    keep[1:-1] = np.abs(cross) > COLLINEAR_TOLERANCE * np.hypot(dx, dy)
    return px[keep], py[keep]


def line_path(px: FloatArray, py: FloatArray, simplify: bool = False) -> str:
    """Path data of a measured curve (every distinct point kept), or of a limit line
    (`simplify`: exactly straight stretches drawn as one segment)."""
    parts = []
    for run in runs(px, py):
        x, y = (px[run], py[run])
        if simplify:
            x, y = drop_collinear(x, y)
        parts.append("M" + "L".join(distinct_points(x, y)))
    return "".join(parts)


def band_path(px: FloatArray, pu: FloatArray, pl: FloatArray) -> str:
    """Closed polygons over every stretch where both limits exist (gaps where either is blank)."""
    polygons = []
    both = np.where(np.isfinite(pl), pu, np.nan)
    for run in runs(px, both):
        if run.size < 2:
            continue
        top = distinct_points(*drop_collinear(px[run], pu[run]))
        bottom = distinct_points(*drop_collinear(px[run][::-1], pl[run][::-1]))
        polygons.append("M" + "L".join(top + bottom) + "Z")
    return "".join(polygons)


def series_path(px: FloatArray, py: FloatArray) -> str:
    """Path data of a series over many points (thousands of units on a control chart).

    Points inside a flat stretch (same rounded y as both neighbours, e.g. a CUSUM
    resting at 0 or an EWMA limit once it has settled) are left out, since the
    line through their neighbours draws them exactly.
    """
    parts = []
    for run in runs(px, py):
        xs, ys = px[run], py[run]
        y = np.round(ys, 1)
        keep = np.ones(y.size, dtype=np.bool_)
        if y.size > 2:
            keep[1:-1] = (y[1:-1] != y[:-2]) | (y[1:-1] != y[2:])
        parts.append("M" + "L".join(pairs(xs[keep], ys[keep])))
    return "".join(parts)


def dots_path(px: FloatArray, py: FloatArray) -> str:
    """Every point as a zero-length stroke with round caps: one element for a thousand dots."""
    ok = np.isfinite(px) & np.isfinite(py)
    points = pairs(px[ok], py[ok])
    return "M" + "h0M".join(points) + "h0" if points else ""
