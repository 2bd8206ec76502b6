"""From a file on disk to a verdict, including every kind of bad input."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.analysis.file import analyse_content, analyse_file
from agent.analysis.track import _trim_effectiveness
from agent.isolation import IsolatedAnalyser
from agent.parsing.filenames import is_candidate
from agent.parsing.layout import SheetData
from shared.analysis_settings import AnalysisSettings, ModelOverride
from shared.errors import ErrorCode, NoteCode
from shared.models import Status
from tests.factories import (
    system_a_file,
    system_a_sheet,
    system_b_file,
    system_b_sheet,
    track_arrays,
    write_workbook,
)


def lin_error_file(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    return write_workbook(path, {"Lin Error": system_b_sheet(arrays)})


@pytest.mark.parametrize("suffix", [".xlsx", ".xls"])
def test_a_good_unit_passes_with_every_metric(tmp_path: Path, suffix: str) -> None:
    path = system_a_file(tmp_path / f"8340-1_SN1_TA_Test Data_11-22-2024{suffix}", tracks=2)
    result = analyse_file(path)
    assert result.status is Status.PASS
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert result.system == "A" and len(result.tracks) == 2
    track = result.tracks[0]
    assert track.points == 200 and track.fail_points == 0 and track.linearity_pass
    assert track.linearity_spec == pytest.approx(0.01)
    assert track.travel_length == pytest.approx(300.0)
    assert track.sigma_threshold == pytest.approx(0.01 / (24 * 3))
    assert track.margin_to_spec is not None and track.margin_to_spec > 20
    assert track.trim is not None and track.trim.improvement_pct > 50
    assert track.trim.resistance_change_ohms == pytest.approx(500.0)
    assert track.curve is not None and len(track.curve.errors) == 200


def test_points_outside_any_offset_fail(tmp_path: Path) -> None:
    arrays = track_arrays(n=100, spec=0.01)
    arrays["errors"][10] = 0.05
    arrays["errors"][60] = -0.05
    result = analyse_file(lin_error_file(tmp_path / "8340-1_SN2.xlsx", arrays))
    track = result.tracks[0]
    assert result.status is Status.FAIL and track.status is Status.FAIL
    assert track.fail_points == 2 and track.raw_fail_points == 2  # no shift rescues them
    assert track.max_violation > 0.02 and track.margin_to_spec is None


def test_an_offset_rescues_a_shifted_curve(tmp_path: Path) -> None:
    arrays = track_arrays(n=100, spec=0.01, noise=0.002)
    arrays["errors"] = arrays["errors"] + 0.0095
    track = analyse_file(lin_error_file(tmp_path / "8340-1_SN3.xlsx", arrays)).tracks[0]
    assert track.raw_fail_points > 0 and track.fail_points == 0
    assert track.optimal_offset == pytest.approx(-0.0095, abs=0.002)


def test_rough_trim_warns_and_near_miss_is_flagged(tmp_path: Path) -> None:
    arrays = track_arrays(n=300, spec=0.01, noise=0.0005)
    arrays["errors"] = arrays["errors"] + 0.008 * np.sin(np.arange(300) / 2.0)
    track = analyse_file(lin_error_file(tmp_path / "8340-1_SN4.xlsx", arrays)).tracks[0]
    assert track.status is Status.WARNING and not track.sigma_pass and track.linearity_pass
    assert track.near_miss


def test_untrimmed_straight_line_is_an_anomaly(tmp_path: Path) -> None:
    path = system_a_file(tmp_path / "8340-1_SN5.xlsx", trimmed=False)
    arrays = track_arrays(n=200, spec=0.2)
    arrays["errors"] = 0.0005 * arrays["positions"]
    path = lin_error_file(tmp_path / "8340-1_SN6.xlsx", arrays)
    track = analyse_file(path).tracks[0]
    assert track.is_anomaly
    result = analyse_file(system_a_file(tmp_path / "8340-1_SN7.xlsx", trimmed=False))
    assert result.tracks[0].untrimmed_only and result.tracks[0].trim is None


def test_model_overrides_change_threshold_and_supply_a_band(tmp_path: Path) -> None:
    arrays = track_arrays(n=100)
    arrays["upper"][:] = np.nan
    arrays["lower"][:] = np.nan
    path = lin_error_file(tmp_path / "8340-1_SN8.xlsx", arrays)
    plain = analyse_file(path).tracks[0]
    assert NoteCode.NO_LIMITS in [n.code for n in plain.notes]
    assert plain.linearity_spec == 0.01
    settings = AnalysisSettings(
        model_overrides={"8340": ModelOverride(sigma_threshold=1e-9, linearity_spec=0.0001)}
    )
    track = analyse_file(path, settings).tracks[0]
    assert track.sigma_threshold == 1e-9 and track.linearity_spec == 0.0001
    assert track.status is Status.FAIL  # the override band is far tighter than the curve
    assert track.curve is not None and track.curve.upper[0] == 0.0001


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", ErrorCode.UNREADABLE_FILE),
        (b"just some text, renamed", ErrorCode.UNREADABLE_FILE),
    ],
)
def test_unreadable_files(tmp_path: Path, content: bytes, code: ErrorCode) -> None:
    path = tmp_path / "8340-1_SN9.xlsx"
    path.write_bytes(content)
    result = analyse_file(path)
    assert result.status is Status.ERROR and result.error.code == code
    assert "8340-1_SN9.xlsx" in result.error.message


@pytest.mark.parametrize("suffix", [".xlsx", ".xls"])
def test_truncated_files(tmp_path: Path, suffix: str) -> None:
    good = system_a_file(tmp_path / f"good{suffix}")
    bad = tmp_path / f"8340-1_SN10{suffix}"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 3])
    result = analyse_file(bad)
    assert result.status is Status.ERROR and result.error.code == ErrorCode.UNREADABLE_FILE


def test_missing_file_and_size_cap(tmp_path: Path) -> None:
    assert analyse_file(tmp_path / "nope.xlsx").error.code == ErrorCode.FILE_NOT_FOUND
    path = system_b_file(tmp_path / "8340-1_SN11.xlsx")
    result = analyse_file(path, AnalysisSettings(max_file_bytes=1000))
    assert result.error.code == ErrorCode.TOO_LARGE and "MB" in result.error.message


def test_too_few_points_and_absurd_values(tmp_path: Path) -> None:
    short = analyse_file(lin_error_file(tmp_path / "8340-1_SN12.xlsx", track_arrays(n=9)))
    assert short.status is Status.ERROR
    assert short.error.code == ErrorCode.INSUFFICIENT_POINTS
    arrays = track_arrays(n=50)
    arrays["errors"][7] = 1e30
    absurd = analyse_file(lin_error_file(tmp_path / "8340-1_SN13.xlsx", arrays))
    assert absurd.error.code == ErrorCode.IMPLAUSIBLE_DATA
    arrays = track_arrays(n=50)
    arrays["positions"] = arrays["positions"][::-1].copy()
    backwards = analyse_file(lin_error_file(tmp_path / "8340-1_SN14.xlsx", arrays))
    assert backwards.error.code == ErrorCode.IMPLAUSIBLE_DATA


def test_small_data_quality_problems_are_notes_not_errors(tmp_path: Path) -> None:
    arrays = track_arrays(n=50)
    arrays["positions"][20] = arrays["positions"][19]
    arrays["upper"][30], arrays["lower"][30] = -0.01, 0.01
    track = analyse_file(lin_error_file(tmp_path / "8340-1_SN15.xlsx", arrays)).tracks[0]
    codes = [n.code for n in track.notes]
    assert NoteCode.POSITIONS_NOT_INCREASING in codes and NoteCode.LIMITS_SWAPPED in codes
    assert track.fail_points == 1  # the verdict follows the limits as written


def test_an_all_zero_error_column_was_not_measured_and_never_passes(tmp_path: Path) -> None:
    zeros = track_arrays(n=50)
    zeros["errors"][:] = 0.0
    zeros["measured"] = zeros["theory"].copy()
    result = analyse_file(lin_error_file(tmp_path / "8340-1_SN16.xlsx", zeros))
    assert result.status is Status.ERROR and result.error is not None
    assert result.error.code == ErrorCode.NOT_MEASURED
    assert result.tracks[0].error is not None and "Re-test" in result.tracks[0].error.message


def test_a_band_opened_to_148_volts_is_the_stations_spec_not_corruption(tmp_path: Path) -> None:
    arrays = track_arrays(n=120)
    arrays["upper"][60:90] = np.linspace(1.0, 148.0, 30)  # the band opens step by step
    arrays["lower"][60:90] = -np.linspace(1.0, 148.0, 30)
    arrays["errors"][75] += 0.5  # far outside the normal band, inside the opened one
    arrays["measured"] = arrays["theory"] + arrays["errors"]
    result = analyse_file(lin_error_file(tmp_path / "8888_SN1.xlsx", arrays))
    track = result.tracks[0]
    assert result.status in (Status.PASS, Status.WARNING) and track.fail_points == 0
    assert NoteCode.WIDE_LIMITS in [n.code for n in track.notes]
    arrays["upper"][70] = 1e9  # no spreadsheet of volts holds this: a mangled file
    corrupt = analyse_file(lin_error_file(tmp_path / "8888_SN2.xlsx", arrays))
    assert corrupt.error is not None and corrupt.error.code == ErrorCode.IMPLAUSIBLE_DATA


def test_one_bad_track_makes_the_file_an_error_but_keeps_the_other(tmp_path: Path) -> None:
    sheets = {"SEC1 TRK1 1 TRM1": [[None]], "SEC1 TRK2 1 TRM1": system_a_sheet(track_arrays())}
    result = analyse_file(write_workbook(tmp_path / "8340-1_SN17.xlsx", sheets))
    assert result.status is Status.ERROR and result.error.code == ErrorCode.NO_DATA
    assert result.tracks[1].status is Status.PASS


def test_skipped_files(tmp_path: Path) -> None:
    scrap = system_b_file(tmp_path / "8340-1_SN18_scrap.xlsx")
    assert analyse_file(scrap).status is Status.SKIPPED
    shop = write_workbook(tmp_path / "8340-1_SN19.xlsx", {"test": system_b_sheet(track_arrays())})
    result = analyse_file(shop)
    assert result.status is Status.SKIPPED and result.error.code == ErrorCode.NOT_TRIM_FILE


def test_candidates() -> None:
    assert is_candidate(Path("a.xlsx")) and is_candidate(Path("b.XLS"))
    assert not is_candidate(Path("~$a.xlsx")) and not is_candidate(Path("a.csv"))


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("pristine")
    return {
        suffix: system_a_file(folder / f"8340-1_SN20{suffix}", tracks=2).read_bytes()
        for suffix in (".xlsx", ".xls")
    }


@pytest.fixture(scope="module")
def analyser() -> Iterator[IsolatedAnalyser]:
    with IsolatedAnalyser(AnalysisSettings(), start_method="fork") as isolated:
        yield isolated


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    suffix=st.sampled_from([".xlsx", ".xls"]),
    where=st.floats(0.0, 1.0),
    junk=st.binary(min_size=1, max_size=64),
    cut=st.booleans(),
)
def test_corrupt_bytes_never_raise(
    tmp_path: Path,
    pristine: dict[str, bytes],
    analyser: IsolatedAnalyser,
    suffix: str,
    where: float,
    junk: bytes,
    cut: bool,
) -> None:
    """The product path (a supervised worker): corrupt bytes give a verdict, never a crash."""
    data = bytearray(pristine[suffix])
    at = int(where * (len(data) - 1))
    data = data[:at] if cut else data[:at] + junk + data[at + len(junk) :]
    path = tmp_path / f"8340-1_SN21{suffix}"
    path.write_bytes(bytes(data))
    result = analyser.analyse(path, path.read_bytes())
    assert result.status in set(Status)
    assert result.error is None or result.error.code != ErrorCode.INTERNAL_ERROR


def test_trim_figures_of_overflowing_values_are_left_out_not_an_internal_error() -> None:
    """Hypothesis found a corrupt .xls whose untrimmed errors square to infinity."""

    def sheet(errors: list[float], resistance: float | None) -> SheetData:
        values = np.array(errors)
        limit = np.full(values.size, 0.01)
        return SheetData(
            positions=np.arange(values.size, dtype=float),
            errors=values,
            upper=limit,
            lower=-limit,
            resistance=resistance,
        )

    trimmed = sheet([0.001, -0.002, 0.001], 1000.0)
    assert _trim_effectiveness(sheet([1e200, -1e200, 3.0], 500.0), trimmed) is None
    figures = _trim_effectiveness(
        sheet([0.01, 0.02, -0.01], -1.7e308), sheet([0.0, 0.001], 1.7e308)
    )
    assert figures is not None
    assert figures.resistance_change_ohms is None and figures.resistance_change_pct is None
    assert figures.improvement_pct is not None and figures.improvement_pct > 0


def test_a_callers_digest_is_used_and_otherwise_taken_here(tmp_path: Path) -> None:
    """The watcher hands its SHA-256 on, so a file is hashed once on its way to a verdict."""
    path = system_a_file(tmp_path / "8340-1_SN77_TA_Test Data_1-2-2025.xlsx", tracks=2)
    content = path.read_bytes()
    own = analyse_content(path, content)
    assert own.sha256 == hashlib.sha256(content).hexdigest()
    handed = analyse_content(path, content, sha256=own.sha256)
    assert handed.sha256 == own.sha256
    assert handed.model_dump(exclude={"analysed_at"}) == own.model_dump(exclude={"analysed_at"})
