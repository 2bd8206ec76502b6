"""Which adjustment a verdict may use: the governing policy turned into numbers.

DOMAIN.md "Verdict policies": the `station` policy reads the file's own
electrical-angle window and ignored rows, `spec` takes QA's angle tolerance
and excluded points instead, `strict` allows an offset only. The kernels
(agent/analysis/rotation.py) only ever see the result: rotation bounds and a
mask of the points that are judged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from shared.model_specs import ModelSpec, Policy
from shared.models import Adjustment, WindowStatus

# A window wider than this share of the nominal is reported as `wide` (still used).
WIDE_WINDOW_SHARE = 0.2


@dataclass(frozen=True)
class Plan:
    """The allowed adjustment for one sheet, before the kernel picks k and c."""

    policy: Policy
    k_lo: float = 0.0
    k_hi: float = 0.0
    angle_nominal: float | None = None
    window: tuple[float, float] | None = None
    window_status: WindowStatus = WindowStatus.NONE
    excluded_start: int = 0
    excluded_end: int = 0
    excluded_source: Literal["station", "spec", "none"] = "none"
    listed: tuple[int, ...] = ()  # QA's explicit indices (spec policy)

    def judged(self, n: int) -> np.ndarray:
        """True for every point the verdict judges."""
        mask = np.ones(n, dtype=np.bool_)
        mask[: min(self.excluded_start, n)] = False
        if self.excluded_end:
            mask[max(n - self.excluded_end, 0) :] = False
        for index in self.listed:
            if index < n:
                mask[index] = False
        return mask

    def adjustment(self, k: float, judged: np.ndarray) -> Adjustment:
        adjusted = None
        if self.angle_nominal is not None and k < 1.0:
            adjusted = self.angle_nominal / (1.0 - k)
        # Validated: pydantic-core checks these few fields faster than model_construct sets them.
        return Adjustment(
            policy=self.policy.value,
            k=k,
            k_bounds=(self.k_lo, self.k_hi),
            angle_nominal=self.angle_nominal,
            angle_adjusted=adjusted,
            window=self.window,
            window_status=self.window_status,
            excluded_start=min(self.excluded_start, judged.size),
            excluded_end=min(self.excluded_end, judged.size),
            excluded_source=self.excluded_source,
            excluded_points=np.flatnonzero(~judged).tolist(),
        )


def window_status(nominal: float | None, low: float | None, high: float | None) -> WindowStatus:
    """The state of the station's angle window (sorted) against the nominal angle A."""
    if low is None or high is None:
        return WindowStatus.NONE
    low, high = min(low, high), max(low, high)
    if nominal is None or nominal <= 0.0 or low <= 0.0:
        return WindowStatus.INVALID
    if low == high:
        return WindowStatus.ZERO_WIDTH if low == nominal else WindowStatus.ZERO_WIDTH_NOMINAL_OFF
    if not low <= nominal <= high:
        return WindowStatus.NOMINAL_OUTSIDE
    if high - low > WIDE_WINDOW_SHARE * nominal:
        return WindowStatus.WIDE
    return WindowStatus.OK


def station_plan(
    nominal: float | None,
    window_low: float | None,
    window_high: float | None,
    ignored_start: int | None,
    ignored_end: int | None,
) -> Plan:
    """The station's own rules: rotation within its window, its ignored rows left out."""
    status = window_status(nominal, window_low, window_high)
    window = None
    if window_low is not None and window_high is not None:
        window = (min(window_low, window_high), max(window_low, window_high))
    k_lo = k_hi = 0.0
    if status in (WindowStatus.OK, WindowStatus.WIDE) and window is not None and nominal:
        k_lo, k_hi = 1.0 - nominal / window[0], 1.0 - nominal / window[1]
    start, end = ignored_start or 0, ignored_end or 0
    return Plan(
        policy=Policy.STATION,
        k_lo=k_lo,
        k_hi=k_hi,
        angle_nominal=nominal,
        window=window,
        window_status=status,
        excluded_start=start,
        excluded_end=end,
        excluded_source="station" if start or end else "none",
    )


def spec_plan(spec: ModelSpec, nominal: float | None) -> Plan:
    """QA's rules: rotation bounds from the angle tolerance, QA's excluded points."""
    k_lo, k_hi = spec.k_bounds(nominal)
    angle = spec.angle_nominal or nominal
    window = None
    status = WindowStatus.NONE
    if spec.has_rotation_rule and angle and k_lo != k_hi:
        window = (angle / (1.0 - k_lo), angle / (1.0 - k_hi))
        status = WindowStatus.OK
    listed = spec.exclude_points
    return Plan(
        policy=Policy.SPEC,
        k_lo=k_lo,
        k_hi=k_hi,
        angle_nominal=angle,
        window=window,
        window_status=status,
        excluded_source="spec" if listed else "none",
        listed=listed,
    )


def strict_plan(nominal: float | None) -> Plan:
    return Plan(policy=Policy.STRICT, angle_nominal=nominal)


def plan_for(
    spec: ModelSpec | None,
    nominal: float | None,
    window_low: float | None,
    window_high: float | None,
    ignored_start: int | None,
    ignored_end: int | None,
) -> Plan:
    """The governing policy for a sheet: the model spec's when there is one, else the station's."""
    policy = spec.governing_policy if spec is not None else Policy.STATION
    if policy is Policy.STRICT:
        return strict_plan(nominal)
    if policy is Policy.SPEC and spec is not None:
        return spec_plan(spec, nominal)
    return station_plan(nominal, window_low, window_high, ignored_start, ignored_end)
