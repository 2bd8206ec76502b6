"""Readers on real workbooks written by the tests, both .xlsx and .xls."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from agent.parsing.filenames import not_trim_reason, parse_file_name
from agent.parsing.reader import parse_workbook
from shared.errors import ErrorCode, FileSkipped, InputFileError, NoteCode
from tests.factories import (
    system_a_file,
    system_a_sheet,
    system_b_file,
    system_b_sheet,
    track_arrays,
    write_workbook,
)

SUFFIXES = [".xlsx", ".xls"]


def parse(path: Path, max_rows: int = 100_000):
    return parse_workbook(path, path.read_bytes(), max_rows)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_system_a_reads_tracks_metadata_and_resistances(tmp_path: Path, suffix: str) -> None:
    path = system_a_file(tmp_path / f"8340-1_SN1_TA_Test Data_11-22-2024_9-08 AM{suffix}", tracks=2)
    parsed = parse(path)
    assert parsed.system == "A"
    assert (parsed.model, parsed.serial) == ("8340-1", "SN100")  # sheet beats name
    assert parsed.test_date == datetime(2024, 11, 22, 9, 8)  # the name carries the time
    assert [t.track_id for t in parsed.tracks] == ["TRK1", "TRK2"]
    track = parsed.tracks[0]
    assert track.trimmed is not None and track.untrimmed is not None
    assert track.trimmed.resistance == 10000.0
    assert track.untrimmed.resistance == 9500.0
    expected = track_arrays(seed=1)
    np.testing.assert_allclose(track.trimmed.positions, expected["positions"])
    np.testing.assert_allclose(track.trimmed.errors, expected["errors"])
    np.testing.assert_allclose(track.trimmed.upper, expected["upper"])


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_system_a_untrimmed_only_track_is_analysed_and_flagged(tmp_path: Path, suffix: str) -> None:
    parsed = parse(system_a_file(tmp_path / f"8340-1_SN2{suffix}", trimmed=False))
    track = parsed.tracks[0]
    assert track.trimmed is None and track.untrimmed is not None
    assert NoteCode.UNTRIMMED_ONLY in [n.code for n in track.notes]


def test_system_a_metadata_date_used_when_the_name_has_none(tmp_path: Path) -> None:
    parsed = parse(system_a_file(tmp_path / "8340sn209.xlsx", model=None, serial=None))
    assert (parsed.model, parsed.serial) == ("8340", "209")
    assert parsed.test_date == datetime(2024, 11, 22, 9, 0)  # Excel serial 45618.375


def test_old_style_trimmed_sheet_name(tmp_path: Path) -> None:
    arrays = track_arrays()
    path = write_workbook(tmp_path / "8340-1_SN3.xls", {"TRK1 TRM1": system_a_sheet(arrays)})
    parsed = parse(path)
    assert parsed.system == "A" and parsed.tracks[0].trimmed is not None


def test_system_a_final_is_the_highest_pass_workbook_order_breaking_ties(
    tmp_path: Path,
) -> None:
    data = {k: track_arrays(seed=k) for k in range(1, 5)}
    sheets = {
        "Model Parameters": [["Model", "8340"], ["Type", "Rotary"]],
        "Report Data": system_a_sheet(track_arrays(seed=30)),  # never a measurement
        "ref": system_a_sheet(track_arrays(seed=31)),
        "SEC1 TRK1 0": system_a_sheet(track_arrays(seed=20, noise=0.05)),
        "SEC1 TRK1 2 TRM1": system_a_sheet(data[2]),
        "SEC1 TRK1 1 TRM1": system_a_sheet(data[1]),
        "SEC1 TRK1 2 TRM2": system_a_sheet(data[3]),  # same pass, later sheet: final
        "SEC1 TRK2 0": system_a_sheet(track_arrays(seed=21, noise=0.05)),
        "SEC1 TRK2 TRM": system_a_sheet(data[4]),  # an older station's name
    }
    parsed = parse(write_workbook(tmp_path / "8340-1_SN40.xlsx", sheets))
    one, two = parsed.tracks
    assert [(p.number, p.sheet, p.trim_set) for p in one.passes] == [
        (0, "SEC1 TRK1 0", None),
        (1, "SEC1 TRK1 1 TRM1", 1),
        (2, "SEC1 TRK1 2 TRM1", 1),
        (2, "SEC1 TRK1 2 TRM2", 2),
    ]
    assert one.trimmed is not None and one.trimmed.sheet == "SEC1 TRK1 2 TRM2"
    np.testing.assert_allclose(one.trimmed.errors, data[3]["errors"])
    assert two.trimmed is not None and two.trimmed.sheet == "SEC1 TRK2 TRM"
    assert one.facts.pot_type == "rotary"


def test_an_unreadable_intermediate_pass_is_kept_with_its_error(tmp_path: Path) -> None:
    sheets = {
        "SEC1 TRK1 0": system_a_sheet(track_arrays(seed=20, noise=0.05)),
        "SEC1 TRK1 1 TRM1": [["model#", "8340"], ["shop#", "1"]],
        "SEC1 TRK1 2 TRM1": system_a_sheet(track_arrays(seed=2)),
    }
    track = parse(write_workbook(tmp_path / "8340-1_SN41.xlsx", sheets)).tracks[0]
    assert [p.data is None for p in track.passes] == [False, True, False]
    assert track.passes[1].error is not None
    assert NoteCode.PASS_UNREADABLE in [n.code for n in track.notes]


def test_system_b_work_sheets_are_not_measurements(tmp_path: Path) -> None:
    sheets = {
        "Model Parameters": [["8340-1", "Model number"], ["Linear", "Pot Type"]],
        "Lin Error": system_b_sheet(track_arrays(seed=6)),
        "test": system_b_sheet(track_arrays(seed=5, noise=0.05), resistance=4800.0),
        "TrimVolts1": system_b_sheet(track_arrays(seed=7)),
        "Trim 1": system_b_sheet(track_arrays(seed=8)),
        "VOLTAGES": system_b_sheet(track_arrays(seed=9)),
        "ERRORS": system_b_sheet(track_arrays(seed=10)),
        "TRIMDATA": system_b_sheet(track_arrays(seed=11)),
    }
    parsed = parse(write_workbook(tmp_path / "8340-1_SN42.xlsx", sheets))
    track = parsed.tracks[0]
    assert [p.sheet for p in track.passes] == ["test", "Trim 1", "Lin Error"]
    assert parsed.model == "8340-1" and track.facts.pot_type == "linear"


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_system_b_reads_final_and_untrimmed(tmp_path: Path, suffix: str) -> None:
    parsed = parse(system_b_file(tmp_path / f"1844202_10_TA_Test Data_11-22-2024{suffix}"))
    assert parsed.system == "B"
    assert (parsed.model, parsed.serial) == ("1844202", "10")
    track = parsed.tracks[0]
    assert track.trimmed is not None and track.trimmed.resistance == 5000.0
    assert track.untrimmed is not None and track.untrimmed.resistance == 4800.0
    np.testing.assert_allclose(track.trimmed.errors, track_arrays(seed=6)["errors"])


def test_system_b_without_lin_error_uses_the_last_trim_pass(tmp_path: Path) -> None:
    last = track_arrays(seed=9)
    sheets = {
        "test": system_b_sheet(track_arrays(seed=5, noise=0.05)),
        "Trim 1": system_b_sheet(track_arrays(seed=8)),
        "Trim 2": system_b_sheet(last),
    }
    parsed = parse(write_workbook(tmp_path / "1844202_11.xlsx", sheets))
    track = parsed.tracks[0]
    np.testing.assert_allclose(track.trimmed.errors, last["errors"])
    assert NoteCode.INTERMEDIATE_TRIM_USED in [n.code for n in track.notes]


def test_shop_test_file_is_skipped(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "1844202_12.xlsx", {"test": system_b_sheet(track_arrays())})
    with pytest.raises(FileSkipped, match="Final Test"):
        parse(path)


def test_blank_errors_are_computed_or_dropped_and_text_is_blank(tmp_path: Path) -> None:
    arrays = track_arrays(n=50)
    rows = system_b_sheet(arrays)
    rows[3][3] = None  # error blank, measured and theory present: computed
    rows[4][3] = None
    rows[4][0] = "#VALUE!"  # and measured unusable: point dropped
    rows[5][5] = "n/a"  # text limit: blank, no spec at this point
    parsed = parse(write_workbook(tmp_path / "8340-1_SN5.xlsx", {"Lin Error": rows}))
    sheet = parsed.tracks[0].trimmed
    assert sheet.positions.size == 49
    assert sheet.errors[3] == pytest.approx(arrays["measured"][3] - arrays["theory"][3])
    assert np.isnan(sheet.upper[4])  # row 5 moved up by the dropped row 4
    codes = [n.code for n in sheet.notes]
    assert NoteCode.ERROR_COMPUTED in codes
    assert NoteCode.POINTS_DROPPED in codes
    assert NoteCode.BLANK_OR_TEXT_CELLS in codes


def test_data_stop_at_the_first_blank_position(tmp_path: Path) -> None:
    arrays = track_arrays(n=40)
    rows = system_b_sheet(arrays)
    rows[30][4] = "NaN"
    parsed = parse(write_workbook(tmp_path / "8340-1_SN6.xls", {"Lin Error": rows}))
    assert parsed.tracks[0].trimmed.positions.size == 30


def test_whole_number_positions_are_numbers(tmp_path: Path) -> None:
    arrays = track_arrays(n=30)
    arrays["positions"] = np.arange(30, dtype=float)
    rows = system_b_sheet(arrays)
    for row in rows:
        row[4] = int(row[4])
    parsed = parse(write_workbook(tmp_path / "8340-1_SN7.xlsx", {"Lin Error": rows}))
    np.testing.assert_array_equal(parsed.tracks[0].trimmed.positions, np.arange(30.0))


@pytest.mark.parametrize(
    ("sheets", "code"),
    [
        ({"Sheet1": [[1.0, 2.0]]}, ErrorCode.UNKNOWN_LAYOUT),
        (
            {"Lin Error": [["a", "b", "c", "d", "text"] for _ in range(30)]},
            ErrorCode.UNKNOWN_LAYOUT,
        ),
    ],
)
def test_unknown_layouts(tmp_path: Path, sheets: dict, code: ErrorCode) -> None:
    with pytest.raises(InputFileError) as info:
        parse(write_workbook(tmp_path / "8340-1_SN8.xlsx", sheets))
    assert info.value.code == code


def test_empty_sheet_is_no_data_for_that_track(tmp_path: Path) -> None:
    sheets = {"SEC1 TRK1 TRM": [[None]], "SEC1 TRK2 TRM": system_a_sheet(track_arrays())}
    parsed = parse(write_workbook(tmp_path / "8340-1_SN9.xlsx", sheets))
    assert parsed.tracks[0].error is not None
    assert parsed.tracks[0].error.code == ErrorCode.NO_DATA
    assert parsed.tracks[1].error is None


def test_row_cap(tmp_path: Path) -> None:
    path = system_b_file(tmp_path / "8340-1_SN10.xlsx")
    with pytest.raises(InputFileError) as info:
        parse(path, max_rows=50)
    assert info.value.code == ErrorCode.TOO_LARGE


@pytest.mark.parametrize(
    ("name", "model", "serial", "date"),
    [
        (
            "8340-1_SN12345_TA_Test Data_11-22-2024_9-08 AM.xls",
            "8340-1",
            "SN12345",
            datetime(2024, 11, 22, 9, 8),
        ),
        ("1844202_10_TA_Test Data_11-22-2024.xlsx", "1844202", "10", datetime(2024, 11, 22)),
        ("8340sn209.xls", "8340", "209", None),
        ("8397-2_ SN10_ date.xlsx", "8397-2", "SN10", None),
        (
            "8444-shop0_12-7-2021 10-14-41 AM.xlsx",
            "8444",
            "shop0",
            datetime(2021, 12, 7, 10, 14, 41),
        ),
        (
            "7280-1-CT_2B_TA_Test Data_2024-03-05_1-05 PM.xlsx",
            "7280-1-CT",
            "2B",
            datetime(2024, 3, 5, 13, 5),
        ),
        ("6828-1A_SN5.xls", "6828-1A", "SN5", None),
        ("2024-03-05_8340-1_SN4.xlsx", "8340-1", "SN4", datetime(2024, 3, 5)),
        ("report.xlsx", None, None, None),
        ("8340-1_SN1_13-45-2024.xlsx", "8340-1", "SN1", None),  # impossible date ignored
        (  # real System B names glue the next word onto the meridiem
            "8340-1_90_TA_Test Data_4-17-2025_2-16 PMTrimmed Correct.xls",
            "8340-1",
            "90",
            datetime(2025, 4, 17, 14, 16),
        ),
        ("8340-1_3_1-1-2024_3-00PM.xls", "8340-1", "3", datetime(2024, 1, 1, 15, 0)),
        ("8340-1_4_1-1-2024_3-00 pmreport.xls", "8340-1", "4", datetime(2024, 1, 1, 3, 0)),
    ],
)
def test_file_names(
    name: str, model: str | None, serial: str | None, date: datetime | None
) -> None:
    info = parse_file_name(name)
    assert (info.model, info.serial, info.test_date) == (model, serial, date)


@pytest.mark.parametrize("name", ["8340-1_SN1_scrap.xlsx", "Noise 8340.xls", "smoothness_1.xlsx"])
def test_not_trim_names(name: str) -> None:
    assert not_trim_reason(name)


def test_trim_names_are_not_skipped() -> None:
    assert not_trim_reason("8340-1_SN12345_TA_Test Data_11-22-2024.xlsx") is None
