"""The anomaly ("laser probably never trimmed") reads the trim history, not the final line."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from agent.analysis import shape
from agent.analysis.file import analyse_file
from agent.analysis.track import analyse_track
from agent.parsing.reader import parse_workbook
from agent.simulate import simulate_station
from tests.real_truth import IN_REPO, SHARED_SAMPLES

# A real trimmed unit whose final curve is a straight, wide line (R^2 0.99 over 0.40 V in a
# +/-0.1 band) although two passes changed it by a third: it passes with 0 fail points.
STRAIGHT_BUT_TRIMMED = "7661-3M_214_TEST DATA_10-31-2018_10-42 AM.xls"
# Real files with no trim sheet at all: the untrimmed sheet is the final data.
UNTRIMMED_ONLY = ("7844_256A_TEST DATA_9-13-2024_5-59 AM.xls",)


def reference_change(x: np.ndarray, e: np.ndarray, ux: np.ndarray, ue: np.ndarray) -> float:
    """trim_change in plain numpy: the untrimmed curve at the final positions, offsets aside."""
    order = np.argsort(ux)
    before = ue if ux.size == x.size else np.interp(x, ux[order], ue[order])
    diff = e - before
    moved = diff - diff.mean()
    spread = before - before.mean()
    return float(np.sqrt(np.mean(moved**2)) / np.sqrt(np.mean(spread**2)))


def test_trim_change_agrees_with_its_reference() -> None:
    rng = np.random.default_rng(18)
    for _ in range(50):
        n = int(rng.integers(10, 200))
        x = np.sort(rng.uniform(-100, 100, n))
        e = rng.normal(0, 0.01, n)
        ue = rng.normal(0, 0.05, n) + rng.uniform(-0.01, 0.01) * x
        assert shape.trim_change(x, e, x, ue) == pytest.approx(reference_change(x, e, x, ue))
        m = int(rng.integers(10, 200))
        ux = rng.permutation(np.linspace(-100, 100, m))  # another length, not sorted
        ue2 = 0.003 * ux
        got = shape.trim_change(x, e, ux, ue2)
        assert got == pytest.approx(reference_change(x, e, ux, ue2))
    x = np.linspace(0, 10, 20)
    assert shape.trim_change(x, x + 5.0, x, x) == pytest.approx(0.0, abs=1e-12)  # an offset
    assert shape.trim_change(x, x, x, np.zeros(20)) == 1.0  # nothing to compare against
    assert shape.trim_change(x, x, x[:1], x[:1]) == 1.0


def test_a_straight_line_the_trim_did_not_change_is_an_anomaly() -> None:
    x = np.linspace(-150.0, 150.0, 300)
    final = 0.0004 * x  # straight, 0.12 V wide
    assert shape.is_untrimmed_anomaly(x, final, 1e-4, x, 1.05 * final)
    # The trim flattened a +/-0.4 V slope to that residual tilt: it happened.
    assert not shape.is_untrimmed_anomaly(x, final, 1e-4, x, 0.4 / 150.0 * x)
    # Not straight and wide: never an anomaly, whatever the history.
    assert not shape.is_untrimmed_anomaly(x, 0.001 * np.sin(x), 1e-4, x, 0.001 * np.sin(x))


def parsed(path: Path):  # type: ignore[no-untyped-def]
    return parse_workbook(path, path.read_bytes(), 100_000)


@pytest.mark.skipif(not (SHARED_SAMPLES / STRAIGHT_BUT_TRIMMED).exists(), reason="real samples")
def test_real_trimmed_unit_with_a_straight_final_line_is_not_an_anomaly() -> None:
    path = SHARED_SAMPLES / STRAIGHT_BUT_TRIMMED
    (track,) = analyse_file(path).tracks
    assert track.status.value == "Pass" and len(track.passes) == 2
    curve = track.curve
    assert curve is not None and curve.untrimmed_errors is not None
    x, e = np.array(curve.positions), np.array(curve.errors)
    # The final curve alone reads as untrimmed; its history says otherwise.
    assert shape.is_anomaly(x, e, track.sigma_threshold)
    assert not track.is_anomaly
    # The same file with its pass replaced by the untrimmed measurement: never trimmed.
    (data,) = parsed(path).tracks
    assert data.untrimmed is not None and data.trimmed is not None
    slope = np.polyfit(data.trimmed.positions, data.trimmed.errors, 1)[0]
    line = data.untrimmed.positions * slope
    untouched = dataclasses.replace(data.untrimmed, errors=line, sheet="SEC1 TRK1 1 TRM1")
    never = dataclasses.replace(
        data, trimmed=untouched, untrimmed=dataclasses.replace(data.untrimmed, errors=line * 1.02)
    )
    assert analyse_track(never).is_anomaly


def test_real_untrimmed_only_files_keep_the_straight_line_test() -> None:
    for name in UNTRIMMED_ONLY:
        path = IN_REPO / name
        (track,) = analyse_file(path).tracks
        assert track.untrimmed_only
        (data,) = parsed(path).tracks
        sheet = data.final
        assert sheet is not None
        expected = shape.is_anomaly(sheet.positions, sheet.errors, track.sigma_threshold)
        assert track.is_anomaly == expected
        # Made straight and wide, with no trim to contradict it: an anomaly.
        straight = dataclasses.replace(sheet, errors=sheet.positions * 0.002)
        assert analyse_track(dataclasses.replace(data, untrimmed=straight)).is_anomaly


def test_simulated_anomalies_carry_an_untouched_history(tmp_path: Path) -> None:
    """The simulator's "anomaly" units: every measurement is the same line (no false PASS +
    ANOMALY on units whose passes flattened the curve, as 8852 serial 274 once was)."""
    anomalies = 0
    for path in simulate_station(tmp_path, count=120, seed=2):
        for track in analyse_file(path).tracks:
            if track.untrimmed_only:
                continue  # no history: the straight-line test alone (test above)
            if track.is_anomaly:
                anomalies += 1
                assert track.trim is not None and abs(track.trim.improvement_pct) < 20
            elif track.curve is not None and track.curve.untrimmed_errors and track.passes:
                assert (
                    track.trim is None
                    or track.trim.improvement_pct > 20
                    or not (
                        shape.is_anomaly(
                            np.array(track.curve.positions),
                            np.array(track.curve.errors),
                            track.sigma_threshold,
                        )
                    )
                )
    assert anomalies >= 3
