"""Unit-page plots: the verdict's chart is scaled to the final curve and its band, the trim
history is its own chart, and every axis names its units (shared/charts/track.py)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np

from agent.analysis.file import analyse_file
from shared.charts import palette
from shared.charts import track as track_charts
from shared.models import FileResult, TrackCurve
from shared.trim_history import history_chart, pass_views
from tests.real_truth import IN_REPO

SVG = "{http://www.w3.org/2000/svg}"


def real(prefix: str) -> FileResult:
    (path,) = [p for p in IN_REPO.glob("*.xls") if p.name.startswith(prefix)]
    return analyse_file(path)


def ticks(svg: str) -> list[float]:
    """The y axis's tick values (right-aligned labels left of the frame)."""
    root = ET.fromstring(svg)  # noqa: S314 - our own output
    return [
        float((t.text or "nan").removesuffix(" V"))
        for t in root.iter(f"{SVG}text")
        if t.get("class") == "tick" and t.get("text-anchor") == "end"
    ]


def test_the_verdict_chart_is_scaled_to_the_final_curve_not_the_untrimmed_one() -> None:
    (track,) = real("6828_44").tracks  # untrimmed +/-0.17 V against a +/-0.025 V band
    curve = track.curve
    assert curve is not None and curve.untrimmed_errors is not None
    untrimmed_reach = max(abs(v) for v in curve.untrimmed_errors if v is not None)
    band_reach = max(abs(v) for v in curve.upper + curve.lower if v is not None)
    assert untrimmed_reach > 5 * band_reach  # the case the old scale got wrong
    svg = str(track_charts.track_chart(track, (1100, 420), show_untrimmed=True))
    values = ticks(svg)
    assert max(abs(v) for v in values) <= 1.5 * band_reach
    assert 'class="untrimmed" clip-path="url(#plot-clip-' in svg  # faint, cut at the frame
    assert re.search(r'<clipPath id="(plot-clip-[\w-]+)"><rect ', svg)


def test_a_band_that_opens_wide_somewhere_does_not_set_the_scale() -> None:
    n = 200
    upper: list[float | None] = [0.025] * n
    lower: list[float | None] = [-0.025] * n
    upper[150:], lower[150:] = [148.0] * 50, [-148.0] * 50  # as model 8888's files do
    errors = list(0.01 * np.sin(np.linspace(0, 6, n)))
    curve = TrackCurve(
        positions=list(np.linspace(0, 340, n)), errors=errors, upper=upper, lower=lower
    )
    values = ticks(str(track_charts.track_svg(curve, 0.0)))
    assert max(abs(v) for v in values) <= 0.2
    assert track_charts.band_in_view(np.array(upper, float), np.array(lower, float)).size == 2 * 150
    assert track_charts.band_in_view(np.array([np.nan]), np.array([np.nan])).size == 0


def test_axis_titles_name_volts_and_the_files_position_unit() -> None:
    rotary = real("7844_254A").tracks[0]
    linear = real("8340-3_3").tracks[0]
    assert "error (V) vs position (°)" in str(track_charts.track_chart(rotary, (1500, 400)))
    assert "error (V) vs position (in)" in str(track_charts.track_chart(linear, (1500, 400)))
    assert track_charts.axis_title("") == "error (V) vs position"
    # A pass chart too narrow for the title beside its legend: the axes carry the units.
    for track, unit in ((rotary, "°"), (linear, " in")):
        for row in pass_views(track):
            root = ET.fromstring(str(row["svg"]))  # noqa: S314 - our own output
            labels = [t.text or "" for t in root.iter(f"{SVG}text") if t.get("class") == "tick"]
            y_labels = [t for t in labels if t.endswith(" V")]
            assert len(y_labels) == 1, labels
            assert [t for t in labels if t.endswith(unit)], labels


def test_the_trim_history_chart_draws_every_measurement_on_its_own_scale() -> None:
    (track,) = real("7844_254A").tracks
    assert len(track.passes) == 5
    svg = history_chart(track)
    assert svg is not None
    root = ET.fromstring(str(svg))  # noqa: S314 - our own output
    curves = [p for p in root.iter(f"{SVG}path") if "history-curve" in (p.get("class") or "")]
    assert len(curves) == 5
    assert curves[0].get("stroke") == palette.HISTORY_UNTRIMMED
    assert curves[-1].get("stroke") == palette.HISTORY_FINAL
    assert "history-final" in (curves[-1].get("class") or "")
    legend = "".join(root.find(f".//{SVG}text[@class='offset history-legend']").itertext())  # type: ignore[union-attr]
    assert legend.startswith("untrimmed") and legend.endswith("pass 4 (TRM1) · final")
    curve = track.curve
    assert curve is not None and curve.untrimmed_errors is not None
    reach = max(abs(v) for v in curve.untrimmed_errors if v is not None)
    assert max(abs(v) for v in ticks(str(svg))) >= 0.5 * reach  # the untrimmed curve fits
    assert "error (V) vs position (°), as measured" in str(svg)


def test_no_history_chart_without_two_measurements() -> None:
    (track,) = real("7844_256A").tracks  # untrimmed only
    assert history_chart(track) is None
    one = track_charts.history_svg([("final", palette.HISTORY_FINAL, track.curve)], track.curve)  # type: ignore[list-item]
    assert "Fewer than two" in str(one)
