"""Where data lands on a chart: round tick values, padded ranges, the linear map.

Both programs' charts ask the same questions (which round values to label, how
much room to leave around the data, where value v falls in the plot rectangle),
so the answers live here once; a chart only chooses its margins and tick density.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

TARGET_TICKS = 6


def nice_step(span: float, target: int = TARGET_TICKS) -> float:
    """A 1, 2 or 5 times a power of ten step giving about `target` ticks over `span`."""
    raw = span / max(1, target)
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 5.0):
        if raw <= factor * power * 1.0000001:
            return factor * power
    return 10.0 * power


def nice_ticks(low: float, high: float, target: int = TARGET_TICKS) -> list[float]:
    """Round tick values inside [low, high] (inclusive, with a little float slack)."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low] if math.isfinite(low) else []
    step = nice_step(high - low, target)
    first = math.ceil(low / step - 1e-9)
    last = math.floor(high / step + 1e-9)
    return [i * step for i in range(first, last + 1)]


def ticks_and_step(low: float, high: float, target: int) -> tuple[list[float], float]:
    """Round tick values inside [low, high] and their step (for the labels' decimals).

    A narrow range may hold only one round value at the usual density; then
    ticks are asked for three times as densely, so the axis always has a scale.
    """
    for density in (target, 3 * target):
        ticks = nice_ticks(low, high, density)
        if len(ticks) >= 2:
            return ticks, ticks[1] - ticks[0]
    span = high - low
    return ticks, nice_step(span, 3 * target) if span > 0 else 1.0


def tick_label(value: float, step: float) -> str:
    """A tick label with as many decimals as the step needs, and no '-0'."""
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step > 0 else 0
    text = f"{value:.{decimals}f}"
    if float(text) == 0:
        text = f"{0:.{decimals}f}"
    return text


def finite(values: Sequence[float] | FloatArray) -> FloatArray:
    """The finite values only: NaN and infinities never set a scale."""
    array = np.asarray(values, dtype=np.float64)
    kept: FloatArray = array[np.isfinite(array)]
    return kept


def padded_range(
    values: Sequence[float] | FloatArray,
    pad_fraction: float = 0.05,
    *,
    flat_pad: float = 1e-3,
    empty: tuple[float, float] = (-1.0, 1.0),
    floor: float | None = None,
) -> tuple[float, float]:
    """The finite values' range with a margin; a flat range still gets a visible height.

    A flat range at v is padded by 10 % of |v|, or by `flat_pad` at zero; no finite
    value at all gives `empty`. `floor` keeps the margin from dipping below a natural
    bound the data respects (0 for a rate).
    """
    found = finite(values)
    if found.size == 0:
        return empty
    low, high = float(found.min()), float(found.max())
    span = high - low
    if span <= 0:
        pad = abs(low) * 0.1 if low != 0 else flat_pad
        padded_low, padded_high = low - pad, high + pad
    else:
        padded_low, padded_high = low - span * pad_fraction, high + span * pad_fraction
    if floor is not None and padded_low < floor <= low:
        padded_low = floor
    return padded_low, padded_high


class LinearScale:
    """Maps data coordinates onto the plot rectangle (y grows downwards in SVG).

    `clamp_y` pins values beyond the y range to the frame's edge (a dashboard chart
    drawing a wild point at the border); without it they fall outside and the chart
    clips them (a track's band that opens far wider than the scale).
    """

    def __init__(
        self,
        x_range: tuple[float, float],
        y_range: tuple[float, float],
        box: tuple[float, float, float, float],
        *,
        clamp_y: bool = False,
    ) -> None:
        self.x0, self.x1 = x_range
        self.y0, self.y1 = y_range
        self.left, self.top, self.right, self.bottom = box
        self.clamp_y = clamp_y
        self.kx = (self.right - self.left) / ((self.x1 - self.x0) or 1.0)
        self.ky = (self.bottom - self.top) / ((self.y1 - self.y0) or 1.0)

    def x(self, value: float) -> float:
        return self.left + (value - self.x0) * self.kx

    def y(self, value: float) -> float:
        if self.clamp_y:
            value = min(max(value, self.y0), self.y1)
        return self.bottom - (value - self.y0) * self.ky

    def xs(self, values: FloatArray) -> FloatArray:
        mapped: FloatArray = self.left + (values - self.x0) * self.kx
        return mapped

    def ys(self, values: FloatArray) -> FloatArray:
        if self.clamp_y:
            values = np.clip(values, self.y0, self.y1)
        mapped: FloatArray = self.bottom - (values - self.y0) * self.ky
        return mapped
