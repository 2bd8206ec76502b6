"""One sheet judged under its plan: the kernel's (k, c) and everything derived from them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agent.analysis import linearity, rotation
from agent.analysis.policy import Plan
from agent.parsing.layout import SheetData
from shared.errors import NoteCode
from shared.models import Adjustment, Note, StrictFigures


@dataclass(frozen=True)
class Judgement:
    plan: Plan
    k: float
    c: float
    fails: int
    linearity_error: float
    low: np.ndarray
    high: np.ndarray
    constrained: np.ndarray
    judged: np.ndarray
    adjustment: Adjustment

    @property
    def passes(self) -> bool:
        return self.fails == 0

    def margins(
        self, upper: np.ndarray, lower: np.ndarray, fallback_width: float
    ) -> tuple[float, float, float]:
        """(largest violation, mean violation, smallest margin %) at the chosen (c, k)."""
        worst, mean, margin = linearity.band_margins(
            self.low, self.high, self.constrained, upper, lower, self.c, fallback_width
        )
        return float(worst), float(mean), float(margin)

    def notes(self, track_id: str) -> list[Note]:
        unused = [i for i in self.plan.listed if i >= self.judged.size]
        if not unused:
            return []
        return [
            Note(
                code=NoteCode.EXCLUDED_OUT_OF_RANGE,
                message=f"{track_id}: the model spec excludes point(s) "
                f"{', '.join(map(str, unused[:10]))} but the track has {self.judged.size} points.",
            )
        ]


def judge(sheet: SheetData, upper: np.ndarray, lower: np.ndarray, plan: Plan) -> Judgement:
    """The exact verdict of one sheet under the plan's rotation bounds and exclusions."""
    errors = sheet.errors
    theory = sheet.theory_or_zero()
    judged = plan.judged(errors.size)
    k, c, fails = rotation.best_rotation(errors, theory, upper, lower, judged, plan.k_lo, plan.k_hi)
    k, c = float(k), float(c)
    low, high, constrained = linearity.offset_intervals(errors, theory, upper, lower, k, judged)
    return Judgement(
        plan=plan,
        k=k,
        c=c,
        fails=int(fails),
        linearity_error=float(linearity.max_abs_adjusted(errors, theory, k, c, judged)),
        low=low,
        high=high,
        constrained=constrained,
        judged=judged,
        adjustment=plan.adjustment(k, judged),
    )


def strict_figures(sheet: SheetData, upper: np.ndarray, lower: np.ndarray) -> StrictFigures:
    """Offset only, every point: what the first release (and truth.json) would say."""
    errors = sheet.errors
    c = linearity.optimal_offset(errors, upper, lower)
    fails = linearity.count_failures(errors, upper, lower, c)
    return StrictFigures(
        linearity_pass=fails == 0,
        fail_points=fails,
        linearity_error=linearity.max_abs_shifted(errors, c),
    )
