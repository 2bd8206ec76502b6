"""The dashboard's SVG charts: well-formed, escaped, deterministic, accessible, and drawn
where the numbers say. Each SVG is parsed with the standard library's XML parser, so a
stray '<' or an unclosed element fails here before a browser hides it."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from markupsafe import Markup

from central.spc.control import ALL_TESTS, TEST_DESCRIPTIONS, IndividualsChart, imr_chart
from central.spc.drift import Baseline, Cusum, Ewma, cusum, ewma
from shared.charts import axes as charts_axes
from shared.charts import distribution as charts_distribution
from shared.charts import scale as charts_scale
from shared.charts import series as charts_series
from shared.charts import spc as charts_spc

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script> & "quotes"'


def parse(svg: Markup) -> ET.Element:
    root = ET.fromstring(str(svg))  # noqa: S314 - our own output, not untrusted input
    assert root.tag == f"{SVG}svg"
    return root


def child_attr(element: ET.Element, tag: str, name: str) -> str:
    child = element.find(f"{SVG}{tag}")
    assert child is not None, f"no <{tag}> in {element.attrib}"
    return child.get(name, "")


def find_all(root: ET.Element, tag: str, cls: str | None = None) -> list[ET.Element]:
    found = root.iter(f"{SVG}{tag}")
    return [e for e in found if cls is None or cls in (e.get("class") or "").split()]


def accessible(root: ET.Element, chart_id: str) -> tuple[str, str]:
    """The chart's id, role and aria-labelledby point at its own title and desc."""
    assert root.get("id") == chart_id
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == f"{chart_id}-title {chart_id}-desc"
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None and title.get("id") == f"{chart_id}-title"
    assert desc is not None and desc.get("id") == f"{chart_id}-desc"
    return title.text or "", desc.text or ""


def chart_of(values: np.ndarray, tests: frozenset[int] | set[int] = ALL_TESTS) -> IndividualsChart:
    chart = imr_chart(values, tests=tests)
    assert isinstance(chart, IndividualsChart)
    return chart


def y_of_line(root: ET.Element, kind: str) -> list[float]:
    return [float(e.get("y1", "nan")) for e in find_all(root, "line", f"c-ref-{kind}")]


def path_points(d: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r"[ML](-?[\d.]+) (-?[\d.]+)", d)]


# --------------------------------------------------------------------------- control charts


def shifted_series() -> tuple[np.ndarray, int]:
    """Thirty in-control values and one far above them at index 20."""
    rng = np.random.default_rng(4)
    values = 1.0 + 0.01 * rng.standard_normal(30)
    values[20] = 1.5
    return values, 20


def test_control_chart_circles_a_violation_with_its_tests_in_the_tooltip_and_legend() -> None:
    values, outlier = shifted_series()
    chart = chart_of(values, tests={1, 2, 5})
    assert outlier in chart.violations.by_point
    svg = charts_spc.control_chart(
        "lin-i",
        "Linearity error",
        values,
        centre=chart.limits.centre,
        ucl=chart.limits.ucl,
        lcl=chart.limits.lcl,
        violations=chart.violations.by_point,
        descriptions=TEST_DESCRIPTIONS,
        point_labels=[f"SN{i}" for i in range(values.size)],
        point_links=[f"/units/{i}" for i in range(values.size)],
        value_name="linearity error",
    )
    root = parse(svg)
    title, desc = accessible(root, "lin-i")
    assert title == "Linearity error"
    assert "30 units" in desc

    marks = find_all(root, "g", "c-mark")
    marked = {int(g.get("data-index", "-1")): g for g in marks}
    assert set(marked) == set(chart.violations.by_point)
    tip = marked[outlier].find(f"{SVG}title")
    assert tip is not None and tip.text is not None
    assert tip.text.startswith(f"Unit {outlier + 1} (SN{outlier}): linearity error 1.5")
    assert "Fails test 1 (beyond 3 sigma)" in tip.text
    legend_text = [
        t.text for t in find_all(root, "text") if t.text and t.text.startswith("Test 1:")
    ]
    assert legend_text == [f"Test 1: {TEST_DESCRIPTIONS[1]}"]
    label = marked[outlier].find(f"{SVG}text")
    assert label is not None and label.text == "1"  # the lowest failed test, as Minitab labels

    links = [a.get("href") for a in root.iter(f"{SVG}a")]
    assert f"/units/{outlier}" in links

    # The circle sits above the UCL line (smaller y in SVG), the UCL above the centre.
    circle = marked[outlier].find(f"{SVG}circle")
    assert circle is not None
    (ucl_y,), (centre_y,) = y_of_line(root, "limit")[:1], y_of_line(root, "centre")
    assert float(circle.get("cy", "nan")) < ucl_y < centre_y

    legend = {int(g.get("data-test", "0")) for g in find_all(root, "g", "c-legend-test")}
    failed_tests = {t for ts in chart.violations.by_point.values() for t in ts}
    assert legend == failed_tests and 1 in legend


def test_a_chart_without_violations_has_no_marks_and_no_legend() -> None:
    values = np.array([1.0, 1.2, 0.9, 1.1, 1.0, 0.95, 1.05, 1.0, 1.1, 0.9, 1.0, 1.02])
    chart = chart_of(values, tests={1})
    assert not chart.violations
    individuals, moving = charts_spc.imr_charts("x", "X", chart, descriptions=TEST_DESCRIPTIONS)
    for svg in (individuals, moving):
        root = parse(svg)
        assert not find_all(root, "g", "c-mark")
        assert not find_all(root, "g", "c-legend-test")
    assert "0 point(s) fail" in str(individuals)


def test_imr_charts_draw_moving_ranges_from_the_second_point_and_mark_their_test_1() -> None:
    values = np.array([1.0, 1.01, 0.99, 1.0, 1.02, 0.98, 1.0, 1.01, 0.99, 1.0, 1.6, 1.0])
    chart = chart_of(values)
    _, moving = charts_spc.imr_charts("lin", "Linearity", chart, descriptions=TEST_DESCRIPTIONS)
    root = parse(moving)
    accessible(root, "lin-mr")
    marked = {int(g.get("data-index", "-1")) for g in find_all(root, "g", "c-mark")}
    assert marked == set(chart.mr_violations)
    assert marked == {10, 11}  # the jump up and the jump back
    line = find_all(root, "path", "c-line")[0]
    assert len(path_points(line.get("d", ""))) == values.size - 1  # no range at point 0


def test_tooltips_and_titles_are_escaped() -> None:
    values, _ = shifted_series()
    chart = chart_of(values)
    svg = charts_spc.control_chart(
        HOSTILE,
        HOSTILE,
        values,
        centre=chart.limits.centre,
        ucl=chart.limits.ucl,
        lcl=chart.limits.lcl,
        violations=chart.violations.by_point,
        descriptions=TEST_DESCRIPTIONS,
        point_labels=[HOSTILE] * values.size,
        y_label=HOSTILE,
    )
    text = str(svg)
    assert "<script>" not in text
    assert "&lt;script&gt;" in text
    root = parse(svg)  # still well-formed XML
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == HOSTILE  # the reader sees the text as written


def test_output_is_deterministic() -> None:
    values, _ = shifted_series()
    first = charts_spc.imr_charts(
        "a", "A", chart_of(values), descriptions=TEST_DESCRIPTIONS, point_labels=["u"] * 30
    )
    again = charts_spc.imr_charts(
        "a", "A", chart_of(values), descriptions=TEST_DESCRIPTIONS, point_labels=["u"] * 30
    )
    assert first == again
    boxes = [
        charts_distribution.Box(
            "s", 50, 1, 2, 3, 0.5, 3.5, 2.1, 0, 4, points=list(np.linspace(0, 4, 50))
        )
    ]
    assert charts_distribution.box_plots("b", "B", boxes) == charts_distribution.box_plots(
        "b", "B", boxes
    )


def test_an_empty_series_gives_a_message_chart() -> None:
    svg = charts_spc.control_chart(
        "e", "Empty", [], centre=0, ucl=1, lcl=-1, descriptions=TEST_DESCRIPTIONS
    )
    root = parse(svg)
    accessible(root, "e")
    assert "chart-empty" in (root.get("class") or "")
    assert "No units" in str(svg)
    assert "No data" in str(charts_series.line_chart("l", "L", []))


# --------------------------------------------------------------------------- drift


def test_cusum_chart_mirrors_the_lower_sum_and_marks_the_first_alarm() -> None:
    values = np.concatenate([np.zeros(20) + [0.1, -0.1] * 10, np.full(15, 1.0)])
    result = cusum(values, baseline=Baseline(mean=0.0, sd=0.1, points=0))
    assert isinstance(result, Cusum) and result.first_alarm is not None
    svg = charts_spc.cusum_chart(
        "d-cusum", "CUSUM", result, point_labels=[f"u{i}" for i in range(35)]
    )
    root = parse(svg)
    accessible(root, "d-cusum")
    limits = y_of_line(root, "limit")
    assert len(limits) == 2  # +H and -H
    (mark,) = find_all(root, "g", "c-mark")
    first = result.first_alarm[0]
    assert mark.get("data-index") == str(first)
    tip = mark.find(f"{SVG}title")
    assert tip is not None and tip.text == f"First CUSUM alarm (up) at unit {first + 1} (u{first})"
    series = {p.get("data-series"): p.get("d", "") for p in find_all(root, "path", "c-line")}
    upper_y = max(y for _, y in path_points(series["C+"]))  # lowest point of C+ on screen
    lower_y = min(y for _, y in path_points(series["C-"]))
    assert upper_y <= lower_y + 0.1  # C+ never below zero, C- never above it


def test_ewma_chart_draws_its_time_varying_limits_and_alarms() -> None:
    values = np.concatenate([[0.1, -0.1] * 10, np.full(10, 0.6)])
    result = ewma(values, baseline=Baseline(mean=0.0, sd=0.1, points=0))
    assert isinstance(result, Ewma) and result.alarms_up
    root = parse(charts_spc.ewma_chart("d-ewma", "EWMA", result))
    accessible(root, "d-ewma")
    limits = find_all(root, "path", "c-limit")
    assert len(limits) == 2
    ucl = path_points(limits[0].get("d", ""))
    assert ucl[0][1] > ucl[-1][1]  # narrow at the start, wider (higher on screen) later
    alarms = find_all(root, "path", "c-alarm")
    assert alarms and alarms[0].get("d", "").count("h0") == len(result.alarms_up)


# --------------------------------------------------------------------------- bars, histogram, boxes


def test_stacked_bars_scale_each_bar_to_its_own_total() -> None:
    svg = charts_series.stacked_bars(
        "rates",
        "Rates",
        ["d1", "d2", "d3"],
        [
            charts_series.Segment("pass", [8, 1, 0], "pass"),
            charts_series.Segment("warning", [1, 0, 0], "warning"),
            charts_series.Segment("fail", [1, 1, 0], "fail"),
        ],
        tooltips=["t1", "t2", "t3"],
    )
    root = parse(svg)
    accessible(root, "rates")
    bars = find_all(root, "g", "c-bar")
    assert [b.get("data-category") for b in bars] == ["d1", "d2", "d3"]
    heights = []
    for bar in bars:
        rects = bar.findall(f"{SVG}rect")
        heights.append({r.get("data-segment"): float(r.get("height", "0")) for r in rects})
        title = bar.find(f"{SVG}title")
        assert title is not None and title.text and title.text.startswith("t")
    full = sum(heights[0].values())
    assert sum(heights[1].values()) == pytest.approx(full, abs=0.2)  # 2 units fill 100 % too
    assert heights[0]["pass"] == pytest.approx(0.8 * full, abs=0.2)
    assert heights[1]["pass"] == pytest.approx(heights[1]["fail"], abs=0.1)
    assert heights[2] == {}  # no units: an empty bar, not a 0 % pass rate


def test_histogram_has_one_bar_per_bin_with_its_count() -> None:
    counts = [0, 3, 10, 0, 1]
    edges = [0, 20, 40, 60, 80, 100]
    root = parse(charts_distribution.histogram("h", "H", counts, edges, bar_tooltips=list("abcde")))
    bins = find_all(root, "g", "c-bin")
    assert [int(float(b.get("data-count", "-1"))) for b in bins] == counts
    rect_heights = [float(child_attr(b, "rect", "height")) for b in bins]
    assert rect_heights[2] == max(rect_heights) and rect_heights[0] == rect_heights[3] == 0
    assert rect_heights[1] == pytest.approx(rect_heights[2] * 0.3, rel=0.02)
    assert "mismatched" not in str(
        charts_distribution.histogram("bad", "Bad", [1, 2], [0, 1])
    )  # no crash
    assert "No data" in str(charts_distribution.histogram("bad", "Bad", [1, 2], [0, 1]))


def test_box_plots_put_boxes_side_by_side_and_clamp_far_points_to_the_edge() -> None:
    rng = np.random.default_rng(1)
    a = [*rng.normal(1.0, 0.1, 200), 50.0]  # one wild unit
    b = list(rng.normal(1.5, 0.1, 200))
    boxes = []
    for name, v in (("line-1", a), ("line-2", b)):
        q1, median, q3, low, high = np.percentile(v, [25, 50, 75, 5, 95])
        boxes.append(
            charts_distribution.Box(
                name, len(v), q1, median, q3, low, high, float(np.mean(v)), min(v), max(v), v
            )
        )
    root = parse(
        charts_distribution.box_plots(
            "cmp", "Compare", boxes, refs=[charts_axes.RefLine(2.0, "spec", "spec")]
        )
    )
    groups = find_all(root, "g", "c-box")
    assert [g.get("data-group") for g in groups] == ["line-1", "line-2"]
    first_x = float(child_attr(groups[0], "rect", "x"))
    second_x = float(child_attr(groups[1], "rect", "x"))
    assert first_x < second_x
    clamped = find_all(groups[0], "circle", "c-clamped")
    assert len(clamped) >= 1  # the wild unit is drawn at the edge...
    tip = groups[0].find(f"{SVG}title")
    assert tip is not None and "shown at the axis edge" in (tip.text or "")  # ...and said so
    means = find_all(root, "path", "c-mean")
    mean_y = [path_points(m.get("d", ""))[0][1] for m in means]
    assert mean_y[1] < mean_y[0]  # line-2's higher mean is drawn higher
    assert y_of_line(root, "spec")


def test_line_chart_draws_whiskers_gaps_and_reference_lines() -> None:
    svg = charts_series.line_chart(
        "trend",
        "Trend",
        [
            charts_series.Series(
                "Cpk", [1.2, float("nan"), 1.4, 1.5], "line", [1.0, 0, 1.2, 1.3], [1.4, 0, 1.6, 1.7]
            ),
            charts_series.Series("Ppk", [1.1, 1.2, 1.3, 1.4], "second"),
        ],
        refs=[charts_axes.RefLine(1.33, "capable", "centre")],
        marks=[charts_axes.Mark(2, "third window", "!")],
    )
    root = parse(svg)
    series = {p.get("data-series"): p.get("d", "") for p in find_all(root, "path", "c-line")}
    assert series["Cpk"].count("M") == 2  # the NaN splits the line
    assert series["Ppk"].count("M") == 1
    whiskers = find_all(root, "path", "c-whiskers")
    assert whiskers and whiskers[0].get("d", "").count("M") == 3  # none at the NaN
    assert y_of_line(root, "centre")
    assert [g.get("data-index") for g in find_all(root, "g", "c-mark")] == ["2"]


def test_every_axis_gets_at_least_two_distinct_tick_labels() -> None:
    """A narrow range (an EWMA of sigma around 1.25e-4) still has a readable scale."""
    rng = np.random.default_rng(3)
    single_tick_ranges = 0
    for _ in range(2000):
        low = float(rng.uniform(-1, 1)) * 10 ** float(rng.uniform(-6, 3))
        high = low + 10 ** float(rng.uniform(-7, 3))
        if len(charts_scale.nice_ticks(low, high, 4)) < 2:
            single_tick_ranges += 1
        ticks, step = charts_scale.ticks_and_step(low, high, 4)
        labels = [charts_scale.tick_label(t, step) for t in ticks]
        assert len(ticks) >= 2, (low, high)
        assert len(set(labels)) == len(labels), (low, high, labels)
    assert single_tick_ranges > 0  # the case the denser retry is for does occur
