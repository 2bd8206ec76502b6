"""A file that kills the reader costs only itself: Error verdict, fresh worker, next file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.batch import analyse_paths
from agent.isolation import IsolatedAnalyser
from shared.analysis_settings import AnalysisSettings
from shared.errors import ErrorCode
from shared.models import Status
from tests.factories import (
    system_a_file,
    system_a_sheet,
    system_b_file,
    track_arrays,
    write_workbook,
)

# Four bytes that, written into this two-track .xls, give a BIFF/CFB size field
# a value for which the Rust reader requests ~160 TB and aborts the process
# (found by fuzzing; the .xls format has no checksum to catch it). The offset
# belongs to exactly these bytes: the workbook is the one the fuzzer ran on.
CRASH_OFFSET = 78191
CRASH_BYTES = bytes.fromhex("da2b0000")
FUZZED_HEADER = [
    *("Meas V", "Index", "Theory V", "Error", "Position", "Upper", "Lower", "Pass", "Target"),
    *(None, None, "Travel"),
]
FUZZED_LABELS = {
    0: "Model",
    1: "Serial",
    5: "Date",
    6: "Comp",
    7: "Nom Angle",
    8: "Meas Angle",
    9: "Resistance",
    12: "Test Volts",
}


def _fuzzed_workbook(path: Path) -> Path:
    layout: dict[str, Any] = {"header": FUZZED_HEADER, "labels": FUZZED_LABELS}
    sheets = {}
    for t in (1, 2):
        untrimmed = track_arrays(seed=10 + t, noise=0.05)
        sheets[f"SEC1 TRK{t} 0"] = system_a_sheet(untrimmed, resistance=9500.0, **layout)
        sheets[f"SEC1 TRK{t} TRM"] = system_a_sheet(track_arrays(seed=t), **layout)
    return write_workbook(path, sheets)


@pytest.fixture
def crashing_xls(tmp_path: Path) -> Path:
    path = _fuzzed_workbook(tmp_path / "8340-1_SN666_TA_Test Data_11-22-2024.xls")
    data = bytearray(path.read_bytes())
    data[CRASH_OFFSET : CRASH_OFFSET + len(CRASH_BYTES)] = CRASH_BYTES
    path.write_bytes(bytes(data))
    return path


def test_a_reader_crash_is_an_error_and_the_next_file_is_analysed(
    tmp_path: Path, crashing_xls: Path
) -> None:
    good = system_b_file(tmp_path / "1844202_1_TA_Test Data_11-22-2024.xlsx")
    with IsolatedAnalyser(AnalysisSettings(), start_method="fork") as analyser:
        crashed = analyser.analyse(crashing_xls)
        assert crashed.status is Status.ERROR
        assert crashed.error.code == ErrorCode.UNREADABLE_FILE
        assert "corrupt" in crashed.error.message
        assert analyser.restarts == 1
        content = good.read_bytes()
        after = analyser.analyse(good, content)
        assert after.status is Status.PASS


def test_a_runaway_file_times_out(tmp_path: Path) -> None:
    path = system_a_file(tmp_path / "8340-1_SN7.xlsx", tracks=2)
    with IsolatedAnalyser(AnalysisSettings(), timeout_s=0.0, start_method="fork") as analyser:
        result = analyser.analyse(path)
        assert result.status is Status.ERROR and "longer than" in result.error.message
        assert result.sha256 is None
    with IsolatedAnalyser(AnalysisSettings(), timeout_s=0.0, start_method="fork") as analyser:
        assert analyser.analyse(path, path.read_bytes()).sha256 is not None


def test_batch_keeps_going_past_a_crash(tmp_path: Path, crashing_xls: Path) -> None:
    files = [system_b_file(tmp_path / f"1844202_{i}_TA.xlsx") for i in range(3)]
    files.insert(1, crashing_xls)
    results = list(analyse_paths(files, AnalysisSettings(include_curves=False), workers=1))
    assert [r.status for r in results] == [Status.PASS, Status.ERROR, Status.PASS, Status.PASS]


def test_spawned_worker_loads_kernels_from_the_cache(tmp_path: Path) -> None:
    path = system_b_file(tmp_path / "1844202_9_TA.xlsx")
    with IsolatedAnalyser(AnalysisSettings(), start_method="spawn") as analyser:
        assert analyser.analyse(path).status is Status.PASS
