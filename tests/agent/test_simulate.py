"""The trim-station simulator: reproducible files in the real stations' layouts, honest outcomes."""

from __future__ import annotations

import itertools
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
from agent.simulate.system_a import DATA_HEADERS, METADATA_LABELS
from agent.simulate.verdicts import sigma_gradient

START = datetime(2024, 11, 22, 8, 0)
A_PREFIX = [
    "Model Parameters", "Track Parameters", "Trim Parameters", "Notes", "Process", "ref",
    "Stats", "Report", "Report Data",
]  # fmt: skip


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
            assert 17 <= x.size <= 341
            assert np.all(np.diff(x) > 0)
            theory_fit = np.polyval(np.polyfit(x, track.theory, 1), x)
            assert np.max(np.abs(track.theory - theory_fit)) < 2e-6  # ideal straight line
            has = np.isfinite(track.upper)
            assert np.all(track.upper[has] > track.lower[has])
            assert track.untrimmed_ohms < track.trimmed_ohms or not track.pass_errors
            if track.outcome == "anomaly":  # never trimmed: the untrimmed line is the final one
                final = track.pass_errors[-1]
                assert np.allclose(track.untrimmed_error, 1.05 * final, atol=1e-3 * np.ptp(final))
                continue
            # Untrimmed: far outside the band somewhere.
            assert np.max(np.abs(track.untrimmed_error[has]) / track.upper[has]) > 2


def test_passes_improve_one_after_another(units: list[UnitSpec]) -> None:
    counts: Counter[int] = Counter()
    for unit in units:
        for track in unit.tracks:
            counts[len(track.pass_errors)] += 1
            worst = [np.max(np.abs(e)) for e in (track.untrimmed_error, *track.pass_errors)]
            assert all(a > b for a, b in itertools.pairwise(worst)), unit.model
            ohms = [track.untrimmed_ohms, *track.pass_ohms]
            assert all(a < b for a, b in itertools.pairwise(ohms)), unit.model
            assert len(track.pass_errors) <= unit.info.max_passes
    assert counts[1] > counts[2] > counts[3] > 0  # most units need one pass, some more
    assert counts[0] > 0  # aborted: untrimmed only


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


def _system_a_names(unit: UnitSpec) -> list[str]:
    names = list(A_PREFIX)
    for t in unit.tracks:
        names.append(f"SEC1 TRK{t.track} 0")
        names += [f"SEC1 TRK{t.track} {k} TRM1" for k in range(1, len(t.pass_errors) + 1)]
    return names


def test_system_a_layout(units: list[UnitSpec], tmp_path: Path) -> None:
    unit = _first(units, lambda u: u.system == "A" and len(u.tracks[0].pass_errors) >= 2)
    track = unit.tracks[0]
    for fmt in ("xlsx", "xls"):
        path = tmp_path / f"unit.{fmt}"
        write_unit(unit, path, fmt)
        sheets = _read(path)
        assert list(sheets) == _system_a_names(unit)
        stages = [("0", track.untrimmed_error, track.untrimmed_ohms)]
        stages += [
            (f"{k} TRM1", e, ohms)
            for k, (e, ohms) in enumerate(zip(track.pass_errors, track.pass_ohms, strict=True), 1)
        ]
        for suffix, errors, ohms in stages:
            rows = sheets[f"SEC1 TRK1 {suffix}"]
            assert rows[0][3:20] == list(DATA_HEADERS)
            assert [r[0] for r in rows[:26]] == list(METADATA_LABELS)
            assert rows[0][1] == unit.model
            if not track.template_metadata or suffix != "0":
                assert str(rows[1][1]).removesuffix(".0") == unit.serial
                assert rows[2][1] == "SEC1" and rows[3][1] == "TRK1"
                assert rows[13][1] == track.positions.size
            assert rows[4][1] == ("" if suffix == "0" else "TRM1")
            assert rows[5][1] == unit.tested_at.date()  # an Excel date
            assert rows[7][1] == pytest.approx(track.nominal_angle)
            assert rows[8][1] == "NaN" or rows[8][1] == pytest.approx(track.measured_angle)
            assert rows[9][1] == pytest.approx(ohms)
            assert rows[12][1] == pytest.approx(unit.test_volts)
            n = track.positions.size
            data = rows[1 : n + 1]
            assert data[0][7] == pytest.approx(track.positions[0])  # H position
            assert data[-1][7] == pytest.approx(track.positions[-1])
            assert all(r[7] == "" for r in rows[n + 1 :])  # rows after the last point
            for i, row in enumerate(data):
                assert row[5] == pytest.approx(track.theory[i])  # F theory
                assert row[14] == pytest.approx(track.positions[i] - track.positions[0])
                has = np.isfinite(track.upper[i])
                assert (row[8] == "") == (not has)  # blank limit = empty cell
                if i in track.blank_error_rows:
                    assert row[6] == "" and isinstance(row[3], float)
                    continue
                assert row[6] == pytest.approx(errors[i])
                assert row[6] == pytest.approx(row[3] - row[5], abs=1e-9)  # G = D - F
                outside = has and not track.lower[i] <= errors[i] <= track.upper[i]
                assert (row[10] != "") == outside  # K: the error of points outside only
        final = sheets[f"SEC1 TRK1 {len(track.pass_errors)} TRM1"]
        assert [r[6] for r in final[1 : track.positions.size + 1] if r[6] != ""] == pytest.approx(
            [e for i, e in enumerate(track.trimmed_error) if i not in track.blank_error_rows]
        )


def test_system_a_parameter_sheets(units: list[UnitSpec], tmp_path: Path) -> None:
    unit = _first(units, lambda u: len(u.tracks) == 2 and u.outcome != "aborted")
    path = tmp_path / "two.xls"
    write_unit(unit, path, "xls")
    sheets = _read(path)
    model = {r[0]: r[1] for r in sheets["Model Parameters"]}
    assert model == {
        "Model": unit.model, "Type": "Rotary", "# of Sections": 1.0, "# of Tracks": 2.0,
        "X-Axis Current Limit": 2.3, "Y-Axis Current Limit": 0.3,
        "A-Axis Current Limit": 2.3, "Z-Axis Current Limit": 2.3,
    }  # fmt: skip
    tracks = {r[0]: r[1:3] for r in sheets["Track Parameters"]}
    assert tracks["TRACK PARAMETERS"] == ["SEC1-TRK1", "SEC1-TRK2"]
    assert tracks["Length Theoretical"] == [t.nominal_angle for t in unit.tracks]
    assert tracks["# of Lin Positions"] == [float(t.positions.size) for t in unit.tracks]
    low, high = unit.info.final_ohm_limits
    assert tracks["Final Resistance Lower Limit"] == [low, low]
    assert tracks["Final Resistance Upper Limit"] == [high, high]
    assert ("Length Maximum" in tracks) != ("Length Mamimum" in tracks)
    trims = {r[0]: r[1:3] for r in sheets["Trim Parameters"]}
    assert trims["TRIM PARAMETERS"] == ["SEC1-TRK1-TRM1", "SEC1-TRK2-TRM1"]
    first, last = unit.info.ignored
    assert trims["Initial Linearity Points Ignored"] == [float(first)] * 2
    assert trims["Final Linearity Points Ignored"] == [float(last)] * 2


def test_both_length_maximum_spellings_occur(units: list[UnitSpec]) -> None:
    labels = set()
    for unit in units:
        if unit.system == "A":
            grid = dict(unit_sheets(unit))["Track Parameters"]
            labels |= {row[0] for row in grid if str(row[0]).startswith("Length M")}
    assert labels == {"Length Minimum", "Length Maximum", "Length Mamimum"}


def test_wide_band_model_opens_to_148_volts(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    unit = next(u for u in (simulate_unit(rng, i, START) for i in range(3000)) if u.model == "8888")
    upper = unit.tracks[0].upper
    assert np.nanmax(upper) == 148.0 and np.nanmin(upper) == unit.info.spec
    steps = np.unique(upper)
    assert len(steps) >= 5  # opens step by step, not at once
    assert unit.outcome in {"pass", "fail", "aborted"}


def test_system_b_layout(units: list[UnitSpec], tmp_path: Path) -> None:
    unit = _first(units, lambda u: u.system == "B" and len(u.tracks[0].pass_errors) >= 2)
    track = unit.tracks[0]
    assert track.trimmed_error is not None
    passes = len(track.pass_errors)
    for fmt in ("xlsx", "xls"):
        path = tmp_path / f"unit.{fmt}"
        write_unit(unit, path, fmt)
        sheets = _read(path)
        middle = [n for k in range(1, passes + 1) for n in (f"TrimVolts{k}", f"Trim {k}")]
        assert list(sheets) == [
            "Model Parameters", "Trim Parameters", "Lin Error", "Lin Chart", "test", "hold",
            "Sheet1", *middle, "VOLTAGES", "ERRORS", "TRIMDATA",
        ]  # fmt: skip
        n = track.positions.size
        test, final = sheets["test"], sheets["Lin Error"]
        assert len(final) > len(test) >= n  # the trimmed sheet runs on below the data
        assert all(r[4] == "" for r in final[n:])
        for rows, errors in ((test, track.untrimmed_error), (final, track.trimmed_error)):
            assert rows[0][4] == pytest.approx(track.positions[0])  # E position
            assert rows[0][2] == pytest.approx(track.theory[0])  # C theory
            assert rows[n - 1][3] == pytest.approx(errors[-1])  # D error
            assert rows[n - 1][0] == pytest.approx(track.theory[-1] + errors[-1], abs=1e-6)
            assert rows[0][7] == pytest.approx(1.0)
            assert rows[n - 1][8] == pytest.approx(track.positions[-1] - track.positions[0])
        assert [r[:9] for r in final[:n]] == [r[:9] for r in sheets[f"Trim {passes}"][:n]]
        assert test[0][17] == pytest.approx(track.untrimmed_ohms)  # R1
        assert final[0][17] == pytest.approx(track.trimmed_ohms)
        if np.isfinite(track.measured_angle):
            assert test[0][10] == pytest.approx(track.measured_angle)  # K1
        assert final[0][11] == pytest.approx(track.nominal_angle)  # L1
        assert sheets["Lin Chart"][0][14] == pytest.approx(unit.compensation)  # O1
        params = {r[1]: r[0] for r in sheets["Model Parameters"]}
        assert params["Model number"] == unit.model and params["Pot Type"] == "Linear"
        assert params["Max resistance"] == unit.info.final_ohm_limits[1]
        assert params["Initial Points Ignored"] == float(unit.info.ignored[0])
        errors_sheet = sheets["ERRORS"]
        assert len(errors_sheet) == n and len(errors_sheet[0]) == passes + 1


def test_two_track_unit_has_both_tracks(units: list[UnitSpec], tmp_path: Path) -> None:
    unit = _first(units, lambda u: len(u.tracks) == 2 and u.outcome != "aborted")
    path = tmp_path / "two.xlsx"
    write_unit(unit, path, "xlsx")
    names = list(_read(path))
    assert names == _system_a_names(unit)
    assert {"SEC1 TRK1 0", "SEC1 TRK1 1 TRM1", "SEC1 TRK2 0", "SEC1 TRK2 1 TRM1"} <= set(names)
    assert sum(t.outcome == unit.outcome for t in unit.tracks) >= 1


def test_aborted_unit_has_only_untrimmed_sheets(units: list[UnitSpec], tmp_path: Path) -> None:
    unit = _first(units, lambda u: u.outcome == "aborted")
    path = tmp_path / "aborted.xls"
    write_unit(unit, path, "xls")
    assert list(_read(path)) == [*A_PREFIX, *(f"SEC1 TRK{t.track} 0" for t in unit.tracks)]


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


def test_first_error_cell_is_sometimes_blank(units: list[UnitSpec]) -> None:
    assert any(t.blank_error_rows == (0,) for u in units for t in u.tracks)


def test_unknown_format_is_refused(units: list[UnitSpec], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown format"):
        write_unit(units[0], tmp_path / "x.csv", "csv")


def test_data_cells_are_numbers(units: list[UnitSpec]) -> None:
    for unit in units[:30]:
        for name, grid in unit_sheets(unit):
            if unit.system == "A" and name.startswith("SEC1"):
                block = [row[3:10] for row in grid[1 : unit.tracks[0].positions.size + 1]]
            elif unit.system == "B" and re.fullmatch(r"test|Lin Error|Trim \d+", name):
                block = [row[:9] for row in grid[: unit.tracks[0].positions.size]]
            else:
                continue
            for row in block:
                for cell in row:
                    assert cell is None or isinstance(cell, float), (name, cell)


# --- names and the station ---


def test_names_parse_and_stay_unique(units: list[UnitSpec]) -> None:
    rng = np.random.default_rng(3)
    taken: set[str] = set()
    names = [file_name(rng, unit, "xlsx", taken) for unit in units]
    assert len({n.lower() for n in names}) == len(names)
    forms: Counter[str] = Counter()
    for unit, name in zip(units, names, strict=True):
        parts = re.split(r"[_ ]", name.removesuffix(".xlsx"))
        day = f"{unit.tested_at.month}-{unit.tested_at.day}-{unit.tested_at.year}"
        if "Test Data" in name or "TEST DATA" in name:
            forms[unit.system] += 1
            assert parts[0] == unit.model and parts[1] == unit.serial, name
            assert f"_{day}_" in name
            if unit.system == "A":
                assert re.fullmatch(r".+_TEST DATA_[\d-]+_\d{1,2}-\d\d [AP]M\.xlsx", name), name
            else:
                assert name.endswith(" AMTrimmed Correct.xlsx") or name.endswith(
                    " PMTrimmed Correct.xlsx"
                )
                assert parts[2] == "TA"
        else:
            forms["short"] += 1
            assert re.fullmatch(r"\d{4}[A-Z]?sn\d+\.xlsx", name), name
            assert unit.model.startswith(name[:4]) and unit.serial in name
    assert forms["A"] + forms["B"] > 0.9 * len(units)
    assert forms["A"] > 0 and forms["B"] > 0 and forms["short"] > 0


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
