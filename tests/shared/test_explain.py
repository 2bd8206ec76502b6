"""How a verdict was reached, in words (shared/explain.py), the chart legend's phrases
(shared/charts/track.py) and the trim history's charts (shared/trim_history.py), on real files.

6828_47 is a real unit the station passes only by rotating its theory line
within its angle window (spec_truth.json: strict fails 6 points, rotation alone
passes, feasible k -0.695 % to -0.046 %), with 4 + 2 ignored end rows; 8555_54
fails by the station's rules too, one of its two strict failures being an
ignored end row.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from agent.analysis.file import analyse_file
from shared.charts import track as track_charts
from shared.charts import track_words
from shared.explain import explain, rotation_note
from shared.models import Adjustment, FileResult, TrackResult, WindowStatus
from shared.trim_history import pass_views
from tests.real_truth import IN_REPO

SVG = "{http://www.w3.org/2000/svg}"
# spec_truth.json's reading of 6828_47 (../shared/real-samples): the k range that passes.
FEASIBLE_K_6828_47 = (-0.006952, -0.000455)


def real(prefix: str) -> FileResult:
    (path,) = [p for p in IN_REPO.glob("*.xls") if p.name.startswith(prefix)]
    return analyse_file(path)


@pytest.fixture(scope="module")
def rotated() -> TrackResult:
    (track,) = real("6828_47").tracks
    return track


def group(svg: str, cls: str) -> list[ET.Element]:
    root = ET.fromstring(svg)  # noqa: S314 - our own output
    return [
        circle
        for g in root.iter(f"{SVG}g")
        if g.get("class") == cls
        for circle in g.findall(f"{SVG}circle")
    ]


def test_a_rotated_unit_says_how_far_and_to_which_angle(rotated: TrackResult) -> None:
    adjustment = rotated.adjustment
    assert adjustment is not None and rotated.strict is not None
    assert FEASIBLE_K_6828_47[0] <= adjustment.k <= FEASIBLE_K_6828_47[1]
    assert (adjustment.window_status, adjustment.window) == (WindowStatus.OK, (335.0, 345.0))
    assert (adjustment.excluded_start, adjustment.excluded_end) == (4, 2)
    assert (rotated.linearity_pass, rotated.fail_points) == (True, 0)
    assert (rotated.strict.linearity_pass, rotated.strict.fail_points) == (False, 6)

    words = explain(rotated)
    assert words is not None
    assert words["judged"] == (
        "Judged by the station's rules: offset -0.00536 V, "
        "rotated -0.38 % (angle 340.787° → 339.507°), 4 + 2 end rows left out"
    )
    assert words["note"] is None  # the window is ok: nothing to explain
    assert words["strict"]["label"] == "Strict (offset only, every point)"
    assert words["strict"]["words"] == "6 points outside"
    assert words["differs"] == (
        "Inside the band by the station's rules; the strict check alone would fail it."
    )
    assert words["rotated"] and words["left_out"] == 6
    facts = dict(words["facts"])
    assert facts["Rows left out"] == "4 + 2 end rows left out"
    assert facts["Left-out points (from 0)"] == "0, 1, 2, 3, 339, 340"
    assert facts["Angle window"].startswith("335\u2013345° (ok")
    assert facts["Strict (offset only, every point)"] == (
        "fail: 6 points outside, linearity error 0.02945"
    )
    assert words["reasons"] == [r.message for r in rotated.reasons] != []


def test_a_unit_failing_by_the_stations_rules_lists_why() -> None:
    one, two = real("8555_54").tracks
    for track in (one, two):
        words = explain(track)
        assert words is not None
        assert "not rotated" in words["parts"] and "1 + 1 end rows left out" in words["parts"]
        assert words["strict"]["words"] == "2 points outside" and words["differs"] is None
        assert words["reasons"][0].startswith("1 point outside the band")


def adjustment(
    status: WindowStatus, window: tuple[float, float] | None, nominal: float
) -> Adjustment:
    return Adjustment(policy="station", angle_nominal=nominal, window=window, window_status=status)


@pytest.mark.parametrize(
    ("status", "window", "nominal", "note"),
    [
        (
            WindowStatus.NOMINAL_OUTSIDE,
            (92.0, 96.0),
            280.0,
            "No rotation: the file's angle window 92\u201396° does not contain the nominal 280°",
        ),
        (
            WindowStatus.ZERO_WIDTH,
            (340.0, 340.0),
            340.0,
            "No rotation: the file's angle window is the nominal 340° alone",
        ),
        (
            WindowStatus.ZERO_WIDTH_NOMINAL_OFF,
            (92.0, 92.0),
            280.0,
            "No rotation: the file's angle window is 92° alone, not the nominal 280°",
        ),
        (WindowStatus.NONE, None, 340.0, "No rotation: the file gives no angle window"),
        (
            WindowStatus.WIDE,
            (218.0, 322.0),
            320.0,
            "The file's angle window 218\u2013322° is wide (over 20 % of the nominal 320°); "
            "used as written",
        ),
        (WindowStatus.OK, (339.0, 341.0), 340.0, None),
    ],
)
def test_when_rotation_was_not_allowed_the_page_says_why(
    status: WindowStatus, window: tuple[float, float] | None, nominal: float, note: str | None
) -> None:
    assert rotation_note(adjustment(status, window, nominal), "°") == note


def test_strict_and_spec_policies_explain_themselves() -> None:
    assert rotation_note(Adjustment(policy="strict"), "°") is None
    spec = Adjustment(policy="spec", angle_nominal=340.0)
    assert rotation_note(spec) == "No rotation: the model spec gives no angle tolerance"


@pytest.mark.parametrize(
    ("k", "nominal", "text"),
    [
        (0.0031, 48.15, "rotated +0.31 % (angle 48.15° → 48.30°)"),
        (-0.00376917588888892, 340.787, "rotated -0.38 % (angle 340.787° → 339.507°)"),
        (0.00004, 340.0, "rotated +0.0040 % (angle 340.00° → 340.01°)"),
    ],
)
def test_rotation_words_have_no_float_noise(k: float, nominal: float, text: str) -> None:
    moved = Adjustment(
        policy="station", k=k, angle_nominal=nominal, angle_adjusted=nominal / (1 - k)
    )
    assert track_words.rotation_words(moved, "°") == text
    assert track_words.rotation_words(Adjustment(policy="station"), "°") is None


@pytest.mark.parametrize("size", [(720, 330), (800, 360), (1100, 420), (1500, 400)])
def test_the_legend_always_fits_its_chart(rotated: TrackResult, size: tuple[int, int]) -> None:
    svg = str(track_charts.track_chart(rotated, size, show_untrimmed=True))
    legend = re.search(r'<text class="offset"[^>]*>([^<]*)</text>', svg)
    assert legend is not None
    room = size[0] - 18 - 100  # the frame, less the narrowest left margin
    squeezed = "textLength" in legend.group(0)
    assert squeezed or len(legend.group(1)) * track_charts.LEGEND_CHAR_WIDTH <= room
    assert "rotated -0.38 %" in legend.group(1)


@pytest.mark.parametrize("prefix", ["6828_47", "8555_54", "8506A_123", "7844_254A"])
def test_every_pass_chart_draws_that_passs_own_verdict(prefix: str) -> None:
    """Red dots number each pass's fail points, its left-out rows are hollow rings;
    8506A_123 changed its angle setting between passes (340.0, then 340.6)."""
    for track in real(prefix).tracks:
        for row in pass_views(track):
            entry = row["pass"]
            assert entry.fail_points is not None and entry.adjustment is not None
            svg = str(row["svg"])
            assert len(group(svg, "fail-pts")) == entry.fail_points, (prefix, entry.number)
            assert len(group(svg, "excluded-pts")) == len(entry.adjustment.excluded_points)
