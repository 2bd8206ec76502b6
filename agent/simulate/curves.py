"""Trimmed error curves drawn so that the DOMAIN.md verdict rules give an intended outcome.

Each builder draws one candidate curve; `trimmed_error` redraws until the candidate
meets its outcome under the numpy copies of the rules in `verdicts`, so the verdict
of every simulated unit is known before any file is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from agent.simulate.verdicts import (
    ANOMALY_R2,
    ANOMALY_RANGE,
    band_ratio,
    line_fit_r2,
    looks_untrimmed,
    sigma_gradient,
)

_PASS_RATIO = 0.6  # |error| / half band: keeps the margin at >= 20 % of the band width
_NEAR_MISS_RATIO = (0.80, 0.96)  # within ~10 % of the band width from a limit
_SIGMA_PASS = 0.8  # sigma / threshold for pass-like tracks
_SIGMA_WARN = 1.4  # sigma / threshold for warning tracks
_ATTEMPTS = 40


@dataclass(frozen=True, eq=False)
class Layout:
    """What every sheet of one track shares: positions, ideal line and spec band.

    `half` is the half band width at every point whether or not a limit is written
    there; `upper`/`lower` are NaN where the station writes no limit. `narrow` marks
    the points of the narrowest band, where a defect can be placed meaningfully.
    """

    positions: np.ndarray
    frac: np.ndarray
    theory: np.ndarray
    half: np.ndarray
    upper: np.ndarray
    lower: np.ndarray
    narrow: np.ndarray
    tight: np.ndarray  # points whose band is far tighter than the spec (7844's first point)
    threshold: float
    smooth_scale: float  # threshold the narrow band alone would give: bounds pass noise
    linear: bool
    decimals: int  # the station's rounding of measured volts


def quantise(layout: Layout, errors: np.ndarray) -> np.ndarray:
    """The error the station writes: its rounded measured volts minus the theory volts."""
    measured = np.round(layout.theory + errors, layout.decimals)
    return np.asarray(measured - layout.theory)


def trimmed_error(rng: np.random.Generator, layout: Layout, outcome: str) -> np.ndarray:
    """A trimmed curve that the verdict rules read as `outcome` (checked, redrawn if not).

    Redraws are rare (a few per hundred units); should every attempt miss, the last
    draw is kept rather than failing the run.
    """
    build = _BUILDERS[outcome]
    pin = outcome != "anomaly"  # an untrimmed-looking line stays a line
    errors = np.zeros(layout.positions.size)
    for _ in range(_ATTEMPTS):
        errors = quantise(layout, _pin_tight_points(layout, build(rng, layout), pin))
        if meets(outcome, layout, errors):
            break
    if outcome == "pass" and rng.random() < 0.15:
        # A station bias: the raw curve sits off centre, one constant offset recovers it.
        bias = _sign(rng) * rng.uniform(0.2, 0.5) * float(layout.half[layout.narrow].min())
        shifted = quantise(layout, _pin_tight_points(layout, errors + bias, pin))
        if meets(outcome, layout, shifted):
            errors = shifted
    return errors


def _pin_tight_points(layout: Layout, errors: np.ndarray, pin: bool) -> np.ndarray:
    """Keep points with a much tighter band than their neighbours well inside it.

    A curve shaped for the spec cannot follow a band that closes to a tenth of it
    at one point; the station's trim targets that point on its own, so its error
    is drawn near the curve's centre (where the best constant offset puts zero),
    inside a fifth of its tight band.
    """
    if not pin or not layout.tight.any():
        return errors
    rest = errors[~layout.tight]
    centre = (float(rest.max()) + float(rest.min())) / 2.0
    half = layout.half[layout.tight]
    pinned = errors.copy()
    pinned[layout.tight] = centre + np.clip(errors[layout.tight] - centre, -0.2 * half, 0.2 * half)
    return pinned


def untrimmed_error(rng: np.random.Generator, layout: Layout, spec: float) -> np.ndarray:
    """Before trim: a large smooth tilt and bow, many times the band."""
    u = 2.0 * layout.frac - 1.0
    tilt = _sign(rng) * rng.uniform(4.0, 12.0) * spec
    bow = _sign(rng) * rng.uniform(1.0, 4.0) * spec
    offset = rng.uniform(-2.0, 2.0) * spec
    noise = rng.normal(0.0, 0.02 * spec, u.size)
    return quantise(layout, offset + tilt * u + bow * (u * u - 1.0 / 3.0) + noise)


def meets(outcome: str, layout: Layout, errors: np.ndarray) -> bool:
    """Whether `errors` gives the intended verdict under the DOMAIN.md rules."""
    x, thr = layout.positions, layout.threshold
    if outcome == "anomaly":
        spread = float(errors.max() - errors.min())
        limit = max(10.0 * thr, ANOMALY_RANGE)
        return spread > 1.2 * limit and line_fit_r2(x, errors) > ANOMALY_R2 + 0.02
    if looks_untrimmed(x, errors, thr):
        return False
    top, bottom = band_ratio(errors, layout.upper, layout.lower)
    if outcome == "fail":
        return top > 1.0 and bottom < -1.0
    sigma = sigma_gradient(x, errors) / thr
    if outcome == "near_miss":
        low, high = _NEAR_MISS_RATIO
        return low <= top <= high and -high <= bottom <= -low and sigma <= _SIGMA_PASS
    inside = max(top, -bottom) <= _PASS_RATIO
    if outcome == "warning":
        return inside and sigma >= _SIGMA_WARN
    return inside and sigma <= _SIGMA_PASS


def _sign(rng: np.random.Generator) -> float:
    """+1 or -1 with equal odds."""
    return 1.0 if rng.random() < 0.5 else -1.0


def _shape(rng: np.random.Generator, layout: Layout, u: np.ndarray) -> np.ndarray:
    """A smooth trim residual. Linear parts stay nearly straight: the default sigma
    threshold per inch (spec / 24) leaves room for little curvature."""
    if layout.linear:
        return np.asarray(_sign(rng) * u + rng.normal(0.0, 0.005) * (u * u - 1.0 / 3.0))
    cycles = rng.uniform(0.3, 0.9)
    phase = rng.uniform(0.0, 2.0 * np.pi)
    return np.asarray(
        rng.normal(0.0, 1.0) * u
        + rng.normal(0.0, 0.6) * (u * u - 1.0 / 3.0)
        + rng.normal(0.0, 1.0) * np.sin(np.pi * cycles * (u + 1.0) + phase)
    )


def _centre(errors: np.ndarray) -> np.ndarray:
    """Shift so the curve's extremes are symmetric about zero."""
    return np.asarray(errors - (errors.max() + errors.min()) / 2.0)


def _noise(rng: np.random.Generator, layout: Layout, sigma_share: float) -> np.ndarray:
    """Measurement noise scaled to add `sigma_share` x threshold to the sigma gradient."""
    z = rng.normal(0.0, 1.0, layout.positions.size)
    return z * (sigma_share * layout.smooth_scale / sigma_gradient(layout.positions, z))


def _smooth(rng: np.random.Generator, layout: Layout, amp: float, budget: float) -> np.ndarray:
    """A centred smooth residual peaking at `amp` of the half band, sigma <= budget x thr."""
    u = 2.0 * layout.frac - 1.0
    shape = _centre(_shape(rng, layout, u))
    shape *= amp / float(np.max(np.abs(shape) / layout.half))
    sigma = sigma_gradient(layout.positions, shape)
    if sigma > budget * layout.smooth_scale:
        shape *= budget * layout.smooth_scale / sigma
    return shape


def _build_pass(rng: np.random.Generator, layout: Layout) -> np.ndarray:
    """Small smooth residual plus a little noise, well inside the band."""
    smooth = _smooth(rng, layout, rng.uniform(0.15, 0.5), 0.5)
    return _centre(smooth + _noise(rng, layout, rng.uniform(0.05, 0.2)))


def _build_warning(rng: np.random.Generator, layout: Layout) -> np.ndarray:
    """Inside the band, but rough: ripples the filter passes push the sigma gradient up."""
    smooth = _smooth(rng, layout, rng.uniform(0.05, 0.15), 0.3)
    index = np.arange(layout.positions.size)
    ripple = np.zeros(index.size)
    for _ in range(int(rng.integers(1, 3))):
        freq = rng.uniform(0.03, 0.048)  # cycles per sample, below the 0.05 cut-off
        ripple += rng.uniform(0.5, 1.0) * np.sin(2 * np.pi * freq * index + rng.uniform(0, 6.3))
    ripple *= layout.half  # as rough everywhere relative to the band, bowtie or flat
    ripple *= rng.uniform(1.55, 2.0) * layout.threshold / sigma_gradient(layout.positions, ripple)
    return _centre(smooth + ripple + _noise(rng, layout, 0.1))


def _build_near_miss(rng: np.random.Generator, layout: Layout) -> np.ndarray:
    """A pass whose curve comes within ~10 % of the band width of both limits.

    Touching both sides means no constant offset can buy the margin back.
    """
    u = 2.0 * layout.frac - 1.0
    shape = _shape(rng, layout, u)
    has = np.isfinite(layout.upper) & ~layout.tight
    s, half = shape[has], layout.half[has]
    top = rng.uniform(0.84, 0.92)
    bottom = rng.uniform(0.84, 0.92)
    scale, offset = 1.0, 0.0
    for _ in range(4):  # fit scale and offset so the extreme points land at +top / -bottom
        ratio = (scale * s + offset) / half
        hi, lo = int(np.argmax(ratio)), int(np.argmin(ratio))
        if s[hi] == s[lo]:
            break
        scale = (top * half[hi] + bottom * half[lo]) / (s[hi] - s[lo])
        offset = top * half[hi] - scale * s[hi]
    return np.asarray(scale * shape + offset + _noise(rng, layout, 0.05))


def _build_fail(rng: np.random.Generator, layout: Layout) -> np.ndarray:
    """A pass-like curve with a few narrow defects through both limits.

    One bump above the upper limit and one below the lower limit: no constant
    offset can bring both back inside. Defects sit where the band is narrowest.
    """
    errors = _build_pass(rng, layout)
    n = errors.size
    candidates = np.flatnonzero(np.isfinite(layout.upper) & layout.narrow)
    middle = candidates[(candidates > n // 10) & (candidates < n - n // 10)]
    if middle.size >= 4:
        candidates = middle
    index = np.arange(n)
    count = int(rng.integers(2, min(5, candidates.size) + 1))
    spots = rng.choice(candidates, count, replace=False)
    width_max = 3.0 if n > 60 else 1.0
    for k, spot in enumerate(spots):
        sign = 1.0 if k == 0 else -1.0 if k == 1 else _sign(rng)
        peak = sign * (1.0 + rng.uniform(0.15, 0.8)) * layout.half[spot]
        width = rng.uniform(0.6, width_max)
        errors = errors + (peak - errors[spot]) * np.exp(-0.5 * ((index - spot) / width) ** 2)
    return errors


def _build_anomaly(rng: np.random.Generator, layout: Layout) -> np.ndarray:
    """The 'trimmed' data is a straight tilted line: the trim did not happen."""
    spread = rng.uniform(1.5, 3.0) * max(10.0 * layout.threshold, ANOMALY_RANGE)
    tilt = _sign(rng) * spread * (layout.frac - 0.5)
    offset = rng.uniform(-0.3, 0.3) * spread
    return offset + tilt + rng.normal(0.0, 0.01 * spread, layout.frac.size)


_BUILDERS: dict[str, Callable[[np.random.Generator, Layout], np.ndarray]] = {
    "pass": _build_pass,
    "warning": _build_warning,
    "near_miss": _build_near_miss,
    "fail": _build_fail,
    "anomaly": _build_anomaly,
}
