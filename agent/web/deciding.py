"""What decided a unit's verdict, in the few words a recent-units row has room for.

A linearity verdict is decided point by point against the band (which may be
a bowtie, wider at the ends), so the row shows the fail points and either the
margin to the band (passing: smallest distance to a limit, % of band width) or
how far the worst point is outside it (failing). Never the linearity error as a
percentage of the mean spec: on a bowtie band that exceeds 100 % on a pass.
"""

from __future__ import annotations

import math
from typing import Any

from shared.band import is_near_miss
from shared.models import Status


def _severity(track: dict[str, Any]) -> int:
    try:
        return Status(track["status"]).severity
    except ValueError:
        return 0


def _margin_rank(track: dict[str, Any]) -> float:
    margin = track.get("margin_to_spec")
    return margin if margin is not None and math.isfinite(margin) else math.inf


def deciding_track(tracks: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The track that set the unit's verdict: worst status, then most fail points, then
    the smallest margin (the unit is as good as its worst track)."""
    if not tracks:
        return None
    return max(
        tracks,
        key=lambda t: (_severity(t), t.get("fail_points") or 0, -_margin_rank(t)),
    )


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def verdict_detail(tracks: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The row's detail: fail points, the margin to the band (and whether that makes a near
    miss) or the worst violation.

    `track_id` is set only when the unit has several tracks (then it says which one).
    """
    track = deciding_track(tracks)
    if track is None:
        return None
    status = track["status"]
    fails = track.get("fail_points")
    failing = status == Status.FAIL.value or bool(fails)
    sigma, threshold = track.get("sigma_gradient"), track.get("sigma_threshold")
    margin = None if failing else _finite(track.get("margin_to_spec"))
    return {
        "track_id": track["track_id"] if len(tracks) > 1 else None,
        "analysed": status != Status.ERROR.value and fails is not None,
        "fail_points": fails,
        "outside": _finite(track.get("max_violation")) if failing else None,
        "margin": margin,
        "near_miss": is_near_miss(margin),  # the one cutoff (shared/band.py)
        "sigma_high": sigma is not None and threshold is not None and sigma > threshold,
    }


def adjustment_marks(tracks: list[dict[str, Any]]) -> dict[str, bool]:
    """The recent list's badges: the verdict rotated a theory line, left rows out, or
    differs from the strict one (offset only, every point) on some track."""
    return {
        "rotated": any(t.get("rotated") for t in tracks),
        "left_out": any(t.get("left_out") for t in tracks),
        "strict_differs": any(t.get("strict_differs") for t in tracks),
    }
