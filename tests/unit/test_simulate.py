"""The trim-station simulator: reproducible files in the DOMAIN.md layouts, honest outcomes."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from python_calamine import CalamineWorkbook
from scipy.signal import butter, filtfilt

from agent.simulate import (
    OUTCOMES,
    TrackSpec,
    UnitSpec,
    file_name,
    simulate_station,
    simulate_unit,
    unit_sheets,
    write_unit,
)
from agent.simulate.units import sigma_gradient
from agent.simulate.writers import SYSTEM_A_HEADERS, excel_serial

START = datetime(2024, 11, 22, 8, 0)
MODEL_IN_NAME = re.compile(r"^\d{4,}(?:-[A-Za-z0-9]{1,3}(?![A-Za-z0-9]))*")


@pytest.fixture(scope="module")
def units() -> list[UnitSpec]:
    rng = np.random.default_rng(0)
    return [simulate_unit(rng, i, START) for i in range(300)]


def _first(units: list[UnitSpec], wanted: Callable[[UnitSpec], bool]) -> UnitSpec:
    return next(u for u in units if wanted(u))


def _read(path: Path) -> dict[str, list[list[Any]]]:
    book = CalamineWorkbook.from_path(str(path))
    return {
        name: book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        for name in book.sheet_names
    }


# --- reference verdicts (scipy + interval arithmetic, independent of the simulator) ---


def _sigma(x: np.ndarray, e: np.ndarray) -> float:
    b, a = butter(2, 0.1)
    f = filtfilt(b, a, e)
    if e.size >= 13:
        x, f = x[5:-5], f[5:-5]
    dx, df = np.diff(x), np.diff(f)
    keep = np.abs(dx) > 1e-6
    return float(np.std(df[keep] / dx[keep], ddof=1))


def _threshold(track: TrackSpec) -> float:
    spec = (np.nanmean(track.upper) - np.nanmean(track.lower)) / 2
    travel = track.positions.max() - track.positions.min()
    return max(spec / (24 * max(1.0, travel / 100)), 1e-4)


def _offset_window(track: TrackSpec, e: np.ndarray) -> tuple[float, float]:
    """Offsets c that put every point with limits inside its band (empty: low > high)."""
    has = np.isfinite(track.upper)
    return float(np.max(track.lower[has] - e[has])), float(np.min(track.upper[has] - e[has]))


def _margin(track: TrackSpec, e: np.ndarray) -> float:
    """Smallest distance to a limit as a share of band width, after the best offset."""
    low, high = _offset_window(track, e)
    c = min(max(-(e.max() + e.min()) / 2, low), high)
    has = np.isfinite(track.upper)
    shifted = e[has] + c
    width = track.upper[has] - track.lower[has]
    distance = np.minimum(track.upper[has] - shifted, shifted - track.lower[has])
    return float(np.min(distance / width))


def _line_r2(x: np.ndarray, e: np.ndarray) -> float:
    fit = np.polyval(np.polyfit(x, e, 1), x)
    return 1 - float(np.sum((e - fit) ** 2) / np.sum((e - e.mean()) ** 2))


# --- the model ---


def test_numpy_filter_matches_scipy() -> None:
    rng = np.random.default_rng(5)
    x = np.cumsum(rng.uniform(0.5, 1.5, 250))
    e = rng.normal(0, 1e-3, 250) + 1e-4 * x
    assert sigma_gradient(x, e) == pytest.approx(_sigma(x, e), rel=1e-9)


def test_outcome_mix_is_roughly_as_specified(units: list[UnitSpec]) -> None:
    share = {k: v / len(units) for k, v in Counter(u.outcome for u in units).items()}
    assert set(share) <= set(OUTCOMES)
    assert 0.60 <= share["pass"] <= 0.80
    assert 0.03 <= share.get("warning", 0) <= 0.14
    assert 0.05 <= share.get("fail", 0) <= 0.16
    assert 0.03 <= share.get("near_miss", 0) <= 0.12
    assert 0.0 < share.get("anomaly", 0) <= 0.07
    assert 0.0 < share.get("aborted", 0) <= 0.06
    system_a = [u for u in units if u.system == "A"]
    assert 0.5 <= len(system_a) / len(units) <= 0.7
    assert 0.1 <= sum(len(u.tracks) == 2 for u in system_a) / len(system_a) <= 0.35
    assert all(u.system == "A" for u in units if u.outcome == "aborted")
    assert all(len(u.tracks) == 1 for u in units if u.system == "B")


def test_tracks_are_shaped_like_station_data(units: list[UnitSpec]) -> None:
    for unit in units:
        for track in unit.tracks:
            x = track.positions
            assert 100 <= x.size <= 700
            assert np.all(np.diff(x) > 0)
            theory_fit = np.polyval(np.polyfit(x, track.theory, 1), x)
            assert np.max(np.abs(track.theory - theory_fit)) < 2e-6  # ideal straight line
            has = np.isfinite(track.upper)
            assert np.all(track.upper[has] > track.lower[has])
            assert track.untrimmed_ohms < track.trimmed_ohms
            # Untrimmed: far outside the band somewhere.
            assert np.max(np.abs(track.untrimmed_error[has]) / track.upper[has]) > 2


def test_trimmed_curves_give_the_intended_verdict(units: list[UnitSpec]) -> None:
    for unit in units:
        for track in unit.tracks:
            e = track.trimmed_error
            if track.outcome == "aborted":
                assert e is None
                continue
            assert e is not None
            x, thr = track.positions, _threshold(track)
            low, high = _offset_window(track, e)
            sigma = _sigma(x, e)
            spread = e.max() - e.min()
            anomalous = _line_r2(x, e) > 0.95 and spread > max(10 * thr, 0.02)
            context = f"{unit.model} {unit.serial} {track.outcome}"
            assert anomalous == (track.outcome == "anomaly"), context
            if track.outcome == "fail":
                assert low > high, context  # no constant offset brings every point inside
                continue
            if track.outcome == "anomaly":
                continue
            assert low <= high, context  # inside after no more than a constant offset
            margin = _margin(track, e)
            if track.outcome == "warning":
                assert sigma > thr, context
                assert margin >= 0.2, context
            elif track.outcome == "near_miss":
                assert sigma <= thr, context
                assert 0.0 <= margin <= 0.12, context
            else:
                assert sigma <= thr, context
                assert margin >= 0.2, context


def test_unit_times_advance_one_to_three_minutes(units: list[UnitSpec]) -> None:
    steps = np.diff([u.tested_at.timestamp() for u in units])
    assert steps.min() >= 60
    assert steps.max() <= 180


# --- layouts ---


def test_system_a_layout(units: list[UnitSpec], tmp_path: Path) -> None:
    unit = _first(units, lambda u: u.system == "A" and u.outcome != "aborted")
    track = unit.tracks[0]
    for fmt in ("xlsx", "xls"):
        path = tmp_path / f"unit.{fmt}"
        write_unit(unit, path, fmt)
        sheets = _read(path)
        expected = [f"SEC1 TRK{t.track} {kind}" for t in unit.tracks for kind in ("0", "TRM")]
        assert list(sheets) == expected
        for kind, errors, ohms in (
            ("0", track.untrimmed_error, track.untrimmed_ohms),
            ("TRM", track.trimmed_error, track.trimmed_ohms),
        ):
            assert errors is not None
            rows = sheets[f"SEC1 TRK1 {kind}"]
            assert {c: rows[0][c] for c in SYSTEM_A_HEADERS} == SYSTEM_A_HEADERS
            assert rows[0][1] == unit.model
            assert rows[1][1] == unit.serial
            assert rows[5][1] == pytest.approx(excel_serial(unit.tested_at))
            assert rows[6][1] == pytest.approx(unit.compensation)
            assert rows[7][1] == pytest.approx(track.nominal_angle)
            assert rows[8][1] == "NaN" or rows[8][1] == pytest.approx(track.measured_angle)
            assert rows[9][1] == pytest.approx(ohms)
            assert rows[12][1] == pytest.approx(unit.test_volts)
            assert len(rows) == track.positions.size + 1
            first, last = rows[1], rows[-1]
            assert first[7] == pytest.approx(track.positions[0])  # H position
            assert last[7] == pytest.approx(track.positions[-1])
            assert first[5] == pytest.approx(track.theory[0])  # F theory
            assert first[3] == pytest.approx(track.theory[0] + errors[0], abs=2e-6)  # D measured
            assert rows[-1][14] == pytest.approx(track.positions[-1] - track.positions[0])
            for i, row in enumerate(rows[1:]):
                has = np.isfinite(track.upper[i])
                assert (row[8] == "") == (not has)  # blank limit = empty cell
                if i not in track.blank_error_rows:
                    assert row[6] == pytest.approx(errors[i])
                    assert row[10] == int(not has or track.lower[i] <= errors[i] <= track.upper[i])


def test_system_b_layout(units: list[UnitSpec], tmp_path: Path) -> None:
    unit = _first(units, lambda u: u.system == "B" and bool(u.tracks[0].intermediate_errors))
    track = unit.tracks[0]
    assert track.trimmed_error is not None
    for fmt in ("xlsx", "xls"):
        path = tmp_path / f"unit.{fmt}"
        write_unit(unit, path, fmt)
        sheets = _read(path)
        trims = [f"Trim {k}" for k in range(1, len(track.intermediate_errors) + 1)]
        assert list(sheets) == ["test", *trims, "Lin Error", "Lin Chart", "Model Params"]
        test, final = sheets["test"], sheets["Lin Error"]
        for rows, errors in ((test, track.untrimmed_error), (final, track.trimmed_error)):
            assert len(rows) == track.positions.size  # no header row: data from row 0
            assert rows[0][4] == pytest.approx(track.positions[0])  # E position
            assert rows[0][2] == pytest.approx(track.theory[0])  # C theory
            assert rows[0][0] == pytest.approx(track.theory[0] + errors[0], abs=2e-6)
            assert rows[0][7] == pytest.approx(1.0)
            assert rows[-1][8] == pytest.approx(track.positions[-1] - track.positions[0])
        assert test[0][17] == pytest.approx(track.untrimmed_ohms)  # R1
        assert final[0][17] == pytest.approx(track.trimmed_ohms)
        assert test[0][10] == pytest.approx(track.measured_angle)  # K1
        assert final[0][11] == pytest.approx(track.nominal_angle)  # L1
        assert sheets["Lin Chart"][0][14] == pytest.approx(unit.compensation)  # O1


def test_two_track_unit_has_both_tracks(units: list[UnitSpec], tmp_path: Path) -> None:
    unit = _first(units, lambda u: len(u.tracks) == 2 and u.outcome != "aborted")
    path = tmp_path / "two.xlsx"
    write_unit(unit, path, "xlsx")
    assert set(_read(path)) == {"SEC1 TRK1 0", "SEC1 TRK1 TRM", "SEC1 TRK2 0", "SEC1 TRK2 TRM"}
    assert sum(t.outcome == unit.outcome for t in unit.tracks) >= 1


def test_aborted_unit_has_only_untrimmed_sheets(units: list[UnitSpec], tmp_path: Path) -> None:
    unit = _first(units, lambda u: u.outcome == "aborted")
    path = tmp_path / "aborted.xls"
    write_unit(unit, path, "xls")
    assert list(_read(path)) == [f"SEC1 TRK{t.track} 0" for t in unit.tracks]


def test_blank_error_cells_keep_measured_and_theory(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    unit = next(
        u
        for u in (simulate_unit(rng, i, START) for i in range(2000))
        if u.tracks[0].blank_error_rows
    )
    path = tmp_path / "blank.xlsx"
    write_unit(unit, path, "xlsx")
    sheet, error_col, offset = ("SEC1 TRK1 0", 6, 1) if unit.system == "A" else ("test", 3, 0)
    rows = _read(path)[sheet]
    for i in unit.tracks[0].blank_error_rows:
        row = rows[i + offset]
        assert row[error_col] == ""
        assert isinstance(row[error_col - 3], float)  # measured
        assert isinstance(row[error_col - 1], float)  # theory


def test_unknown_format_is_refused(units: list[UnitSpec], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown format"):
        write_unit(units[0], tmp_path / "x.csv", "csv")


def test_data_cells_are_numbers(units: list[UnitSpec]) -> None:
    for unit in units[:30]:
        for name, grid in unit_sheets(unit):
            if name in ("Lin Chart", "Model Params"):
                continue
            first_row, first_col = (1, 2) if unit.system == "A" else (0, 0)
            for row in grid[first_row:]:
                for cell in row[first_col:]:
                    assert cell is None or isinstance(cell, int | float), (name, cell)


# --- names and the station ---


def test_names_parse_and_stay_unique(units: list[UnitSpec]) -> None:
    rng = np.random.default_rng(3)
    taken: set[str] = set()
    names = [file_name(rng, unit, "xlsx", taken) for unit in units]
    assert len({n.lower() for n in names}) == len(names)
    forms: Counter[str] = Counter()
    for unit, name in zip(units, names, strict=True):
        parts = re.split(r"[_ ]", name.removesuffix(".xlsx"))
        model = next(MODEL_IN_NAME.match(p) for p in parts if re.match(r"\d{4}", p))
        assert model is not None, name
        if "_TA_Test Data_" in name:
            forms["station"] += 1
            assert model.group() == unit.model
            assert parts[1] == unit.serial
            assert f"{unit.tested_at.month}-{unit.tested_at.day}-{unit.tested_at.year}" in name
            if unit.system == "A":
                assert re.search(r"_\d{1,2}-\d\d [AP]M", name), name
        else:
            forms["short"] += 1
            assert unit.model.startswith(model.group()), name
            assert unit.serial.removeprefix("SN") in name
    assert forms["station"] > 0.8 * len(units)
    assert forms["short"] > 0


def test_colliding_names_get_a_copy_suffix(units: list[UnitSpec]) -> None:
    unit = _first(units, lambda u: u.system == "B")
    taken: set[str] = set()
    names = {file_name(np.random.default_rng(0), unit, "xls", taken) for _ in range(3)}
    assert len(names) == 3
    assert any(n.endswith(" (2).xls") for n in names)


def test_station_is_deterministic(tmp_path: Path) -> None:
    first = simulate_station(tmp_path / "one", 16, seed=11)
    second = simulate_station(tmp_path / "two", 16, seed=11)
    other = simulate_station(tmp_path / "three", 4, seed=12)
    assert [p.name for p in first] == [p.name for p in second]
    assert [p.name for p in other] != [p.name for p in first[:4]]
    suffixes = {p.suffix for p in first}
    assert suffixes == {".xls", ".xlsx"}
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()
        if a.suffix == ".xlsx":
            assert _read(a) == _read(b)
    # A longer run starts with the same files.
    assert [p.name for p in simulate_station(tmp_path / "four", 4, seed=11)] == [
        p.name for p in first[:4]
    ]


def test_station_writes_atomically_and_reports_each_file(tmp_path: Path) -> None:
    seen: list[Path] = []

    def on_file(path: Path) -> None:
        assert path.exists()
        assert not list(path.parent.glob("~$*"))
        seen.append(path)

    out = tmp_path / "new" / "folder"
    paths = simulate_station(out, 5, seed=2, on_file=on_file)
    assert seen == paths
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)


def test_station_paces_files(tmp_path: Path) -> None:
    started = time.monotonic()
    simulate_station(tmp_path, 3, seed=4, rate_per_minute=600)  # one file per 0.1 s
    assert time.monotonic() - started >= 0.2


def test_station_refuses_a_non_positive_rate(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="rate_per_minute"):
        simulate_station(tmp_path, 1, rate_per_minute=0)
