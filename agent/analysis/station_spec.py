"""The station's own spec for a track, set beside our verdict.

None of this changes the verdict (DOMAIN.md: honouring the station's
ignored end points is a per-model decision, never a silent default). It
shows QA and the operator where the station program and the customer's
zero-tolerance rule part ways: a resistance outside the station's final
limits, an electrical angle outside its window, failing points that the
station program ignores.
"""

from __future__ import annotations

import numpy as np

from agent.parsing.layout import SpecFacts
from shared.models import StationSpec

_UNITS = {"rotary": "deg", "linear": "in"}


def _inside(value: float | None, low: float | None, high: float | None) -> bool | None:
    if value is None or (low is None and high is None):
        return None
    return (low is None or value >= low) and (high is None or value <= high)


def fails_at_ends(fail_mask: np.ndarray, start: int | None, end: int | None) -> int | None:
    """Failing points among the first `start` and the last `end` points (each end once)."""
    if start is None and end is None:
        return None
    n = fail_mask.size
    ignored = np.zeros(n, dtype=np.bool_)
    ignored[: min(start or 0, n)] = True
    if end:
        ignored[max(n - end, 0) :] = True
    return int((fail_mask & ignored).sum())


def station_spec(
    facts: SpecFacts, trimmed_resistance: float | None, fail_mask: np.ndarray
) -> StationSpec:
    return StationSpec(
        pot_type=facts.pot_type,
        position_unit=_UNITS.get(facts.pot_type) if facts.pot_type else None,
        resistance_min=facts.resistance_min,
        resistance_max=facts.resistance_max,
        resistance_in_spec=_inside(trimmed_resistance, facts.resistance_min, facts.resistance_max),
        angle_nominal=facts.angle_nominal,
        angle_measured=facts.angle_measured,
        angle_min=facts.angle_min,
        angle_max=facts.angle_max,
        angle_in_window=_inside(facts.angle_measured, facts.angle_min, facts.angle_max),
        ignored_start=facts.ignored_start,
        ignored_end=facts.ignored_end,
        fails_in_ignored=fails_at_ends(fail_mask, facts.ignored_start, facts.ignored_end),
    )
