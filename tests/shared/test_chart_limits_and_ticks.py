"""Control limits a quantity cannot cross are clamped, and production-order ticks read apart."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from central.spc.control import TEST_DESCRIPTIONS, IndividualsChart, imr_chart
from central.spc.drift import Baseline, Ewma, ewma
from shared.charts import axes, spc
from tests.shared.test_dashboard_charts import SVG, find_all, parse, path_points, y_of_line


def skewed_near_zero() -> IndividualsChart:
    """Sigma-gradient-like values: small, positive, with spread enough for a 3-sigma LCL < 0."""
    rng = np.random.default_rng(7)
    values = np.abs(rng.normal(2e-4, 1.5e-4, 60)) + 1e-6
    chart = imr_chart(values)
    assert isinstance(chart, IndividualsChart) and chart.limits.lcl < 0
    return chart


def test_a_negative_lcl_of_a_quantity_that_cannot_be_negative_is_drawn_at_the_floor() -> None:
    chart = skewed_near_zero()
    individuals, moving = spc.imr_charts(
        "sg", "Sigma gradient", chart, descriptions=TEST_DESCRIPTIONS, floor=0.0
    )
    root = parse(individuals)
    limits = find_all(root, "line", "c-ref-limit")
    labels = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert "LCL clamped at 0" in labels
    assert not any(re.match(r"LCL -", text) for text in labels)
    desc = root.find(f"{SVG}desc")
    assert desc is not None and "clamped" in (desc.text or "")
    assert "LCL 0" in (desc.text or "")
    assert len(limits) == 2  # UCL and the clamped LCL
    # Without a floor the same chart states its negative limit as computed.
    plain = parse(spc.imr_charts("sg", "S", chart, descriptions=TEST_DESCRIPTIONS)[0])
    assert any((t.text or "").startswith("LCL -") for t in plain.iter(f"{SVG}text")), (
        "the unclamped chart must show the computed negative LCL"
    )
    # The moving-range chart has no lower limit at all (a range is never negative).
    assert not any("LCL" in (t.text or "") for t in parse(moving).iter(f"{SVG}text"))


def test_an_lcl_above_the_floor_is_left_alone() -> None:
    values = 1.0 + 0.01 * np.random.default_rng(3).standard_normal(40)
    chart = imr_chart(values)
    assert isinstance(chart, IndividualsChart)
    root = parse(spc.imr_charts("x", "X", chart, descriptions=TEST_DESCRIPTIONS, floor=0.0)[0])
    labels = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert any(text.startswith("LCL 0.9") for text in labels)
    assert not any("clamped" in text for text in labels)
    assert len(y_of_line(root, "limit")) == 2


def test_the_ewma_lower_limit_is_clamped_at_the_floor() -> None:
    values = np.concatenate([[1e-5, 3e-5] * 10, np.full(10, 6e-5)])
    result = ewma(values, baseline=Baseline(mean=2e-5, sd=3e-5, points=0))
    assert isinstance(result, Ewma) and float(np.min(result.lcl)) < 0
    root = parse(spc.ewma_chart("e", "EWMA", result, floor=0.0))
    unclamped = parse(spc.ewma_chart("e", "EWMA", result))
    low = path_points(find_all(root, "path", "c-limit")[1].get("d", ""))
    low_before = path_points(find_all(unclamped, "path", "c-limit")[1].get("d", ""))
    # Clamped, the limit runs flat along 0 once it would go below; unclamped, it keeps falling.
    assert low[1][1] == low[-1][1] == max(y for _, y in low)
    assert low_before[-1][1] > low_before[1][1]
    desc = root.find(f"{SVG}desc")
    assert desc is not None and "clamped at 0" in (desc.text or "")


# --------------------------------------------------------------------------- production-time ticks


def tick_texts(ticks: axes.TimeTicks | None, count: int) -> list[str]:
    assert ticks is not None
    return [ticks.labels[i] for i in axes.index_ticks(count)]


def test_units_of_one_day_are_labelled_by_their_clock_and_the_day_goes_in_the_title() -> None:
    start = datetime(2026, 12, 4, 8, 0)
    moments = [start + timedelta(minutes=5 * i) for i in range(120)]
    ticks = axes.time_ticks(len(moments), lambda i: moments[i])
    texts = tick_texts(ticks, len(moments))
    assert len(set(texts)) == len(texts) and all(re.fullmatch(r"\d\d:\d\d", t) for t in texts)
    assert ticks is not None and ticks.title_note == "on 2026-12-04"


def test_units_of_one_minute_fall_back_to_seconds_then_to_unit_numbers() -> None:
    start = datetime(2026, 12, 4, 21, 33)
    seconds = [start + timedelta(seconds=i // 4) for i in range(200)]
    texts = tick_texts(axes.time_ticks(len(seconds), lambda i: seconds[i]), len(seconds))
    assert all(re.fullmatch(r"\d\d:\d\d:\d\d", t) for t in texts)
    same = [start] * 50
    assert axes.time_ticks(len(same), lambda i: same[i]) is None  # the axis counts units


def test_units_over_months_are_labelled_by_day() -> None:
    start = datetime(2026, 1, 5, 8)
    moments = [start + timedelta(hours=20 * i) for i in range(300)]
    ticks = axes.time_ticks(len(moments), lambda i: moments[i])
    texts = tick_texts(ticks, len(moments))
    assert all(re.fullmatch(r"\d\d-\d\d", t) for t in texts)
    assert ticks is not None and ticks.title_note == "in 2026"


@given(
    st.lists(
        st.integers(min_value=0, max_value=400 * 86400),
        min_size=1,
        max_size=400,
    )
)
def test_tick_labels_never_repeat(offsets: list[int]) -> None:
    moments = [datetime(2025, 12, 1) + timedelta(seconds=s) for s in sorted(offsets)]
    ticks = axes.time_ticks(len(moments), lambda i: moments[i])
    if ticks is not None:
        texts = tick_texts(ticks, len(moments))
        assert len(set(texts)) == len(texts)
        assert all(text for text in texts)


def test_a_control_chart_draws_the_labels_and_the_title_it_is_given() -> None:
    chart = skewed_near_zero()
    start = datetime(2026, 12, 4, 6, 0)
    moments = [start + timedelta(minutes=7 * i) for i in range(chart.values.size)]
    ticks = axes.time_ticks(chart.values.size, lambda i: moments[i])
    assert ticks is not None
    individuals, _ = spc.imr_charts(
        "t",
        "T",
        chart,
        descriptions=TEST_DESCRIPTIONS,
        x_labels=ticks.labels,
        x_title=f"{spc.X_TITLE}, {ticks.title_note}",
    )
    texts = [t.text or "" for t in parse(individuals).iter(f"{SVG}text")]
    assert f"{spc.X_TITLE}, on 2026-12-04" in texts
    drawn = [t for t in texts if re.fullmatch(r"\d\d:\d\d", t)]
    assert len(drawn) >= 3 and len(set(drawn)) == len(drawn)
