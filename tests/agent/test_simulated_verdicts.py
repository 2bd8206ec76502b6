"""Simulated units: the kernels agree with the scipy reference, and verdicts match intent.

Two levels: the analysis kernels on the simulator's curves directly, and the whole
product path (read the written workbook, pick the final pass, analyse) on files in
the real stations' layouts. The second needs the readers to select the highest
`SEC1 TRK<t> <pass> TRM1` sheet as a track's final data.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from agent.analysis.file import analyse_file
from agent.analysis.sigma import sigma_gradient
from agent.analysis.track import analyse_track
from agent.parsing.layout import SheetData, TrackData
from agent.simulate import UnitSpec, simulate_unit, write_unit
from shared.models import FileResult, Status, TrackResult
from tests.reference import sigma_reference

START = datetime(2024, 11, 22, 8, 0)
EXPECTED = {
    "pass": Status.PASS,
    "near_miss": Status.PASS,
    "warning": Status.WARNING,
    "fail": Status.FAIL,
}


def simulated_tracks(count: int, seed: int):
    rng = np.random.default_rng(seed)
    for index in range(count):
        unit = simulate_unit(rng, index, START)
        for track in unit.tracks:
            yield unit, track


def test_sigma_agrees_with_reference_on_hundreds_of_simulated_tracks() -> None:
    checked = 0
    for _, track in simulated_tracks(300, seed=11):
        errors = track.trimmed_error if track.trimmed_error is not None else track.untrimmed_error
        expected = sigma_reference(track.positions, errors)
        assert sigma_gradient(track.positions, errors) == pytest.approx(expected, rel=1e-9)
        checked += 1
    assert checked >= 300


def _adjusted(result: TrackResult) -> bool:
    """Whether the station's rules moved the curve beyond an offset (rotation, rows left out)."""
    adjustment = result.adjustment
    return adjustment is not None and (adjustment.k != 0.0 or bool(adjustment.excluded_points))


def _check(outcome: str, result: TrackResult, context: str) -> None:
    """The verdict a track drawn for `outcome` must get.

    The simulator draws its curves for the strict rule (offset only, every
    point). A near miss stays a pass under the station's rules, but a
    rotation within the station's window may widen its margin, so it is a
    near miss there only when no rotation or exclusion was used.
    """
    if outcome in EXPECTED:
        assert result.status is EXPECTED[outcome], context
    if outcome == "pass":
        assert result.linearity_pass and result.sigma_pass, context
    if outcome == "near_miss":
        assert result.near_miss or _adjusted(result), context
    if outcome == "anomaly":
        assert result.is_anomaly, context
    if outcome == "aborted":
        assert result.untrimmed_only, context
    else:
        assert not result.untrimmed_only, context


def test_verdicts_match_what_the_simulator_intended() -> None:
    seen = set()
    for unit, track in simulated_tracks(250, seed=12):
        errors = track.trimmed_error if track.trimmed_error is not None else track.untrimmed_error
        sheet = SheetData(track.positions, errors, track.upper, track.lower, track.trimmed_ohms)
        untrimmed = SheetData(
            track.positions, track.untrimmed_error, track.upper, track.lower, track.untrimmed_ohms
        )
        data = TrackData(
            f"TRK{track.track}",
            trimmed=sheet if track.trimmed_error is not None else None,
            untrimmed=untrimmed,
        )
        result = analyse_track(data, include_curve=False)
        seen.add(track.outcome)
        _check(track.outcome, result, f"{unit.model} {unit.serial} {track.outcome}")
    assert {"pass", "fail", "warning", "near_miss", "anomaly"} <= seen


# --- the whole product path, on files laid out like the real stations' ---


def _units(count: int, seed: int) -> list[UnitSpec]:
    rng = np.random.default_rng(seed)
    return [simulate_unit(rng, index, START) for index in range(count)]


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[UnitSpec, FileResult]]:
    """Sixty units written as station files (both formats) and analysed like the agent does."""
    folder = tmp_path_factory.mktemp("station")
    pairs = []
    for k, unit in enumerate(_units(60, seed=21)):
        fmt = "xls" if k % 2 else "xlsx"
        path = folder / f"{unit.model}_{unit.serial}_TEST DATA_11-22-2024_{k}.{fmt}"
        write_unit(unit, path, fmt)
        pairs.append((unit, analyse_file(path)))
    return pairs


def _track_result(unit: UnitSpec, result: FileResult, track: int) -> TrackResult:
    if unit.system == "B":
        assert len(result.tracks) == 1
        return result.tracks[0]
    matches = [t for t in result.tracks if t.track_id.endswith(f"TRK{track}")]
    assert len(matches) == 1, [t.track_id for t in result.tracks]
    return matches[0]


def test_files_are_read_as_their_system(analysed: list[tuple[UnitSpec, FileResult]]) -> None:
    for unit, result in analysed:
        assert result.system == unit.system, result
        assert len(result.tracks) == len(unit.tracks)


def test_file_verdicts_match_what_the_simulator_intended(
    analysed: list[tuple[UnitSpec, FileResult]],
) -> None:
    seen = set()
    for unit, result in analysed:
        for track in unit.tracks:
            got = _track_result(unit, result, track.track)
            context = f"{unit.model} {unit.serial} TRK{track.track} {track.outcome}"
            _check(track.outcome, got, context)
            seen.add(track.outcome)
    assert {"pass", "fail"} <= seen


def test_final_data_is_the_last_pass(analysed: list[tuple[UnitSpec, FileResult]]) -> None:
    """The verdict is about the highest pass: its points and resistance, not pass 1's."""
    multi = 0
    for unit, result in analysed:
        for track in unit.tracks:
            if not track.pass_errors:
                continue
            got = _track_result(unit, result, track.track)
            assert got.points == track.positions.size
            assert got.trimmed_resistance == pytest.approx(track.trimmed_ohms)
            assert got.untrimmed_resistance == pytest.approx(track.untrimmed_ohms)
            multi += len(track.pass_errors) > 1
    assert multi > 0
