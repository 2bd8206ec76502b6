"""The station's own rules for seeded units: angle window, ignored rows, and the verdict.

A real station file carries the rules its program judges by (DOMAIN.md
"Verdict policies"): an electrical-angle window that lets the theory line
rotate, and ignored rows at each end. A seeded fleet without them judges
every unit strictly, so its spec-aware and strict pass rates are the same
and the /quality page has no rescues to show. This module gives each seeded
model the rules a real station's files have (drawn from the distribution of
window states and ignored rows in ../shared/real-samples/spec_truth.json and
DOMAIN.md), shapes a strictly failing curve the way the real failures look
(a noisy patch no adjustment fixes, a tilt the window allows, end rows far
outside that the station ignores, or tilt and end rows together), and judges
the stored arrays with the agent's own kernels (agent/analysis/judgement.py,
whose rotation search is agent/analysis/rotation.py) so the `adjustment`
and `strict` blocks are exactly what a station would report for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from agent.analysis.judgement import Judgement, Strict, judge, strict_figures
from agent.analysis.policy import Plan, station_plan
from agent.analysis.station_spec import fails_at_ends
from agent.parsing.layout import SheetData

FloatArray = npt.NDArray[np.float64]
Kind = Literal["noisy", "tilt", "ends", "tilt_ends"]

# Window states of System A tracks on the 795 real tracks (DOMAIN.md, less the 69 `none`,
# nearly all System B): ok 501, wide 24, zero_width 107, nominal_outside 69, off 25.
A_WINDOWS = ("ok", "wide", "zero_width", "nominal_outside", "zero_width_nominal_off")
A_WINDOW_WEIGHTS = (501, 24, 107, 69, 25)
B_WINDOW_OK_SHARE = 3 / 69  # 66 of the 69 System B files have no window
# Ignored rows (start, end) on the 96 tracks of spec_truth.json, per system.
A_IGNORED = ((1, 1), (2, 1), (4, 2), (3, 3), (5, 5), (2, 2), (1, 5), (1, 2))
A_IGNORED_WEIGHTS = (47, 11, 10, 2, 1, 1, 1, 1)
B_IGNORED = ((1, 1), (1, 2), (6, 6))
B_IGNORED_WEIGHTS = (13, 8, 1)
NO_LIMIT = 1e9  # the "no maximum" a wide window writes
THEORY_VOLTS = 10.0  # the theory column runs 0 to ~10 V on every real file
# Of strictly failing units, how they fail, when the window allows a rotation and when
# not: on the 96 real tracks 40 fail strictly, 8 pass with rotation, 8 more with the
# ignored rows too, 24 fail whatever the station allows.
KINDS: tuple[Kind, ...] = ("noisy", "tilt", "ends", "tilt_ends")
KIND_WEIGHTS_ROTATING = (0.30, 0.45, 0.17, 0.08)
KIND_WEIGHTS_FIXED = (0.70, 0.0, 0.30, 0.0)
STRICT_FAIL_BOOST = 1 / 0.6  # strict failures per station failure, so the station's rate holds


@dataclass(frozen=True)
class StationRules:
    """One model's rules as its station's files state them (fixed per model)."""

    window_state: str  # as drawn; the verdict recomputes it from the numbers
    window: tuple[float, float] | None  # relative to the nominal angle
    ignored: tuple[int, int]
    jitter: float  # relative spread of the per-unit nominal angle (System A: B8 per sheet)

    def window_for(self, travel: float) -> tuple[float, float] | None:
        """The window's cells for a model of this nominal travel (fixed for the model)."""
        if self.window is None:
            return None
        low, high = self.window
        return travel * low, (high if high >= NO_LIMIT else travel * high)


def _pick(rng: np.random.Generator, weights: tuple[float, ...]) -> int:
    shares = np.asarray(weights, dtype=np.float64)
    return int(rng.choice(shares.size, p=shares / shares.sum()))


def draw_rules(rng: np.random.Generator, system: Literal["A", "B"]) -> StationRules:
    """A model's window and ignored rows, in the proportions real files have them."""
    if system == "A":
        state = A_WINDOWS[_pick(rng, A_WINDOW_WEIGHTS)]
        ignored_weights = np.array(A_IGNORED_WEIGHTS, dtype=np.float64)
        ignored = A_IGNORED[
            int(rng.choice(len(A_IGNORED), p=ignored_weights / ignored_weights.sum()))
        ]
    else:
        state = "ok" if rng.random() < B_WINDOW_OK_SHARE else "none"
        ignored_weights = np.array(B_IGNORED_WEIGHTS, dtype=np.float64)
        ignored = B_IGNORED[
            int(rng.choice(len(B_IGNORED), p=ignored_weights / ignored_weights.sum()))
        ]
    window: tuple[float, float] | None
    jitter = 0.002 if system == "A" else 0.0
    if state == "ok":  # e.g. [335, 345] around 340, [41, 42] around 41.7
        window = (1 - float(rng.uniform(0.003, 0.02)), 1 + float(rng.uniform(0.003, 0.02)))
    elif state == "wide":  # e.g. [248, 1e9] around 270, [218, 322] around 320
        if rng.random() < 0.5:
            window = (1 - float(rng.uniform(0.08, 0.32)), NO_LIMIT)
        else:
            window = (1 - float(rng.uniform(0.21, 0.32)), 1 + float(rng.uniform(0.005, 0.02)))
    elif state == "zero_width":  # lo = hi = the nominal (e.g. 256, 256, 256)
        window, jitter = (1.0, 1.0), 0.0
    elif state == "zero_width_nominal_off":
        off = 1 + float(rng.choice([-1, 1]) * rng.uniform(0.005, 0.03))
        window = (off, off)
    elif state == "nominal_outside":  # e.g. [92, 96] against 280, [77, 78] against 79.5
        low = float(rng.uniform(0.3, 0.95))
        window = (low, min(low * (1 + float(rng.uniform(0.01, 0.05))), 0.985))
    else:
        window = None
    return StationRules(state, window, (int(ignored[0]), int(ignored[1])), jitter)


def theory_volts(rng: np.random.Generator, u: FloatArray) -> FloatArray:
    """The theory column: 0 to ~10 V along the travel (real files: 9.89 to 10.06 at the end)."""
    return np.asarray(u * THEORY_VOLTS * (1 + float(rng.normal(0.0, 0.002))))


def draw_nominal(rng: np.random.Generator, rules: StationRules, travel: float) -> float:
    """One unit's nominal angle: System A reads it from each sheet's B8, which varies a little."""
    return travel * (1 + float(rng.normal(0.0, rules.jitter))) if rules.jitter else travel


def plan(rules: StationRules, travel: float, nominal: float) -> Plan:
    """The station policy's plan for one unit, as the agent makes it from the file's cells."""
    window = rules.window_for(travel)
    low, high = window if window is not None else (None, None)
    return station_plan(nominal, low, high, rules.ignored[0], rules.ignored[1])


def draw_kind(rng: np.random.Generator, rotates: bool) -> Kind:
    return KINDS[_pick(rng, KIND_WEIGHTS_ROTATING if rotates else KIND_WEIGHTS_FIXED)]


def shape_failure(
    rng: np.random.Generator,
    kind: Kind,
    shifted: FloatArray,
    half: FloatArray,
    constrained: npt.NDArray[np.bool_],
    theory: FloatArray,
    the_plan: Plan,
) -> tuple[FloatArray, float]:
    """(curve inside the band at rotation k, k) for a strictly failing unit of this kind.

    `shifted` passes strictly. The station errors are then `curve - theory*k - offset`,
    so rotating by k (and shifting) brings the curve back inside the band.
    """
    curve = shifted.copy()
    n = curve.size
    k = 0.0
    if kind in ("tilt", "tilt_ends") and the_plan.k_hi > the_plan.k_lo:
        # A tilt over the travel wider than the band (so no offset passes it) that the
        # window's rotation takes back: |k| * 10 V beyond twice the half band.
        base = float(np.max(np.abs(shifted[constrained]) / half[constrained]))
        amplitude = float(np.median(half)) * (2 * (1 + base) + float(rng.uniform(0.2, 1.5)))
        wanted = amplitude / THEORY_VOLTS
        room_up, room_down = the_plan.k_hi, -the_plan.k_lo
        sign = 1.0 if room_up >= room_down else -1.0
        k = sign * min(wanted, 0.95 * max(room_up, room_down))
    if kind in ("ends", "tilt_ends"):
        start, end = the_plan.excluded_start, the_plan.excluded_end
        rows = [*range(min(start, n)), *range(max(n - end, 0), n)]
        rows = [i for i in rows if constrained[i]]
        if rows:  # one to all of the ignored rows far outside (2-3.5 half bands)
            chosen = rng.choice(rows, size=int(rng.integers(1, len(rows) + 1)), replace=False)
            sign = 1.0 if rng.random() < 0.5 else -1.0
            curve[chosen] = sign * half[chosen] * rng.uniform(2.2, 3.5, size=chosen.size)
        else:
            kind = "noisy"
    if kind == "noisy" or (kind == "tilt" and k == 0.0):
        # A short noisy patch: neighbours out on both sides, so neither an offset nor a
        # rotation (which moves neighbours alike) can take it back.
        candidates = np.flatnonzero(constrained & the_plan.judged(n))
        size = int(min(2 + rng.geometric(0.4), max(candidates.size // 4, 2)))
        centre = float(rng.uniform(0.05, 0.95))
        first = int(
            np.clip(round(centre * (candidates.size - 1)) - size // 2, 0, candidates.size - size)
        )
        run = candidates[first : first + size]
        signs = np.where(np.arange(run.size) % 2 == 0, 1.0, -1.0) * rng.choice([-1.0, 1.0])
        curve[run] = signs * half[run] * rng.uniform(1.05, 1.6, size=run.size)
    return curve, k


@dataclass(frozen=True)
class Verdict:
    """The station-policy verdict and the strict figures of one sheet, as the agent reports."""

    judgement: Judgement
    strict: Strict


def judge_sheet(
    x: FloatArray,
    errors: FloatArray,
    upper: FloatArray,
    lower: FloatArray,
    theory: FloatArray,
    the_plan: Plan,
) -> Verdict:
    sheet = SheetData(
        positions=x, errors=errors, upper=upper, lower=lower, resistance=None, theory=theory
    )
    return Verdict(judge(sheet, upper, lower, the_plan), strict_figures(sheet, upper, lower))


def fails_in_ignored(verdict: Verdict, rules: StationRules) -> int | None:
    return fails_at_ends(verdict.strict.outside, rules.ignored[0], rules.ignored[1])
