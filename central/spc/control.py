"""Individuals and moving-range (I-MR) charts and the 8 Nelson tests, in Minitab's numbering.

Why these choices (0010 lists them for QA):
- sigma = MR-bar / 1.128 (d2 for ranges of two), the individuals limits are
  centre +/- 3 sigma (the "2.66 MR-bar" of the textbooks, 2.66 = 3 / 1.128),
  and the moving-range chart's upper limit is D4 MR-bar = 3.267 MR-bar, its
  lower limit 0. The centre is the mean. The limits may come from a baseline
  (the first N points, "phase I") or be given, so a chart can be judged
  against last quarter's process instead of against itself.
- Each test marks the point that completes its pattern, as Minitab does: in
  a run of 11 points above the centre line, test 2 marks points 9, 10 and 11
  of the run. "More than k sigma" and "within 1 sigma" are strict, so a
  point exactly on a zone line is neither beyond nor within it, and a point
  exactly on the centre line is on neither side (it ends a test-2 run). Equal
  consecutive values are neither up nor down (they end a test-3 or test-4 run).
- Tests 5 and 6 ("2 of 3", "4 of 5", same side) mark a point only when that
  point is itself beyond the zone line: the earlier point that completed the
  count was already marked. At the start of the series the window is simply
  shorter (the first two points both beyond 2 sigma fail test 5 at point 2).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from central.spc.errors import SpcErrorCode, SpcInputError
from central.spc.series import (
    ArrayLike,
    FloatArray,
    Unavailable,
    as_series,
    frozen,
    negligible,
    too_few,
    zero_spread,
)

D2 = 1.128  # E[moving range of two] / sigma
D4 = 3.267  # upper limit of the moving-range chart, in units of MR-bar
LIMIT_SIGMAS = 3.0
MIN_POINTS = 10  # fewer values than this: no limits are estimated from the data itself

ALL_TESTS: frozenset[int] = frozenset(range(1, 9))
TEST_DESCRIPTIONS: Mapping[int, str] = MappingProxyType(
    {
        1: "1 point more than 3 sigma from the centre line",
        2: "9 points in a row on the same side of the centre line",
        3: "6 points in a row, all increasing or all decreasing",
        4: "14 points in a row, alternating up and down",
        5: "2 out of 3 points more than 2 sigma from the centre line (same side)",
        6: "4 out of 5 points more than 1 sigma from the centre line (same side)",
        7: "15 points in a row within 1 sigma of the centre line (either side)",
        8: "8 points in a row more than 1 sigma from the centre line (either side)",
    }
)

BoolArray = npt.NDArray[np.bool_]


def select_tests(numbers: Iterable[int]) -> frozenset[int]:
    """Validate a selection of test numbers (from a URL, a form, a setting)."""
    chosen = frozenset(int(n) for n in numbers)
    unknown = sorted(chosen - ALL_TESTS)
    if unknown:
        raise SpcInputError(
            SpcErrorCode.BAD_PARAMETER,
            f"unknown Nelson test number(s) {unknown}: the tests are numbered 1 to 8",
        )
    return chosen


@dataclass(frozen=True)
class Limits:
    """Individuals chart: centre line, sigma and the 3-sigma control limits."""

    centre: float
    sigma: float

    @property
    def ucl(self) -> float:
        return self.centre + LIMIT_SIGMAS * self.sigma

    @property
    def lcl(self) -> float:
        return self.centre - LIMIT_SIGMAS * self.sigma

    def zone(self, sigmas: float) -> tuple[float, float]:
        """The lines at centre -/+ `sigmas` sigma (1 and 2 bound the Nelson zones)."""
        return self.centre - sigmas * self.sigma, self.centre + sigmas * self.sigma


@dataclass(frozen=True)
class MovingRangeLimits:
    """Moving-range chart: MR-bar and D4 MR-bar (the lower limit of ranges of two is 0)."""

    centre: float
    ucl: float
    lcl: float = 0.0


@dataclass(frozen=True)
class Violations:
    """Which points fail which of the tests that were run."""

    tests: frozenset[int]
    points: Mapping[int, tuple[int, ...]]  # test number -> indices of failing points
    by_point: Mapping[int, tuple[int, ...]] = field(init=False)  # index -> test numbers

    def __post_init__(self) -> None:
        index: dict[int, list[int]] = {}
        for test in sorted(self.points):
            for point in self.points[test]:
                index.setdefault(point, []).append(test)
        object.__setattr__(
            self, "by_point", MappingProxyType({p: tuple(t) for p, t in sorted(index.items())})
        )

    def at(self, point: int) -> tuple[int, ...]:
        """The tests point `point` fails, lowest first (Minitab labels a point by the lowest)."""
        return self.by_point.get(point, ())

    def __bool__(self) -> bool:
        return bool(self.by_point)


@dataclass(frozen=True)
class IndividualsChart:
    """An I-MR chart ready to draw: values, both charts' limits, every violation.

    `moving_ranges[j]` is |x[j+1] - x[j]| and is drawn at point j + 1;
    `mr_violations` are those point indices whose moving range exceeds the
    moving-range chart's upper limit (its test 1).
    """

    values: FloatArray
    limits: Limits
    moving_ranges: FloatArray
    mr_limits: MovingRangeLimits
    violations: Violations
    mr_violations: tuple[int, ...]
    baseline_points: int  # how many leading values the limits were estimated from; 0 if given


def estimate_limits(values: ArrayLike) -> Limits | Unavailable:
    """Centre = mean, sigma = MR-bar / 1.128, from values in time order."""
    x = as_series(values)
    if x.size < MIN_POINTS:
        return too_few("control limits", MIN_POINTS, int(x.size))
    sigma = float(np.mean(np.abs(np.diff(x)))) / D2
    if negligible(sigma, float(np.max(np.abs(x)))):
        return zero_spread("a control chart's sigma")
    return Limits(centre=float(np.mean(x)), sigma=sigma)


def moving_range_limits(limits: Limits) -> MovingRangeLimits:
    """The moving-range chart implied by a sigma: MR-bar = 1.128 sigma, UCL = 3.267 MR-bar."""
    mr_bar = D2 * limits.sigma
    return MovingRangeLimits(centre=mr_bar, ucl=D4 * mr_bar)


def imr_chart(
    values: ArrayLike,
    *,
    tests: Iterable[int] = ALL_TESTS,
    baseline: int | None = None,
    limits: Limits | None = None,
) -> IndividualsChart | Unavailable:
    """The I-MR chart of `values` with the selected Nelson tests marked.

    Limits come from `limits` if given, else from the first `baseline`
    values, else from all of them. The tests always run over every value.
    """
    x = as_series(values)
    selected = select_tests(tests)
    used = 0
    if limits is None:
        used = x.size if baseline is None else baseline
        if baseline is not None and not 0 < baseline <= x.size:
            raise SpcInputError(
                SpcErrorCode.BAD_PARAMETER,
                f"baseline must be between 1 and the {x.size} values, got {baseline}",
            )
        estimated = estimate_limits(x[:used])
        if isinstance(estimated, Unavailable):
            return estimated
        limits = estimated
    _check_limits(limits)
    mr_limits = moving_range_limits(limits)
    moving = frozen(np.abs(np.diff(x)))
    return IndividualsChart(
        values=x,
        limits=limits,
        moving_ranges=moving,
        mr_limits=mr_limits,
        violations=nelson_tests(x, limits, tests=selected),
        mr_violations=tuple(int(j) + 1 for j in np.flatnonzero(moving > mr_limits.ucl)),
        baseline_points=used,
    )


def _check_limits(limits: Limits) -> None:
    if not (np.isfinite(limits.centre) and np.isfinite(limits.sigma) and limits.sigma > 0):
        raise SpcInputError(
            SpcErrorCode.BAD_PARAMETER,
            f"control limits need a finite centre and a sigma > 0, got {limits}",
        )


def run_lengths(mask: BoolArray) -> npt.NDArray[np.intp]:
    """For each index, how many consecutive True values end there (0 where False)."""
    index = np.arange(mask.size)
    last_false = np.maximum.accumulate(np.where(mask, -1, index))
    return index - last_false


def window_counts(mask: BoolArray, width: int) -> npt.NDArray[np.intp]:
    """For each index, how many True values among the last `width` (fewer at the start)."""
    total = np.cumsum(mask, dtype=np.intp)
    counts = total.copy()
    counts[width:] -= total[:-width]
    return counts


def _runs(mask: BoolArray, length: int) -> BoolArray:
    return run_lengths(mask) >= length


def _k_of_window(beyond: BoolArray, k: int, width: int) -> BoolArray:
    return beyond & (window_counts(beyond, width) >= k)


def _test_1(z: FloatArray, x: FloatArray) -> BoolArray:
    return np.abs(z) > 3.0


def _test_2(z: FloatArray, x: FloatArray) -> BoolArray:
    return _runs(z > 0, 9) | _runs(z < 0, 9)


def _steps(x: FloatArray) -> FloatArray:
    return np.sign(np.diff(x))


def _test_3(z: FloatArray, x: FloatArray) -> BoolArray:
    # 6 points = 5 steps in one direction; the step j -> j+1 is completed at point j+1.
    if x.size < 2:
        return np.zeros(x.size, dtype=np.bool_)
    step = _steps(x)
    trend = _runs(step > 0, 5) | _runs(step < 0, 5)
    return np.concatenate(([False], trend))


def _test_4(z: FloatArray, x: FloatArray) -> BoolArray:
    # 14 points = 13 steps with 12 consecutive sign changes; the change between
    # steps m and m+1 is completed at point m+2.
    step = _steps(x)
    if step.size < 2:
        return np.zeros(x.size, dtype=np.bool_)
    flips = step[1:] * step[:-1] < 0
    return np.concatenate(([False, False], _runs(flips, 12)))


def _test_5(z: FloatArray, x: FloatArray) -> BoolArray:
    return _k_of_window(z > 2.0, 2, 3) | _k_of_window(z < -2.0, 2, 3)


def _test_6(z: FloatArray, x: FloatArray) -> BoolArray:
    return _k_of_window(z > 1.0, 4, 5) | _k_of_window(z < -1.0, 4, 5)


def _test_7(z: FloatArray, x: FloatArray) -> BoolArray:
    return _runs(np.abs(z) < 1.0, 15)


def _test_8(z: FloatArray, x: FloatArray) -> BoolArray:
    return _runs(np.abs(z) > 1.0, 8)


_TESTS = {1: _test_1, 2: _test_2, 3: _test_3, 4: _test_4, 5: _test_5, 6: _test_6}
_TESTS |= {7: _test_7, 8: _test_8}


def nelson_tests(
    values: ArrayLike, limits: Limits, *, tests: Iterable[int] = ALL_TESTS
) -> Violations:
    """Run the selected tests against `limits`; vectorised, so 100,000 points take milliseconds."""
    x = as_series(values)
    _check_limits(limits)
    selected = select_tests(tests)
    z = (x - limits.centre) / limits.sigma
    points = {
        test: tuple(int(i) for i in np.flatnonzero(_TESTS[test](z, x))) for test in sorted(selected)
    }
    return Violations(tests=selected, points=MappingProxyType(points))
