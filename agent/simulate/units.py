"""A numpy model of one laser-trimmed unit, as the trim station would have measured it.

The simulator exists so the agent can be demonstrated and load-tested without a
station. Each unit is drawn with an *intended* outcome, and the trimmed error curve
is built (and checked) so that the verdict rules of DOMAIN.md give that outcome
with the default sigma threshold. The check uses a small numpy copy of the sigma
gradient rather than `agent.analysis`, so that a bug in the analysis cannot hide
behind data that was shaped by the same bug.

Everything is drawn from the caller's `numpy.random.Generator`, so a seed fixes
every unit exactly; nothing reads the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

OUTCOMES: tuple[str, ...] = ("pass", "warning", "fail", "near_miss", "anomaly", "aborted")
OUTCOME_WEIGHTS: tuple[float, ...] = (0.70, 0.08, 0.10, 0.07, 0.03, 0.02)

# Verdict limits the generator aims inside of (DOMAIN.md analysis rules).
_PASS_RATIO = 0.6  # |error| / half band: keeps the margin at >= 20 % of the band width
_NEAR_MISS_RATIO = (0.80, 0.96)  # within ~10 % of the band width from a limit
_SIGMA_PASS = 0.8  # sigma / threshold for pass-like tracks
_SIGMA_WARN = 1.4  # sigma / threshold for warning tracks
_ANOMALY_R2 = 0.95
_ANOMALY_RANGE = 0.02
_ATTEMPTS = 40
_DECIMALS = 6


@dataclass(frozen=True)
class ModelInfo:
    """One catalogue part number and how its station measures it."""

    model: str
    system: str  # "A" (DLTS, SEC1 TRKn sheets) or "B" (LTS, test / Lin Error sheets)
    travel_kind: str  # "rotary" (degrees) or "linear" (inches)
    travel: tuple[float, float]  # travel length range
    step: float  # rotary step in degrees; 0.0 for linear models (point count decides)
    points: tuple[int, int]  # point count range for linear models
    whole_positions: bool  # the station stores positions as whole numbers
    start_at_zero: bool  # positions start at 0 rather than centred on 0
    spec: float  # half band width in volts at mid travel
    bowtie: bool  # band widens towards the ends of travel
    test_volts: float
    ohms: float  # nominal resistance after trim
    serial_style: str
    two_track_share: float
    weight: float


CATALOGUE: tuple[ModelInfo, ...] = (
    ModelInfo("8340-1", "A", "rotary", (320, 340), 1.0, (0, 0), True, True,
              0.010, False, 10.0, 10_000, "SN5", 0.15, 0.20),
    ModelInfo("7280-1-CT", "A", "rotary", (300, 320), 1.5, (0, 0), False, False,
              0.0075, True, 5.0, 5_000, "SN5", 0.35, 0.12),
    ModelInfo("8397-2", "A", "linear", (0.9, 1.1), 0.0, (120, 260), False, True,
              0.005, False, 10.0, 20_000, "SN2", 0.0, 0.10),
    ModelInfo("6828-1A", "A", "rotary", (330, 345), 0.5, (0, 0), False, False,
              0.007, True, 10.0, 50_000, "SN5", 0.30, 0.08),
    ModelInfo("8444", "A", "rotary", (300, 330), 2.0, (0, 0), True, True,
              0.010, False, 10.0, 2_000, "shop", 0.10, 0.10),
    ModelInfo("1844202", "B", "rotary", (330, 350), 1.0, (0, 0), False, True,
              0.010, False, 10.0, 10_000, "plain", 0.0, 0.18),
    ModelInfo("2475-11", "B", "linear", (1.8, 2.1), 0.0, (220, 420), False, True,
              0.006, True, 5.0, 100_000, "alnum", 0.0, 0.10),
    ModelInfo("8555-3", "B", "rotary", (300, 320), 0.75, (0, 0), False, False,
              0.008, True, 10.0, 1_000, "plain", 0.0, 0.12),
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class TrackSpec:
    """One resistive element: positions, band and the error curves the station saw.

    Limits are NaN where the station wrote no limit (no spec at that point).
    `trimmed_error` is None when the trim was aborted. Errors, theory volts and
    positions are already rounded as the station writes them; measured volts are
    theory + error.
    """

    track: int
    outcome: str
    positions: np.ndarray
    theory: np.ndarray
    upper: np.ndarray
    lower: np.ndarray
    untrimmed_error: np.ndarray
    trimmed_error: np.ndarray | None
    intermediate_errors: tuple[np.ndarray, ...]
    untrimmed_ohms: float
    trimmed_ohms: float
    nominal_angle: float
    measured_angle: float  # NaN: System A writes the text "NaN"
    blank_error_rows: tuple[int, ...]  # point indexes whose error cell is left empty
    whole_positions: bool


@dataclass(frozen=True, eq=False)
class UnitSpec:
    """One unit as simulated: what a station file will contain, and what it should mean."""

    system: str
    model: str
    serial: str
    tested_at: datetime
    tracks: tuple[TrackSpec, ...]
    outcome: str
    travel_kind: str
    test_volts: float
    compensation: float
    spec: float


def simulate_unit(rng: np.random.Generator, index: int, start: datetime) -> UnitSpec:
    """Draw unit number `index` of a run that starts at `start`.

    Units are tested about two minutes apart (60-180 s between neighbours), so the
    test time depends only on the index and the rng, never on the wall clock.
    """
    tested_at = start + timedelta(seconds=120 * index + int(rng.integers(-30, 31)))
    outcome = str(rng.choice(OUTCOMES, p=OUTCOME_WEIGHTS))
    info = _pick_model(rng, system_a_only=outcome == "aborted")
    serial = _serial(rng, info.serial_style)
    n_tracks = 2 if info.system == "A" and rng.random() < info.two_track_share else 1
    worst = int(rng.integers(n_tracks))
    layout = _layout(rng, info)
    tracks = tuple(
        _track(
            rng,
            info,
            layout,
            number=t + 1,
            outcome=outcome if t == worst or outcome == "aborted" else "pass",
        )
        for t in range(n_tracks)
    )
    return UnitSpec(
        system=info.system,
        model=info.model,
        serial=serial,
        tested_at=tested_at,
        tracks=tracks,
        outcome=outcome,
        travel_kind=info.travel_kind,
        test_volts=info.test_volts,
        compensation=round(float(rng.normal(0.0, 0.002)), 4),
        spec=info.spec,
    )


# --- verdict helpers (numpy copies of the DOMAIN.md rules the generator aims at) ---


def _butter2() -> tuple[tuple[float, float, float], tuple[float, float]]:
    """2nd-order Butterworth low-pass at 0.1 of Nyquist (bilinear transform, closed form)."""
    k = float(np.tan(np.pi * 0.1 / 2.0))
    norm = 1.0 / (1.0 + np.sqrt(2.0) * k + k * k)
    b0 = k * k * norm
    a1 = 2.0 * (k * k - 1.0) * norm
    a2 = (1.0 - np.sqrt(2.0) * k + k * k) * norm
    return (b0, 2.0 * b0, b0), (a1, a2)


_B, _A = _butter2()


def _lfilter(x: np.ndarray) -> np.ndarray:
    """Direct form II transposed, started in the steady state of the first sample."""
    b0, b1, b2 = _B
    a1, a2 = _A
    first = float(x[0])
    z0 = (b1 - a1 + b2 - a2) * first
    z1 = (b2 - a2) * first
    out = []
    for v in x.tolist():
        y = b0 * v + z0
        z0 = b1 * v - a1 * y + z1
        z1 = b2 * v - a2 * y
        out.append(y)
    return np.asarray(out)


def filtfilt(x: np.ndarray) -> np.ndarray:
    """Zero-phase low-pass with odd extension of 9 samples, as scipy's `filtfilt` does."""
    pad = min(9, x.size - 1)
    ext = np.concatenate((2.0 * x[0] - x[pad:0:-1], x, 2.0 * x[-1] - x[-2 : -pad - 2 : -1]))
    y = _lfilter(_lfilter(ext)[::-1])[::-1]
    return y[pad : y.size - pad]


def sigma_gradient(positions: np.ndarray, errors: np.ndarray) -> float:
    """Sample standard deviation of the filtered error's gradient (DOMAIN.md step 1)."""
    filtered = filtfilt(errors)
    x = positions
    if errors.size >= 13:
        x, filtered = x[5:-5], filtered[5:-5]
    dx = np.diff(x)
    df = np.diff(filtered)
    keep = np.abs(dx) > 1e-6
    grad = df[keep] / dx[keep]
    grad = grad[np.isfinite(grad)]
    return float(np.std(grad, ddof=1)) if grad.size >= 2 else 0.0


def sigma_threshold(positions: np.ndarray, upper: np.ndarray, lower: np.ndarray) -> float:
    """Default sigma threshold from the linearity spec and travel length (DOMAIN.md step 2)."""
    if np.isfinite(upper).any() and np.isfinite(lower).any():
        spec = (np.nanmean(upper) - np.nanmean(lower)) / 2.0
    else:
        spec = 0.01
    travel = float(positions.max() - positions.min())
    return max(float(spec) / (24.0 * max(1.0, travel / 100.0)), 1e-4)


def line_fit_r2(positions: np.ndarray, errors: np.ndarray) -> float:
    """R^2 of a straight-line fit of error against position (the anomaly test)."""
    slope, intercept = np.polyfit(positions, errors, 1)
    residual = errors - (slope * positions + intercept)
    total = float(np.sum((errors - errors.mean()) ** 2))
    return 1.0 - float(np.sum(residual**2)) / total if total > 0 else 0.0


def _looks_untrimmed(positions: np.ndarray, errors: np.ndarray, threshold: float) -> bool:
    """True when the anomaly rule would call this curve a trim that did not happen."""
    spread = float(errors.max() - errors.min())
    if spread <= max(10.0 * threshold, _ANOMALY_RANGE):
        return False
    return line_fit_r2(positions, errors) > _ANOMALY_R2 - 0.05


def _band_ratio(errors: np.ndarray, upper: np.ndarray, lower: np.ndarray) -> tuple[float, float]:
    """Highest and lowest position inside the band (-1 = lower limit, +1 = upper)."""
    has = np.isfinite(upper) & np.isfinite(lower)
    mid = (upper[has] + lower[has]) / 2.0
    half = (upper[has] - lower[has]) / 2.0
    ratio = (errors[has] - mid) / half
    return float(ratio.max()), float(ratio.min())


# --- drawing a unit ---


@dataclass(frozen=True)
class _Layout:
    """What both tracks of a unit share: positions, theory, band."""

    positions: np.ndarray
    frac: np.ndarray
    theory: np.ndarray
    half: np.ndarray  # half band width at every point, limits written or not
    upper: np.ndarray
    lower: np.ndarray
    threshold: float


def _pick_model(rng: np.random.Generator, *, system_a_only: bool) -> ModelInfo:
    """Choose a part number; an aborted trim only exists on System A stations."""
    models = [m for m in CATALOGUE if m.system == "A" or not system_a_only]
    weights = np.array([m.weight for m in models])
    return models[int(rng.choice(len(models), p=weights / weights.sum()))]


def _serial(rng: np.random.Generator, style: str) -> str:
    """Shop numbers in the styles the stations use: SN12345, SN10, 209, 2B, shop0."""
    if style == "SN5":
        return f"SN{int(rng.integers(10_000, 100_000))}"
    if style == "SN2":
        return f"SN{int(rng.integers(1, 300))}"
    if style == "alnum":
        return f"{int(rng.integers(1, 60))}{'ABCD'[int(rng.integers(4))]}"
    if style == "shop":
        return f"shop{int(rng.integers(0, 80))}"
    return str(int(rng.integers(1, 500)))


def _layout(rng: np.random.Generator, info: ModelInfo) -> _Layout:
    """Positions, ideal line and spec band for one unit of `info`."""
    if info.travel_kind == "rotary":
        n = round(rng.uniform(*info.travel) / info.step) + 1
        begin = 0.0 if info.start_at_zero else -info.step * ((n - 1) // 2)
        positions = begin + info.step * np.arange(n)
        if info.whole_positions:
            positions = np.round(positions)
    else:
        n = int(rng.integers(info.points[0], info.points[1] + 1))
        travel = float(rng.uniform(*info.travel))
        positions = np.round(np.linspace(0.0, travel, n), 5)
    frac = (positions - positions[0]) / (positions[-1] - positions[0])
    theory = np.round(info.test_volts * (0.03 + 0.94 * frac), _DECIMALS)
    u = 2.0 * frac - 1.0
    half = info.spec * (0.6 + 0.8 * np.abs(u)) if info.bowtie else np.full(n, info.spec)
    half = np.round(half, _DECIMALS)
    upper, lower = half.copy(), -half
    if rng.random() < 0.25:  # no spec for a few points at the ends
        head, tail = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        for limits in (upper, lower):
            limits[:head] = np.nan
            limits[n - tail :] = np.nan
    return _Layout(
        positions=positions,
        frac=frac,
        theory=theory,
        half=half,
        upper=upper,
        lower=lower,
        threshold=sigma_threshold(positions, upper, lower),
    )


def _track(
    rng: np.random.Generator, info: ModelInfo, layout: _Layout, number: int, outcome: str
) -> TrackSpec:
    """One track: untrimmed curve, trimmed curve shaped for `outcome`, resistances, angles."""
    untrimmed = _untrimmed_error(rng, layout, info.spec)
    trimmed = None if outcome == "aborted" else _trimmed_error(rng, info, layout, outcome)
    intermediate: tuple[np.ndarray, ...] = ()
    if info.system == "B" and trimmed is not None and rng.random() < 0.3:
        weights = (0.35,) if rng.random() < 0.5 else (0.5, 0.15)
        intermediate = tuple(
            np.round(w * untrimmed + (1 - w) * trimmed, _DECIMALS) for w in weights
        )
    n = layout.positions.size
    blank_rows: tuple[int, ...] = ()
    if rng.random() < 0.05:
        count = int(rng.integers(1, 5))
        blank_rows = tuple(sorted(int(i) for i in rng.choice(np.arange(1, n - 1), count, False)))
    trimmed_ohms = round(info.ohms * float(rng.uniform(0.98, 1.02)), 1)
    nominal = round(float(layout.positions[-1] - layout.positions[0]), 4)
    measured = round(nominal * (1.0 + float(rng.normal(0.0, 0.002))), 4)
    if info.system == "A" and rng.random() < 0.1:
        measured = float("nan")
    return TrackSpec(
        track=number,
        outcome=outcome,
        positions=layout.positions,
        theory=layout.theory,
        upper=layout.upper,
        lower=layout.lower,
        untrimmed_error=untrimmed,
        trimmed_error=trimmed,
        intermediate_errors=intermediate,
        untrimmed_ohms=round(trimmed_ohms * float(rng.uniform(0.88, 0.97)), 1),
        trimmed_ohms=trimmed_ohms,
        nominal_angle=nominal,
        measured_angle=measured,
        blank_error_rows=blank_rows,
        whole_positions=info.whole_positions,
    )


def _sign(rng: np.random.Generator) -> float:
    """+1 or -1 with equal odds."""
    return 1.0 if rng.random() < 0.5 else -1.0


def _untrimmed_error(rng: np.random.Generator, layout: _Layout, spec: float) -> np.ndarray:
    """Before trim: a large smooth tilt and bow, many times the band."""
    u = 2.0 * layout.frac - 1.0
    tilt = _sign(rng) * rng.uniform(4.0, 12.0) * spec
    bow = _sign(rng) * rng.uniform(1.0, 4.0) * spec
    offset = rng.uniform(-2.0, 2.0) * spec
    noise = rng.normal(0.0, 0.02 * spec, u.size)
    return np.round(offset + tilt * u + bow * (u * u - 1.0 / 3.0) + noise, _DECIMALS)


def _trimmed_error(
    rng: np.random.Generator, info: ModelInfo, layout: _Layout, outcome: str
) -> np.ndarray:
    """A trimmed curve that the verdict rules read as `outcome` (checked, redrawn if not).

    Redraws are rare (a few per hundred units); should every attempt miss, the last
    draw is kept rather than failing the run.
    """
    build = _BUILDERS[outcome]
    errors = np.zeros(layout.positions.size)
    for _ in range(_ATTEMPTS):
        errors = np.round(build(rng, info, layout), _DECIMALS)
        if _meets(outcome, layout, errors):
            break
    if outcome == "pass" and rng.random() < 0.15:
        # A station bias: the raw curve sits off centre, one constant offset recovers it.
        bias = _sign(rng) * rng.uniform(0.2, 0.5) * float(layout.half.min())
        errors = np.round(errors + bias, _DECIMALS)
    return errors


def _meets(outcome: str, layout: _Layout, errors: np.ndarray) -> bool:
    """Whether `errors` gives the intended verdict under the DOMAIN.md rules."""
    x, thr = layout.positions, layout.threshold
    if outcome == "anomaly":
        spread = float(errors.max() - errors.min())
        limit = max(10.0 * thr, _ANOMALY_RANGE)
        return spread > 1.2 * limit and line_fit_r2(x, errors) > _ANOMALY_R2 + 0.02
    if _looks_untrimmed(x, errors, thr):
        return False
    top, bottom = _band_ratio(errors, layout.upper, layout.lower)
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


def _shape(rng: np.random.Generator, info: ModelInfo, u: np.ndarray) -> np.ndarray:
    """A smooth trim residual. Linear parts stay nearly straight: the default sigma
    threshold per inch (spec / 24) leaves room for little curvature."""
    if info.travel_kind == "linear":
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


def _noise(rng: np.random.Generator, layout: _Layout, sigma_share: float) -> np.ndarray:
    """Measurement noise scaled to add `sigma_share` x threshold to the sigma gradient."""
    z = rng.normal(0.0, 1.0, layout.positions.size)
    return z * (sigma_share * layout.threshold / sigma_gradient(layout.positions, z))


def _smooth(
    rng: np.random.Generator, info: ModelInfo, layout: _Layout, amp: float, budget: float
) -> np.ndarray:
    """A centred smooth residual peaking at `amp` of the half band, sigma <= budget x thr."""
    u = 2.0 * layout.frac - 1.0
    shape = _centre(_shape(rng, info, u))
    shape *= amp / float(np.max(np.abs(shape) / layout.half))
    sigma = sigma_gradient(layout.positions, shape)
    if sigma > budget * layout.threshold:
        shape *= budget * layout.threshold / sigma
    return shape


def _build_pass(rng: np.random.Generator, info: ModelInfo, layout: _Layout) -> np.ndarray:
    """Small smooth residual plus a little noise, well inside the band."""
    smooth = _smooth(rng, info, layout, rng.uniform(0.15, 0.5), 0.5)
    return _centre(smooth + _noise(rng, layout, rng.uniform(0.05, 0.2)))


def _build_warning(rng: np.random.Generator, info: ModelInfo, layout: _Layout) -> np.ndarray:
    """Inside the band, but rough: ripples the filter passes push the sigma gradient up."""
    smooth = _smooth(rng, info, layout, rng.uniform(0.05, 0.15), 0.3)
    index = np.arange(layout.positions.size)
    ripple = np.zeros(index.size)
    for _ in range(int(rng.integers(1, 3))):
        freq = rng.uniform(0.025, 0.045)  # cycles per sample, below the 0.05 cut-off
        ripple += rng.uniform(0.5, 1.0) * np.sin(2 * np.pi * freq * index + rng.uniform(0, 6.3))
    ripple *= layout.half  # as rough everywhere relative to the band, bowtie or flat
    ripple *= rng.uniform(1.7, 2.3) * layout.threshold / sigma_gradient(layout.positions, ripple)
    return _centre(smooth + ripple + _noise(rng, layout, 0.1))


def _build_near_miss(rng: np.random.Generator, info: ModelInfo, layout: _Layout) -> np.ndarray:
    """A pass whose curve comes within ~10 % of the band width of both limits.

    Touching both sides means no constant offset can buy the margin back.
    """
    u = 2.0 * layout.frac - 1.0
    shape = _shape(rng, info, u)
    has = np.isfinite(layout.upper)
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


def _build_fail(rng: np.random.Generator, info: ModelInfo, layout: _Layout) -> np.ndarray:
    """A pass-like curve with a few narrow defects through both limits.

    One bump above the upper limit and one below the lower limit: no constant
    offset can bring both back inside.
    """
    errors = _build_pass(rng, info, layout)
    n = errors.size
    candidates = np.flatnonzero(np.isfinite(layout.upper))
    candidates = candidates[(candidates > n // 10) & (candidates < n - n // 10)]
    index = np.arange(n)
    count = int(rng.integers(2, 5))
    spots = rng.choice(candidates, count, replace=False)
    for k, spot in enumerate(spots):
        sign = 1.0 if k == 0 else -1.0 if k == 1 else _sign(rng)
        peak = sign * (1.0 + rng.uniform(0.15, 0.8)) * layout.half[spot]
        width = rng.uniform(1.0, 3.0)
        errors = errors + (peak - errors[spot]) * np.exp(-0.5 * ((index - spot) / width) ** 2)
    return errors


def _build_anomaly(rng: np.random.Generator, info: ModelInfo, layout: _Layout) -> np.ndarray:
    """The 'trimmed' data is a straight tilted line: the trim did not happen."""
    spread = rng.uniform(1.5, 3.0) * max(10.0 * layout.threshold, _ANOMALY_RANGE)
    tilt = _sign(rng) * spread * (layout.frac - 0.5)
    offset = rng.uniform(-0.3, 0.3) * spread
    return offset + tilt + rng.normal(0.0, 0.01 * spread, layout.frac.size)


_BUILDERS = {
    "pass": _build_pass,
    "warning": _build_warning,
    "near_miss": _build_near_miss,
    "fail": _build_fail,
    "anomaly": _build_anomaly,
}
