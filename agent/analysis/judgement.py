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
    k, c, fails, low, high, constrained, error = rotation.verdict_arrays(
        errors, theory, upper, lower, judged, plan.k_lo, plan.k_hi
    )
    k = float(k)
    return Judgement(
        plan=plan,
        k=k,
        c=float(c),
        fails=int(fails),
        linearity_error=float(error),
        low=low,
        high=high,
        constrained=constrained,
        judged=judged,
        adjustment=plan.adjustment(k, judged),
    )


@dataclass(frozen=True)
class Strict:
    """The strict rule's figures (reported) and what else the track needs from them."""

    figures: StrictFigures
    raw_fails: int  # no offset at all
    outside: np.ndarray  # which points fail strictly (the station-spec facts count them)


def strict_figures(sheet: SheetData, upper: np.ndarray, lower: np.ndarray) -> Strict:
    """Offset only, every point: what the first release (and truth.json) would say."""
    _, fails, raw, error, mask = linearity.strict_summary(sheet.errors, upper, lower)
    figures = StrictFigures(  # validated: faster than model_construct for three fields
        linearity_pass=int(fails) == 0, fail_points=int(fails), linearity_error=float(error)
    )
    return Strict(figures=figures, raw_fails=int(raw), outside=mask)
