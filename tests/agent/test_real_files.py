"""Real station files kept in the repository (tests/data/real, MIT, see its NOTICE).

One file per layout real stations write (System A with 2, 3 and 4 trim
passes, two tracks, untrimmed only; System B with one and three passes) and
one per state of the station's own verdict rules (every angle-window state,
rescued by rotation, rescued by the ignored rows), so CI checks the default
verdict against spec_truth.json even without ../shared.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.analysis.file import analyse_file
from shared.models import FileResult, Status, TrackResult
from tests.real_truth import (
    IN_REPO,
    IN_REPO_RULES,
    load_spec_truth,
    load_truth,
    mismatches,
    spec_mismatches,
)

TRUTH = load_truth(IN_REPO)
RULES_TRUTH = load_truth(IN_REPO_RULES)
SPEC_TRUTH = {**load_spec_truth(IN_REPO), **load_spec_truth(IN_REPO_RULES)}
FOLDER = {name: IN_REPO for name in TRUTH} | {name: IN_REPO_RULES for name in RULES_TRUTH}


def _analyse(prefix: str) -> FileResult:
    (name,) = [n for n in FOLDER if n.startswith(prefix)]
    return analyse_file(FOLDER[name] / name)


def _track(result: FileResult, track_id: str = "TRK1") -> TrackResult:
    return next(t for t in result.tracks if t.track_id == track_id)


@pytest.mark.parametrize("name", sorted(FOLDER))
def test_each_layout_matches_the_reference_reading(name: str) -> None:
    result = analyse_file(FOLDER[name] / name)
    as_json = json.loads(result.model_dump_json())
    assert mismatches(as_json, {**TRUTH, **RULES_TRUTH}[name]) == []


@pytest.mark.parametrize("name", sorted(SPEC_TRUTH))
def test_default_verdict_is_the_stations_own(name: str) -> None:
    result = json.loads(analyse_file(FOLDER[name] / name).model_dump_json())
    assert spec_mismatches(result, SPEC_TRUTH[name]) == []


def test_the_kept_files_cover_every_window_state_and_each_rescue() -> None:
    tracks = [t for entry in SPEC_TRUTH.values() for t in entry["tracks"]]
    states = {t["window_status"] for t in tracks}
    assert states == {
        "ok",
        "wide",
        "zero_width",
        "zero_width_nominal_off",
        "nominal_outside",
        "none",
    }
    kinds = {(t["a"]["feasible"], t["b"]["feasible"], t["c"]["feasible"]) for t in tracks}
    assert (False, True, True) in kinds  # passes only once the theory line rotates
    assert (False, False, True) in kinds  # passes only with the ignored rows left out
    assert (False, False, False) in kinds  # fails under every policy


def test_a_unit_rescued_by_rotation_says_how_far_the_line_turned() -> None:
    track = _track(_analyse("7477_26"))
    assert track.strict is not None and not track.strict.linearity_pass
    assert track.linearity_pass and track.status is not Status.FAIL
    adjustment = track.adjustment
    assert adjustment is not None and adjustment.k != 0.0
    assert adjustment.k_bounds[0] <= adjustment.k <= adjustment.k_bounds[1]
    assert adjustment.angle_nominal is not None and adjustment.angle_adjusted is not None
    assert adjustment.angle_adjusted == pytest.approx(adjustment.angle_nominal / (1 - adjustment.k))
    assert track.reasons == [] or all(r.code == "sigma" for r in track.reasons)


def test_four_pass_unit_keeps_its_whole_trim_history() -> None:
    track = _track(_analyse("7844_254A"))
    assert [(p.number, p.sheet, p.final) for p in track.passes] == [
        (0, "SEC1 TRK1 0", False),
        (1, "SEC1 TRK1 1 TRM1", False),
        (2, "SEC1 TRK1 2 TRM1", False),
        (3, "SEC1 TRK1 3 TRM1", False),
        (4, "SEC1 TRK1 4 TRM1", True),
    ]
    # Strict (offset only, every point) and under the station's own rules (its 1 + 1
    # ignored rows and its 41-42 degree window): the first passes fail by fewer points.
    assert [p.strict.fail_points for p in track.passes if p.strict] == [2, 2, 1, 0, 0]
    assert [p.fail_points for p in track.passes] == [1, 1, 0, 0, 0]
    assert all(p.adjustment and p.adjustment.policy == "station" for p in track.passes)
    assert [p.resistance for p in track.passes] == [4554.0, 4661.0, 4727.0, 4793.0, 4878.0]
    assert all(p.trim_set == 1 for p in track.passes[1:])
    final = track.passes[-1]
    assert (final.linearity_error, final.fail_points, final.sigma_gradient) == (
        track.linearity_error,
        track.fail_points,
        track.sigma_gradient,
    )
    assert track.status is Status.PASS and track.sheet == "SEC1 TRK1 4 TRM1"
    assert track.trim is not None and track.trim.resistance_change_ohms == 324.0


def test_pass_curves_are_the_sheets_points() -> None:
    track = _track(_analyse("8506A_123"))
    assert [p.points for p in track.passes] == [171, 171, 171, 171]
    assert all(p.curve is not None and len(p.curve.errors) == 171 for p in track.passes)
    assert track.curve is not None
    assert track.passes[-1].curve is not None
    assert track.passes[-1].curve.errors == track.curve.errors
    assert track.passes[0].curve is not None
    assert track.passes[0].curve.errors == track.curve.untrimmed_errors


def test_station_spec_is_read_per_track_from_its_own_column() -> None:
    result = _analyse("8555_54")
    one, two = _track(result, "TRK1"), _track(result, "TRK2")
    assert one.station_spec is not None and two.station_spec is not None
    assert (one.station_spec.angle_nominal, two.station_spec.angle_nominal) == (340.385, 340.0)
    for spec in (one.station_spec, two.station_spec):
        assert spec.pot_type == "rotary" and spec.position_unit == "deg"
        assert (spec.resistance_min, spec.resistance_max) == (9300.0, 10980.0)
        assert (spec.angle_min, spec.angle_max) == (340.0, 345.0)  # 'Length Mamimum' (sic)
        assert (spec.ignored_start, spec.ignored_end) == (1, 1)
        assert spec.resistance_in_spec is True and spec.angle_in_window is True
    # two failing points strictly; one of them is among the points the station ignores,
    # so the station's own verdict counts one
    assert one.strict is not None
    assert (one.strict.fail_points, one.station_spec.fails_in_ignored) == (2, 1)
    assert one.fail_points == 1
    assert one.adjustment is not None and one.adjustment.excluded_points == [0, 342]
    assert [p.number for p in one.passes] == [0, 1, 2] and [p.number for p in two.passes] == [0, 1]


def test_window_reads_length_maximum_in_either_spelling() -> None:
    spec = _track(_analyse("7844_254A")).station_spec  # this template writes 'Length Maximum'
    assert spec is not None
    assert (spec.angle_min, spec.angle_max, spec.angle_measured) == (41.0, 42.0, 41.605)


def test_untrimmed_only_unit_is_analysed_and_said_so() -> None:
    track = _track(_analyse("7844_256A"))
    assert track.untrimmed_only and track.sheet == "SEC1 TRK1 0"
    assert [(p.number, p.final) for p in track.passes] == [(0, True)]
    assert "untrimmed_only" in [n.code for n in track.notes]
    assert track.trimmed_resistance is None and track.trim is None
    assert track.station_spec is not None and track.station_spec.resistance_in_spec is None


def test_system_b_passes_run_from_test_through_trim_sheets_to_lin_error() -> None:
    result = _analyse("8340-3_3")
    track = _track(result)
    assert [p.sheet for p in track.passes] == ["test", "Trim 1", "Trim 2", "Trim 3", "Lin Error"]
    assert track.passes[-1].final and track.sheet == "Lin Error"
    assert result.model == "8340-3"  # Model Parameters A1
    spec = track.station_spec
    assert spec is not None and spec.pot_type == "linear" and spec.position_unit == "in"
    assert (spec.resistance_min, spec.resistance_max) == (800.0, 1200.0)
    assert (spec.ignored_start, spec.ignored_end) == (1, 2)
    # this template's column K is a second +/-0.05 band, so K1 (-0.05) is no angle
    assert spec.angle_measured is None and spec.angle_nominal == 0.314


def test_system_b_work_sheets_are_never_measurements() -> None:
    track = _track(_analyse("8340-1_82"))
    sheets = {p.sheet for p in track.passes}
    assert sheets == {"test", "Trim 1", "Lin Error"}
    assert track.points == 63  # `Lin Error` has 129 rows; the rest have blank positions
    assert track.station_spec is not None
    assert (track.station_spec.angle_measured, track.station_spec.angle_nominal) == (0.611, 0.61)


def test_real_file_copies_carry_their_licence() -> None:
    notice = (IN_REPO / "NOTICE.md").read_text()
    assert "MIT" in notice and "laser-trim-ai-system" in notice
    assert len(list(Path(IN_REPO).glob("*.xls"))) == len(TRUTH) == 8
    assert len(list(IN_REPO_RULES.glob("*.xls"))) == len(RULES_TRUTH) == 8
    assert len(SPEC_TRUTH) == 16
