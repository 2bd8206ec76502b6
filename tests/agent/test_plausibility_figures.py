"""The one-pass plausibility kernel against the numpy expressions it replaced."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from agent.analysis.shape import plausibility_figures

WIDE = 1.0
VALUES = st.one_of(
    st.floats(-200.0, 200.0),
    st.sampled_from([0.0, -0.0, math.nan, math.inf, -math.inf, 1.0, -1.0, 1.5e4]),
)


def _reference(
    positions: np.ndarray, errors: np.ndarray, upper: np.ndarray, lower: np.ndarray
) -> tuple[float, bool, float, float, float, int, int, int]:
    """The figures as numpy states them (what agent/parsing/sanity.py computed before)."""
    n = positions.size

    def top(limits: np.ndarray) -> float:
        present = np.abs(limits[np.isfinite(limits)])
        return float(present.max()) if present.size else -1.0

    return (
        float(np.abs(errors).max()) if n else 0.0,
        bool(errors.any()),
        top(upper),
        top(lower),
        float(np.abs(positions).max()) if n else 0.0,
        int((np.diff(positions) <= 0).sum()),
        int((np.abs(upper) > WIDE).sum() + (np.abs(lower) > WIDE).sum()),
        int((upper < lower).sum()),
    )


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 40).flatmap(lambda n: st.tuples(*(arrays(np.float64, n, elements=VALUES),) * 4))
)
def test_the_kernel_gives_numpys_figures(columns: tuple[np.ndarray, ...]) -> None:
    positions, errors, upper, lower = columns
    got = plausibility_figures(positions, errors, upper, lower, WIDE)
    with np.errstate(invalid="ignore"):  # inf - inf steps: numpy warns, both say NaN
        want = _reference(positions, errors, upper, lower)
    assert all(_same(float(g), float(w)) for g, w in zip(got, want, strict=True)), (got, want)
