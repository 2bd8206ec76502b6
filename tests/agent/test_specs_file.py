"""QA's model specs: the file, its checks, and what a spec does to real units' verdicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import Workbook

from agent import cli
from agent.analysis.file import analyse_file
from agent.config import ConfigError, load_config
from agent.specs_file import COLUMNS, load_spec_file, parse_spec_file
from shared.analysis_settings import AnalysisSettings
from shared.errors import ErrorCode, SpecFileError
from shared.model_specs import ModelSpec, Policy, SpecTable, ToleranceType, parse_exclude_points
from shared.models import Status, TrackResult
from tests.real_truth import IN_REPO, IN_REPO_RULES

ROTATED = next(IN_REPO_RULES.glob("7477_26_*.xls"))  # passes only once the theory line rotates
IGNORED = next(IN_REPO.glob("8555_54_*.xls"))  # one failing point among the ignored rows
FULL_HEADER = ",".join(c for c in COLUMNS if c != "linearity_type")


def _track(path: Path, specs: SpecTable | None = None) -> TrackResult:
    return analyse_file(path, AnalysisSettings(specs=specs)).tracks[0]


def _table(text: str) -> SpecTable:
    return parse_spec_file("specs.csv", text.encode())


def test_a_full_row_reads_every_column() -> None:
    table = _table(
        f"{FULL_HEADER}\n"
        '8340-1,8340-1A;8340-1B,spec,0.05,340,2,symmetric,9000,11000,"0-1, 48-50",0.002,'
        "yes,no,Cermet,Aerospace\n"
    )
    spec = table.spec_for("8340-1b")
    assert spec == ModelSpec(
        model="8340-1",
        aliases=("8340-1A", "8340-1B"),
        policy=Policy.SPEC,
        linearity_spec=0.05,
        angle_nominal=340.0,
        angle_tolerance=2.0,
        angle_tolerance_type=ToleranceType.SYMMETRIC,
        resistance_min=9000.0,
        resistance_max=11000.0,
        exclude_points=(0, 1, 48, 49, 50),
        sigma_threshold=0.002,
        resistance_in_verdict=True,
        angle_in_verdict=False,
        element_type="Cermet",
        product_class="Aerospace",
    )
    assert table.version.startswith("file:") and len(table.version) == 17
    assert table.spec_for("8340") is None and table.spec_for(None) is None


def test_xlsx_and_csv_of_one_table_are_the_same_specs(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Model", "Policy", "Angle Tolerance", "Exclude Points"])
    sheet.append(["7477", "spec", 1.5, "0-2"])
    sheet.append([8852, None, None, None])  # a model number typed as a number
    path = tmp_path / "specs.xlsx"
    book.save(path)
    from_xlsx = load_spec_file(path)
    from_csv = _table("model,policy,angle_tolerance,exclude_points\n7477,spec,1.5,0-2\n8852,,,\n")
    assert from_xlsx.specs == from_csv.specs
    assert from_xlsx.spec_for("8852") == ModelSpec(model="8852")


def test_every_bad_cell_is_named_by_row_and_column_and_nothing_is_used() -> None:
    with pytest.raises(SpecFileError) as caught:
        _table(
            "model,angle_tolerance,policy,exclude_points,resistance_min,resistance_max\n"
            "8340,abc,station,,,\n"
            "8341,1,lenient,5-2,,\n"
            ",1,,,,\n"
            "8342,,,,2000,1000\n"
        )
    problems = caught.value.problems
    assert caught.value.code is ErrorCode.SPEC_FILE_INVALID
    assert "specs.csv row 2, column angle_tolerance: 'abc' is not a number" in problems
    assert any(
        p.startswith("specs.csv row 3, column policy: 'lenient' is not one of") for p in problems
    )
    assert any(p.startswith("specs.csv row 3, column exclude_points:") for p in problems)
    assert "specs.csv row 4, column model: empty" in problems
    assert any("row 5" in p and "resistance_min is above resistance_max" in p for p in problems)
    assert len(problems) == 5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("angle_tolerance\n1\n", "no 'model' column"),
        ("model,tolerance\n8340,1\n", "unknown column(s) 'tolerance'"),
        ("model,model\n8340,8341\n", "appear twice"),
        ("model,aliases\n8340,8341\n8341,\n", "'8341' names both 8340 and 8341"),
    ],
)
def test_a_file_that_is_no_table_is_refused_whole(text: str, message: str) -> None:
    with pytest.raises(SpecFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _table(text)


def test_oversized_and_unreadable_files_are_refused_before_parsing(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    big.write_bytes(b"model\n" + b"8340\n" * 1_200_000)
    with pytest.raises(SpecFileError, match="over"):
        load_spec_file(big)
    with pytest.raises(SpecFileError, match="cannot be read"):
        load_spec_file(tmp_path / "missing.csv")
    with pytest.raises(SpecFileError, match="cannot be read as CSV or XLSX"):
        parse_spec_file("x.xlsx", b"PK\x03\x04 not really a zip")


@pytest.mark.parametrize(
    ("kind", "bounds"),
    [
        (ToleranceType.SYMMETRIC, (-2 / 338, 2 / 342)),
        (ToleranceType.RANGE, (-2 / 338, 2 / 342)),
        (ToleranceType.BILATERAL, (-2 / 338, 2 / 342)),
        (ToleranceType.MIN, (0.0, 0.05)),
        (ToleranceType.MAX, (-0.05, 0.0)),
    ],
)
def test_rotation_bounds_follow_the_tolerance(
    kind: ToleranceType, bounds: tuple[float, float]
) -> None:
    spec = ModelSpec(model="m", angle_tolerance=2.0, angle_tolerance_type=kind)
    assert spec.k_bounds(340.0) == pytest.approx(bounds)
    assert spec.governing_policy is Policy.SPEC
    assert ModelSpec(model="m").k_bounds(340.0) == (0.0, 0.0)
    assert ModelSpec(model="m").governing_policy is Policy.STATION


def test_exclude_point_ranges() -> None:
    assert parse_exclude_points(" 0-1, 48-50;7 ") == (0, 1, 7, 48, 49, 50)
    for bad in ("a", "3-1", "-1", "1-2-3"):
        with pytest.raises(ValueError, match="range"):
            parse_exclude_points(bad)


def test_strict_policy_for_one_model_gives_that_model_the_strict_verdict() -> None:
    station = _track(ROTATED)
    assert station.linearity_pass and station.strict is not None
    assert not station.strict.linearity_pass
    strict = _track(ROTATED, _table("model,policy\n7477,strict\n"))
    assert strict.adjustment is not None and strict.adjustment.policy == "strict"
    assert (strict.linearity_pass, strict.fail_points) == (False, station.strict.fail_points)
    assert strict.status is Status.FAIL and strict.reasons[0].code == "linearity"
    # Another model in the same table keeps the station's rules.
    other = _track(IGNORED, _table("model,policy\n7477,strict\n"))
    assert other.adjustment is not None and other.adjustment.policy == "station"


def test_an_explicit_angle_tolerance_sets_the_rotation_bounds() -> None:
    track = _track(ROTATED, _table("model,angle_tolerance\n7477,0.5\n"))
    adjustment = track.adjustment
    assert adjustment is not None and adjustment.policy == "spec"
    a = adjustment.angle_nominal
    assert a is not None
    assert adjustment.k_bounds == pytest.approx((-0.5 / (a - 0.5), 0.5 / (a + 0.5)))
    assert adjustment.k_bounds[0] <= adjustment.k <= adjustment.k_bounds[1]
    assert adjustment.excluded_source == "none" and adjustment.excluded_points == []


def test_spec_excluded_points_and_resistance_join_the_verdict() -> None:
    plain = _track(IGNORED, _table("model,policy\n8555,strict\n"))
    assert plain.fail_points == 2
    track = _track(
        IGNORED,
        _table(
            "model,exclude_points,resistance_min,resistance_max,resistance_in_verdict\n"
            "8555,342,1000,2000,yes\n"
        ),
    )
    assert track.adjustment is not None and track.adjustment.excluded_source == "spec"
    assert track.adjustment.excluded_points == [342]
    assert track.fail_points == 1  # the failing last row is QA's to leave out
    assert track.resistance_pass is False and track.status is Status.FAIL
    assert [r.code for r in track.reasons][:2] == ["linearity", "resistance"]
    assert "not within 1000 to 2000 ohm" in track.reasons[1].message


def test_analyze_cli_takes_a_spec_file_and_refuses_a_bad_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs = tmp_path / "specs.csv"
    specs.write_text("model,policy\n7477,strict\n")
    code = cli.main(["analyze", str(ROTATED), "--json", "--workers", "1", "--specs", str(specs)])
    result = json.loads(capsys.readouterr().out)
    assert code == cli.EXIT_OK
    assert result["spec_version"] == load_spec_file(specs).version
    assert result["tracks"][0]["adjustment"]["policy"] == "strict"
    specs.write_text("model,policy\n7477,lenient\n")
    code = cli.main(["analyze", str(ROTATED), "--json", "--specs", str(specs)])
    out, err = capsys.readouterr()
    assert code == cli.EXIT_USAGE and out == ""
    assert "specs.csv row 2, column policy" in err


def test_the_agent_config_names_a_spec_file_and_a_bad_one_stops_it(tmp_path: Path) -> None:
    specs = tmp_path / "specs.csv"
    specs.write_text("model,policy\n7477,strict\n")
    env = {"LTA_AGENT_ANALYSIS__SPECS_FILE": str(specs), "LTA_AGENT_DATA_DIR": str(tmp_path)}
    settings = load_config(None, env).analysis_settings()
    assert settings.specs is not None and settings.spec_for("7477") is not None
    specs.write_text("model,angle_tolerance\n7477,wide\n")
    with pytest.raises(ConfigError) as caught:
        load_config(None, env).analysis_settings()
    assert caught.value.problems == (
        "analysis.specs_file: specs.csv row 2, column angle_tolerance: 'wide' is not a number",
    )
