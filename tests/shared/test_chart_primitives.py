"""The chart package's primitives (shared/charts/): the pieces every chart of both
programs is built from, so a mistake here would show on every page."""

from __future__ import annotations

import numpy as np

from shared.charts import palette, paths, scale, svg


def test_a_colour_reaches_the_markup_only_as_a_table_name_or_hex() -> None:
    assert palette.colour("fail") == palette.RED
    assert palette.colour("#12abEF") == "#12abEF"
    hostile = '#fff" onload="alert(1)'
    assert palette.colour(hostile) == palette.LINE
    assert palette.colour("javascript:x") == palette.LINE


def test_a_missing_value_breaks_the_line_instead_of_bridging_it() -> None:
    xs = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    ys = np.array([1.0, 2.0, np.nan, 4.0, 5.0])
    assert paths.series_path(xs, ys) == "M0.0 1.0L1.0 2.0M3.0 4.0L4.0 5.0"
    assert paths.line_path(xs, ys) == "M0.0 1.0L1.0 2.0M3.0 4.0L4.0 5.0"
    assert paths.dots_path(xs, ys).count("h0") == 4
    assert paths.series_path(xs, np.full(5, np.nan)) == ""


def test_one_scale_maps_both_ways_and_clamps_only_when_asked() -> None:
    box = (10.0, 20.0, 110.0, 220.0)
    free = scale.LinearScale((0.0, 10.0), (0.0, 1.0), box)
    pinned = scale.LinearScale((0.0, 10.0), (0.0, 1.0), box, clamp_y=True)
    assert free.x(5.0) == 60.0 and free.y(0.5) == 120.0
    assert free.y(2.0) == 20.0 - 200.0  # beyond the frame: the chart's clip path cuts it
    assert pinned.y(2.0) == 20.0 and pinned.y(-1.0) == 220.0
    assert list(pinned.ys(np.array([2.0, 0.0]))) == [20.0, 220.0]


def test_padded_range_ignores_non_finite_values_and_respects_a_floor() -> None:
    assert scale.padded_range([np.nan, np.inf]) == (-1.0, 1.0)
    assert scale.padded_range([0.0, 10.0], 0.1) == (-1.0, 11.0)
    assert scale.padded_range([0.0, 10.0], 0.1, floor=0.0) == (0.0, 11.0)
    low, high = scale.padded_range([5.0, 5.0])
    assert low < 5.0 < high


def test_text_is_escaped_and_coordinates_never_read_minus_zero() -> None:
    element = svg.text(1.0, 2.0, "<b>&")
    assert "&lt;b&gt;&amp;" in element and "<b>" not in element
    assert svg.coord(-0.04) == "0.0"
    assert "&lt;script&gt;" in str(svg.message_svg("<script>"))
    assert "&lt;script&gt;" in str(svg.message_chart("<id>", "<t>", "<script>"))
