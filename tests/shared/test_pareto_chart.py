"""The Pareto chart: order, cumulative shares, folding into "others", escaping and
determinism, on its own (shared/charts/pareto.py)."""

from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.charts.pareto import ParetoBar, pareto_chart, pareto_order

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script> & "q"'


def parse(markup: object) -> ET.Element:
    return ET.fromstring(str(markup))  # noqa: S314 - our own output


def test_bars_are_largest_first_with_cumulative_shares() -> None:
    bars = pareto_order([("b", 20), ("a", 50), ("c", 30), ("zero", 0), ("nan", math.nan)])
    assert [(b.label, b.value) for b in bars] == [("a", 50), ("c", 30), ("b", 20)]
    assert [b.share_pct for b in bars] == pytest.approx([50, 30, 20])
    assert [b.cumulative_pct for b in bars] == pytest.approx([50, 80, 100])


def test_ties_keep_a_fixed_order_and_the_tail_is_folded() -> None:
    bars = pareto_order([(f"m{i}", 1.0) for i in range(6)], max_bars=4)
    assert [b.label for b in bars] == ["m0", "m1", "m2", "others (3)"]
    assert bars[-1].value == 3 and bars[-1].folded == 3 and bars[-1].cumulative_pct == 100.0


@given(st.lists(st.tuples(st.text(max_size=8), st.integers(0, 10**6)), max_size=40))
def test_cumulative_share_rises_to_one_hundred(items: list[tuple[str, int]]) -> None:
    bars = pareto_order([(label, float(v)) for label, v in items], max_bars=10)
    if not any(v > 0 for _, v in items):
        assert bars == []
        return
    values = [b.value for b in bars if not b.folded]
    assert values == sorted(values, reverse=True)
    cumulative = [b.cumulative_pct for b in bars]
    assert all(x <= y + 1e-9 for x, y in itertools.pairwise(cumulative))
    assert cumulative[-1] == pytest.approx(100.0)
    assert math.fsum(b.value for b in bars) == pytest.approx(sum(v for _, v in items))


def test_chart_draws_one_bar_and_one_line_point_per_cause() -> None:
    bars = pareto_order([("A", 30), ("B", 10)], hrefs={"A": "/models/A"})
    root = parse(pareto_chart("p", "Failing models", bars, y_label="failing units"))
    groups = [g for g in root.iter(f"{SVG}g") if g.get("class") == "c-pareto-bar"]
    assert [(g.get("data-label"), g.get("data-cumulative")) for g in groups] == [
        ("A", "75.0"),
        ("B", "100.0"),
    ]
    line = next(p for p in root.iter(f"{SVG}path") if p.get("class") == "c-cumulative")
    assert line.get("d", "").count("L") == 1
    links = [a.get("href") for a in root.iter(f"{SVG}a")]
    assert links == ["/models/A"]
    heights = [float(g.find(f"{SVG}rect").get("height")) for g in groups]  # type: ignore[union-attr]
    assert heights[0] == pytest.approx(3 * heights[1], rel=0.01)


def test_text_is_escaped_and_output_deterministic() -> None:
    bars = pareto_order([(HOSTILE, 3), ("B", 1)], hrefs={HOSTILE: '/x?a="1"&b=<2>'})
    first = str(pareto_chart("p", HOSTILE, bars))
    assert "<script>" not in first
    assert first == str(pareto_chart("p", HOSTILE, bars))
    root = parse(first)
    assert root.find(f"{SVG}title").text == HOSTILE  # type: ignore[union-attr]


def test_nothing_to_draw_says_so() -> None:
    root = parse(pareto_chart("p", "Failing models", []))
    assert "chart-empty" in (root.get("class") or "")
    assert ParetoBar("a", 1, 100, 100).href == ""
