"""Which adjustment a rescued unit needed: rotation alone, the excluded rows alone, or both.

A unit is rescued when its governing verdict passes and the strict one (offset
only, every point) does not. Whether rotation alone would have passed it, or
the excluded rows alone, is not in the stored document, so each rescued track
is judged twice more from its stored curve with the station's kernels
(agent/analysis): with its rotation bounds and every point, and with k = 0 and
its excluded points left out. Both may rescue it (then it counts for each, as
the issue's own figures do); when neither does, it needed both.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shared.curves import unpack_arrays


def _passes(
    arrays: list[np.ndarray | None], k_bounds: tuple[float, float], listed: tuple[int, ...]
) -> bool:
    from agent.analysis.judgement import judge
    from agent.analysis.policy import Plan
    from agent.parsing.layout import SheetData
    from shared.model_specs import Policy

    positions, errors, upper, lower = (np.asarray(a, dtype=np.float64) for a in arrays[:4])
    theory = arrays[6] if len(arrays) > 6 else None
    sheet = SheetData(
        positions=positions,
        errors=errors,
        upper=upper,
        lower=lower,
        resistance=None,
        theory=None if theory is None else np.asarray(theory, dtype=np.float64),
    )
    plan = Plan(policy=Policy.SPEC, k_lo=k_bounds[0], k_hi=k_bounds[1], listed=listed)
    return judge(sheet, upper, lower, plan).passes


def rescued_by(tracks: list[tuple[dict[str, Any], bytes | None]]) -> tuple[bool, bool] | None:
    """(rotation alone passes, excluded rows alone pass) for a rescued unit; None when a
    track it needs has no stored curve."""
    rotation = excluded = True
    for document, blob in tracks:
        strict = document.get("strict") or {}
        if strict.get("linearity_pass", document.get("linearity_pass")):
            continue  # this track needed nothing
        if blob is None:
            return None
        arrays = unpack_arrays(bytes(blob))
        if any(a is None for a in arrays[:4]):
            return None
        adjustment = document.get("adjustment") or {}
        bounds = adjustment.get("k_bounds") or (0.0, 0.0)
        points = tuple(int(i) for i in adjustment.get("excluded_points") or ())
        rotation = rotation and _passes(arrays, (float(bounds[0]), float(bounds[1])), ())
        excluded = excluded and _passes(arrays, (0.0, 0.0), points)
    return rotation, excluded
