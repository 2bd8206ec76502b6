"""Control charts (individuals and moving range, with Nelson test violations) and the
drift charts (CUSUM, EWMA) of the model page.

The statistics come computed (central/spc); this module only draws them. It reads
them through the small protocols below, so the chart package needs nothing from
central and the model page passes its frozen results as they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Protocol

import numpy as np
from markupsafe import Markup

from shared.charts import axes, svg
from shared.charts.axes import (
    DOT,
    HEIGHT,
    LEGEND_LINE,
    MAX_DOTS,
    PAD_BOTTOM,
    PAD_TOP,
    WIDTH,
    Y_TICKS,
    Mark,
    RefLine,
)
from shared.charts.numbers import format_number
from shared.charts.palette import INK, LIMIT, LINE, SECOND_LINE, VIOLATION
from shared.charts.paths import dots_path, series_path
from shared.charts.scale import FloatArray, ticks_and_step
from shared.charts.svg import SMALL_FONT, coord

X_TITLE = "unit, in production order"


class _Limits(Protocol):
    @property
    def centre(self) -> float: ...
    @property
    def ucl(self) -> float: ...
    @property
    def lcl(self) -> float: ...


class _Violations(Protocol):
    @property
    def by_point(self) -> Mapping[int, tuple[int, ...]]: ...


class IndividualsChart(Protocol):
    """What an I-MR chart draws (central.spc.control.IndividualsChart)."""

    @property
    def values(self) -> FloatArray: ...
    @property
    def limits(self) -> _Limits: ...
    @property
    def moving_ranges(self) -> FloatArray: ...
    @property
    def mr_limits(self) -> _Limits: ...
    @property
    def violations(self) -> _Violations: ...
    @property
    def mr_violations(self) -> tuple[int, ...]: ...


class _Baseline(Protocol):
    @property
    def mean(self) -> float: ...


class _Detector(Protocol):
    """What the CUSUM and EWMA results share: the baseline and the alarms."""

    @property
    def baseline(self) -> _Baseline: ...
    @property
    def alarms_up(self) -> tuple[int, ...]: ...
    @property
    def alarms_down(self) -> tuple[int, ...]: ...
    @property
    def first_alarm(self) -> tuple[int, object] | None: ...


class Cusum(_Detector, Protocol):
    """What a CUSUM chart draws (central.spc.drift.Cusum)."""

    @property
    def upper(self) -> FloatArray: ...
    @property
    def lower(self) -> FloatArray: ...
    @property
    def decision_interval(self) -> float: ...


class Ewma(_Detector, Protocol):
    """What an EWMA chart draws (central.spc.drift.Ewma)."""

    @property
    def lam(self) -> float: ...
    @property
    def statistic(self) -> FloatArray: ...
    @property
    def ucl(self) -> FloatArray: ...
    @property
    def lcl(self) -> FloatArray: ...


#: The Nelson tests in a few words, for tooltips (the legend has the caller's descriptions).
SHORT_TEST_NAMES: Mapping[int, str] = MappingProxyType(
    {
        1: "beyond 3 sigma",
        2: "9 on one side",
        3: "6 rising or falling",
        4: "14 alternating",
        5: "2 of 3 beyond 2 sigma",
        6: "4 of 5 beyond 1 sigma",
        7: "15 within 1 sigma",
        8: "8 beyond 1 sigma",
    }
)


def _violation_legend(
    tests: Sequence[int], descriptions: Mapping[int, str], frame: axes.Frame
) -> list[str]:
    parts = []
    y = frame.bottom + PAD_BOTTOM
    for test in tests:
        parts.append(
            f'<g class="c-legend-test" data-test="{test}">'
            f'<circle cx="{coord(frame.left + 6)}" cy="{coord(y - 4)}" r="4.5" fill="{VIOLATION}" '
            f'fill-opacity="0.25" stroke="{VIOLATION}"/>'
            + svg.text(
                frame.left + 16,
                y,
                f"Test {test}: {descriptions.get(test, '')}",
                size=SMALL_FONT,
                colour=INK,
            )
            + "</g>"
        )
        y += LEGEND_LINE
    return parts


def control_chart(
    chart_id: str,
    title: str,
    values: Sequence[float] | FloatArray,
    *,
    centre: float,
    ucl: float,
    lcl: float | None,
    violations: Mapping[int, Sequence[int]] | None = None,
    descriptions: Mapping[int, str],
    short_names: Mapping[int, str] = SHORT_TEST_NAMES,
    point_labels: Sequence[str] | None = None,
    point_links: Sequence[str] | None = None,
    x_labels: Sequence[str] | None = None,
    y_label: str = "",
    extra_refs: Sequence[RefLine] = (),
    width: int = WIDTH,
    height: int = HEIGHT,
    value_name: str = "value",
    x_title: str = X_TITLE,
    floor: float | None = None,
) -> Markup:
    """A control chart: the points in production order, centre line, UCL/LCL, violations.

    floor: the least value the quantity can take (0 for a sigma gradient or a linearity
    error's magnitude). A 3-sigma LCL below it is drawn at it and labelled as clamped:
    a limit no unit can cross is not a limit, and a negative one reads as if units could.

    violations: point index -> the test numbers it fails (lowest first). Each
    such point is circled, labelled with its lowest test, and its tooltip
    names the unit (`point_labels[i]`), its value and every test it fails
    (`short_names`); a legend under the plot explains the tests that occur
    (`descriptions`). `point_links[i]` makes a marked point a link.
    """
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return svg.message_chart(chart_id, title, "No units in this selection.", width=width)
    failed = dict(sorted((violations or {}).items()))
    tests_present = sorted({t for tests in failed.values() for t in tests})
    clamped = lcl is not None and floor is not None and lcl < floor
    if clamped:
        lcl = floor
    refs = [
        RefLine(centre, "CL", "centre"),
        RefLine(ucl, "UCL", "limit"),
        *(
            [RefLine(lcl, "LCL clamped at" if clamped else "LCL", "limit")]
            if lcl is not None
            else []
        ),
        *extra_refs,
    ]
    low, high = axes.y_range(x, [r.value for r in refs])
    ticks, step = ticks_and_step(low, high, Y_TICKS)
    total_height = height + LEGEND_LINE * len(tests_present)
    frame = axes.Frame(
        width,
        total_height,
        axes.left_margin(ticks, step),
        PAD_BOTTOM + LEGEND_LINE * len(tests_present),
        (-0.5, x.size - 0.5),
        (low, high),
    )
    body = [*axes.y_axis(frame, ticks, step, y_label), axes.frame_box(frame)]
    body += axes.x_axis_index(frame, x.size, x_labels, x_title)
    body += axes.ref_lines(frame, refs)
    xs = frame.xs(np.arange(x.size, dtype=np.float64))
    ys = frame.ys(x)
    body.append(axes.line(series_path(xs, ys), LINE, width=1.0))
    if x.size <= MAX_DOTS:
        body.append(axes.dot_path(dots_path(xs, ys), LINE))
    marks = []
    for index, tests in failed.items():
        unit = point_labels[index] if point_labels is not None and index < len(point_labels) else ""
        named = ", ".join(f"test {t} ({short_names.get(t, '')})" for t in tests)
        head = f"Unit {index + 1}" + (f" ({unit})" if unit else "")
        tooltip = f"{head}: {value_name} {format_number(float(x[index]), 4)}. Fails {named}"
        link = point_links[index] if point_links is not None and index < len(point_links) else ""
        marks.append(Mark(index, tooltip, str(tests[0]), link))
    body += axes.marks(frame, x, marks)
    body += _violation_legend(tests_present, descriptions, frame)
    out_of_control = len(failed)
    desc = (
        f"{x.size} units; centre {format_number(centre, 4)}, UCL {format_number(ucl, 4)}"
        + (f", LCL {format_number(lcl, 4)}" if lcl is not None else "")
        + (
            f" (the 3-sigma limit is below {format_number(floor, 4)}, which a {value_name} "
            "cannot go below: clamped)"
            if clamped
            else ""
        )
        + f"; {out_of_control} point(s) fail a selected test"
        + (f" (tests {', '.join(map(str, tests_present))})." if tests_present else ".")
    )
    return svg.document(chart_id, title, desc, width, total_height, body, "control")


def imr_charts(
    chart_id: str,
    title: str,
    chart: IndividualsChart,
    *,
    descriptions: Mapping[int, str],
    point_labels: Sequence[str] | None = None,
    point_links: Sequence[str] | None = None,
    x_labels: Sequence[str] | None = None,
    y_label: str = "",
    value_name: str = "value",
    extra_refs: Sequence[RefLine] = (),
    x_title: str = X_TITLE,
    floor: float | None = None,
) -> tuple[Markup, Markup]:
    """The individuals chart and the moving-range chart of one `spc.control.imr_chart`.

    The moving range of points j and j+1 is drawn at point j+1 (the first
    point has none); a range above the MR chart's UCL fails its test 1. `floor`
    clamps the individuals chart's LCL (control_chart); a range is never negative
    and its chart has no lower limit to clamp.
    """
    individuals = control_chart(
        f"{chart_id}-i",
        f"{title}: individuals",
        chart.values,
        centre=chart.limits.centre,
        ucl=chart.limits.ucl,
        lcl=chart.limits.lcl,
        violations=chart.violations.by_point,
        descriptions=descriptions,
        point_labels=point_labels,
        point_links=point_links,
        x_labels=x_labels,
        y_label=y_label,
        value_name=value_name,
        extra_refs=extra_refs,
        x_title=x_title,
        floor=floor,
    )
    ranges = np.concatenate(([np.nan], chart.moving_ranges))
    mr = control_chart(
        f"{chart_id}-mr",
        f"{title}: moving range",
        ranges,
        centre=chart.mr_limits.centre,
        ucl=chart.mr_limits.ucl,
        lcl=None,
        violations={i: (1,) for i in chart.mr_violations},
        descriptions={1: "moving range above the MR chart's upper control limit"},
        short_names={1: "above the MR chart's limit"},
        point_labels=point_labels,
        point_links=point_links,
        x_labels=x_labels,
        y_label=f"moving range {y_label}".strip(),
        value_name="moving range",
        height=190,
        x_title=x_title,
    )
    return individuals, mr


def _first_alarm_mark(
    first: tuple[int, object] | None, point_labels: Sequence[str] | None, what: str
) -> list[Mark]:
    if first is None:
        return []
    index, direction = first
    unit = point_labels[index] if point_labels is not None and index < len(point_labels) else ""
    tooltip = f"First {what} alarm ({direction}) at unit {index + 1}" + (
        f" ({unit})" if unit else ""
    )
    return [Mark(index, tooltip, "!")]


def _alarm_dots(frame: axes.Frame, values: FloatArray, indices: Sequence[int]) -> str:
    if not indices:
        return ""
    picked = np.asarray(indices, dtype=np.intp)
    return axes.dot_path(
        dots_path(frame.xs(picked.astype(np.float64)), frame.ys(values[picked])),
        VIOLATION,
        size=DOT + 1.2,
        cls="c-alarm",
    )


def _drift_frame(
    size: tuple[int, int], count: int, y_range: tuple[float, float], ref: list[RefLine]
) -> tuple[axes.Frame, list[str], FloatArray]:
    """A drift chart's frame, axes and reference lines over `count` units in order, and
    the units' x coordinates: CUSUM and EWMA are drawn on the same small frame."""
    ticks, step = ticks_and_step(*y_range, 4)
    width, height = size
    left = axes.left_margin(ticks, step)
    frame = axes.Frame(width, height, left, PAD_BOTTOM, (-0.5, count - 0.5), y_range)
    body = [*axes.y_axis(frame, ticks, step, ""), axes.frame_box(frame)]
    body += axes.x_axis_index(frame, count, None, "unit")
    body += axes.ref_lines(frame, ref)
    return frame, body, frame.xs(np.arange(count, dtype=np.float64))


def cusum_chart(
    chart_id: str,
    title: str,
    cusum: Cusum,
    *,
    point_labels: Sequence[str] | None = None,
    width: int = 470,
    height: int = 200,
) -> Markup:
    """C+ above zero and C- mirrored below it, against the decision interval +/-H."""
    upper = np.asarray(cusum.upper)
    lower = -np.asarray(cusum.lower)
    h = cusum.decision_interval
    y_range = axes.y_range(np.concatenate([upper, lower]), [h, -h, 0.0])
    refs = [RefLine(h, "H", "limit"), RefLine(-h, "-H", "limit")]
    frame, body, xs = _drift_frame((width, height), upper.size, y_range, refs)
    body.append(axes.line(series_path(xs, frame.ys(upper)), LINE, extra=' data-series="C+"'))
    body.append(axes.line(series_path(xs, frame.ys(lower)), SECOND_LINE, extra=' data-series="C-"'))
    body.append(_alarm_dots(frame, upper, cusum.alarms_up))
    body.append(_alarm_dots(frame, lower, cusum.alarms_down))
    mark_values = upper if cusum.first_alarm and cusum.first_alarm[1] == "up" else lower
    body += axes.marks(
        frame, mark_values, _first_alarm_mark(cusum.first_alarm, point_labels, "CUSUM")
    )
    body += axes.legend(
        [(LINE, "C+ (up)"), (SECOND_LINE, "C- (down)")], frame.left + 6, PAD_TOP + 14
    )
    desc = (
        f"CUSUM of {upper.size} units against baseline mean "
        f"{format_number(cusum.baseline.mean, 4)}, H = {format_number(h, 3)}; "
        f"{len(cusum.alarms_up)} point(s) in alarm upwards, {len(cusum.alarms_down)} downwards."
    )
    return svg.document(chart_id, title, desc, width, height, body, "cusum")


def ewma_chart(
    chart_id: str,
    title: str,
    ewma: Ewma,
    *,
    point_labels: Sequence[str] | None = None,
    width: int = 470,
    height: int = 200,
    floor: float | None = None,
) -> Markup:
    """The EWMA statistic with its exact time-varying limits around the baseline mean.

    floor: the least value the quantity can take; a lower limit below it is drawn at it
    (the description says so), as on the control charts.
    """
    z = np.asarray(ewma.statistic)
    ucl, lcl = np.asarray(ewma.ucl), np.asarray(ewma.lcl)
    clamped = floor is not None and bool(np.any(lcl < floor))
    if floor is not None:
        lcl = np.maximum(lcl, floor)
    y_range = axes.y_range(np.concatenate([z, ucl, lcl]), [ewma.baseline.mean])
    refs = [RefLine(ewma.baseline.mean, "mean", "centre")]
    frame, body, xs = _drift_frame((width, height), z.size, y_range, refs)
    dash = ' stroke-dasharray="6 4"'
    body.append(axes.line(series_path(xs, frame.ys(ucl)), LIMIT, cls="c-limit", extra=dash))
    body.append(axes.line(series_path(xs, frame.ys(lcl)), LIMIT, cls="c-limit", extra=dash))
    body.append(axes.line(series_path(xs, frame.ys(z)), LINE, extra=' data-series="EWMA"'))
    body.append(_alarm_dots(frame, z, (*ewma.alarms_up, *ewma.alarms_down)))
    body += axes.marks(frame, z, _first_alarm_mark(ewma.first_alarm, point_labels, "EWMA"))
    desc = (
        f"EWMA (lambda {format_number(ewma.lam, 2)}) of {z.size} units around "
        f"{format_number(ewma.baseline.mean, 4)}; "
        f"{len(ewma.alarms_up) + len(ewma.alarms_down)} point(s) outside the limits."
        + (f" The lower limit is clamped at {format_number(floor, 4)}." if clamped else "")
    )
    return svg.document(chart_id, title, desc, width, height, body, "ewma")
