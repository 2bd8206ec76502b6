"""Central's model-spec table: free-text cells, import/export, versions, aliases, audit."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from central.auth import audit
from central.auth.audit import Actor
from central.cli import main as central_main
from central.db import Database
from central.specs import files, freetext, store, transfer
from central.specs.record import COLUMNS, SpecRow
from shared.errors import SpecFileError

QA = Actor("qa.lead", "127.0.0.1")

PLANT_HEADER = [
    "Model",
    "Aliases",
    "Element Type",
    "Product Class",
    "Linearity Spec",
    "Resistance Min",
    "Angle Nominal",
    "Angle Tolerance Type",
]
PLANT_ROWS = [
    [
        "8340-1",
        "8340-1A",
        "Carbon",
        "Aerospace",
        "± 0.5% (Absolute)",
        "950 - 1,050 Ω",
        "340° ± 2°",
        "symmetric",
    ],
    ["7280-1-CT", "", "Cermet", "Defense", "See Chart", "", '1.31" ± .005"', ""],
    [
        "8508",
        "8508-2, 8508-3",
        "Carbon",
        "Industrial",
        "± 0.25% (Independent)",
        "10K ± 10%",
        "",
        "",
    ],
]


def plant_xlsx(rows: list[list[object]] | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(PLANT_HEADER)
    for row in PLANT_ROWS if rows is None else rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------- free text


@pytest.mark.parametrize(
    ("text", "value", "unit", "kind", "note"),
    [
        ("± 0.5% (Absolute)", 0.5, "%", "Absolute", None),
        ("+/- 0.010 V Independent", 0.01, "V", "Independent", None),
        ("0.01", 0.01, None, None, None),
        ("See Chart", None, None, None, "See Chart"),
    ],
)
def test_linearity_cells(
    text: str, value: float | None, unit: str | None, kind: str | None, note: str | None
) -> None:
    parsed = freetext.parse_linearity(text)
    assert (parsed.value, parsed.unit, parsed.kind, parsed.note) == (value, unit, kind, note)


def test_resistance_and_angle_cells() -> None:
    assert freetext.parse_resistance("950 - 1,050 Ω") == (950.0, 1050.0)
    assert freetext.parse_resistance("10K ± 10%") == pytest.approx((9000.0, 11000.0))
    assert freetext.parse_resistance("2,000 ohms") == (2000.0, None)
    assert freetext.parse_angle('1.31" ± .005"') == (1.31, 0.005)
    assert freetext.parse_angle("340° ± 2°") == (340.0, 2.0)
    assert freetext.parse_angle("340") == (340.0, None)
    for bad in ("1.2.3 V", "0", "x" * 200):
        with pytest.raises(ValueError, match=r"linearity|above 0|characters"):
            freetext.parse_linearity(bad)
    with pytest.raises(ValueError, match="high to low"):
        freetext.parse_resistance("1,050 - 950")
    with pytest.raises(ValueError, match="not an angle"):
        freetext.parse_angle("about 340")
    with pytest.raises(ValueError, match="not a number"):
        freetext.number("inf")


def test_plant_workbook_is_read_in_the_column_each_cell_describes() -> None:
    parsed = files.parse_file(plant_xlsx())
    assert parsed.problems == []
    by_model = {s.model: s for s in parsed.rows}
    first = by_model["8340-1"]
    assert (first.linearity_spec, first.linearity_unit, first.linearity_type) == (
        0.5,
        "%",
        "Absolute",
    )
    assert (first.resistance_min, first.resistance_max) == (950.0, 1050.0)
    assert (first.angle_nominal, first.angle_tolerance) == (340.0, 2.0)
    assert first.aliases == ("8340-1A",)
    chart = by_model["7280-1-CT"]
    assert chart.linearity_spec is None and chart.linearity_note == "See Chart"
    assert (chart.angle_nominal, chart.angle_tolerance) == (1.31, 0.005)
    assert by_model["8508"].aliases == ("8508-2", "8508-3")
    # A percentage is shown at central, never handed to a station as volts.
    assert first.for_station().linearity_spec is None


def test_every_bad_row_is_reported_by_its_row_number() -> None:
    rows = [
        PLANT_ROWS[0],
        ["", "", "", "", "0.5", "", "", ""],  # row 3: no model
        ["9000", "", "", "", "approx 0.5", "", "", ""],  # row 4: linearity not a number
        ["9001", "", "", "", "", "abc", "about 5", "sideways"],  # row 5: three problems
        ["8340-1A", "", "", "", "", "", "", ""],  # row 6: names row 2's alias
    ]
    parsed = files.parse_file(plant_xlsx(rows))
    assert [s.model for s in parsed.rows] == ["8340-1"]
    where = [(p.row, p.column) for p in parsed.problems]
    assert (3, "model") in where
    assert (4, "linearity_spec") in where
    assert {(5, "resistance_min"), (5, "angle_nominal"), (5, "angle_tolerance_type")} <= set(where)
    assert (6, "model") in where
    assert "row 6, column model: '8340-1A' is already named on row 2" in [
        str(p) for p in parsed.problems
    ]


def test_conflicting_free_text_and_column_are_a_problem() -> None:
    content = (
        b"model,linearity_spec,linearity_type\r\n8340,\xc2\xb1 0.5% (Absolute),Independent\r\n"
    )
    parsed = files.parse_file(content)
    assert parsed.rows == []
    assert "linearity_type" in str(parsed.problems[0])


def test_hostile_files_are_refused_before_they_are_read() -> None:
    with pytest.raises(SpecFileError, match="over"):
        files.parse_file(b"model\n" + b"x" * files.MAX_IMPORT_BYTES)
    with pytest.raises(SpecFileError, match="rows"):
        files.parse_file(b"model\n" + b"m\n" * (files.MAX_IMPORT_ROWS + 5))
    with pytest.raises(SpecFileError, match="unknown column"):
        files.parse_file(b"model,colour\n8340,red\n")
    with pytest.raises(SpecFileError, match="cannot be read"):
        files.parse_file(b"PK\x03\x04 not a zip")
    parsed = files.parse_file(b"model,element_type\n8340," + b"y" * 600 + b"\n")
    assert "over 500 characters" in str(parsed.problems[0])


def test_export_writes_one_number_per_cell_and_never_a_formula() -> None:
    spec = SpecRow(
        model='=HYPERLINK("x")',
        linearity_spec=0.5,
        linearity_unit="%",
        resistance_min=950,
        resistance_max=1050,
        exclude_points=(0, 1, 48, 49, 50),
        element_type="+cmd",
    )
    sheet = load_workbook(io.BytesIO(files.export_xlsx([spec]))).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    assert header == list(COLUMNS)
    row = {h: c for h, c in zip(header, sheet[2], strict=True)}
    assert row["model"].data_type == "s" and row["model"].value.startswith("=")
    assert row["linearity_spec"].value == 0.5 and row["resistance_max"].value == 1050
    assert row["exclude_points"].value == "0-1, 48-50"
    text = files.export_csv([spec]).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'+cmd" in text
    again = files.parse_file(files.export_csv([spec])).rows
    assert again == [spec]


# --------------------------------------------------------------------------- the table


def test_import_versions_audits_and_resolves_aliases_both_ways(central_db: Database) -> None:
    report = transfer.import_bytes(central_db, "plant.xlsx", plant_xlsx(), QA)
    assert report.imported and report.problems == []
    assert sorted(report.saved.added) == ["7280-1-CT", "8340-1", "8508"]  # type: ignore[union-attr]
    assert store.table_version(central_db) == 1
    by_alias = store.get_spec(central_db, "8508-3")
    assert by_alias is not None and by_alias.spec.model == "8508"
    assert store.get_spec(central_db, "8340-1 ") is not None  # case and spacing blind
    assert store.get_spec(central_db, "8340-1a").spec.aliases == ("8340-1A",)  # type: ignore[union-attr]
    entries = audit.entries(central_db)
    assert {e.target for e in entries if e.action == "spec.import"} == {
        "7280-1-CT",
        "8340-1",
        "8508",
    }
    version, table, _ = store.station_table(central_db)
    assert version == 1 and table.version == "central:1"
    assert table.spec_for("8508-2") is not None

    # Export, import again: nothing changes, the version stays.
    for kind in ("csv", "xlsx"):
        exported = transfer.export_bytes(central_db, kind)  # type: ignore[arg-type]
        again = transfer.import_bytes(central_db, f"export.{kind}", exported, QA)
        assert again.saved is not None and not again.saved.moved, again.lines()
        assert len(again.saved.unchanged) == 3
    assert store.table_version(central_db) == 1

    # An edit moves the version, keeps who/when/what/why.
    edited = by_alias.spec.model_copy(update={"sigma_threshold": 0.05})
    saved = store.save_specs(central_db, [edited], QA, "learned threshold")
    assert saved.changed == ["8508"] and saved.version == 2
    change = store.history(central_db, "8508")[0]
    assert change.actor == "qa.lead" and change.reason == "learned threshold"
    assert change.changes == {"sigma_threshold": [None, 0.05]} and change.revision == 2
    assert "sigma_threshold: None -> 0.05" in (audit.entries(central_db)[0].detail or "")


def test_a_name_another_model_owns_is_refused(central_db: Database) -> None:
    transfer.import_bytes(central_db, "plant.xlsx", plant_xlsx(), QA)
    clash = SpecRow(model="9999", aliases=("8508-2",))
    with pytest.raises(store.SpecStoreError, match="alias of model 8508"):
        store.save_specs(central_db, [clash], QA, "typo")
    content = b"model,aliases\n9999,8508-2\n9998,\n"
    strict = transfer.import_bytes(central_db, "clash.csv", content, QA, strict=True)
    assert not strict.imported and [p.row for p in strict.problems] == [2]
    assert store.get_spec(central_db, "9998") is None
    loose = transfer.import_bytes(central_db, "clash.csv", content, QA)
    assert loose.saved is not None and loose.saved.added == ["9998"]
    assert [p.row for p in loose.problems] == [2]
    # Moving an alias from one model to another in one import is fine.
    moved = b"model,aliases\n8508,8508-3\n9999,8508-2\n"
    report = transfer.import_bytes(central_db, "move.csv", moved, QA)
    assert report.problems == [] and store.get_spec(central_db, "8508-2").spec.model == "9999"  # type: ignore[union-attr]
    with pytest.raises(store.SpecStoreError, match="why"):
        store.save_specs(central_db, [clash], QA, "  ")


def test_strict_import_of_a_bad_file_imports_nothing(central_db: Database) -> None:
    rows = [PLANT_ROWS[0], ["9000", "", "", "", "approx 0.5", "", "", ""]]
    report = transfer.import_bytes(central_db, "p.xlsx", plant_xlsx(rows), QA, strict=True)
    assert not report.imported and store.table_version(central_db) == 0
    assert "--strict: nothing was imported" in "\n".join(report.lines())
    loose = transfer.import_bytes(central_db, "p.xlsx", plant_xlsx(rows), QA)
    assert loose.saved is not None and loose.saved.added == ["8340-1"]
    assert "row 3, column linearity_spec" in "\n".join(loose.lines())


def test_cli_import_and_export(
    central_db: Database,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("LTA_CENTRAL_DATABASE_URL", database_url)
    monkeypatch.setenv("LTA_CENTRAL_DATA_DIR", str(tmp_path / "central"))
    plant = tmp_path / "plant.xlsx"
    plant.write_bytes(plant_xlsx())
    assert central_main(["specs", "import", str(plant)]) == 0
    assert "added 3" in capsys.readouterr().out
    out = tmp_path / "specs.xlsx"
    assert central_main(["specs", "export", str(out)]) == 0
    assert central_main(["specs", "import", str(out), "--strict"]) == 0
    assert "unchanged 3" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("model,linearity_spec\n9000,approx 0.5\n", encoding="utf-8")
    assert central_main(["specs", "import", str(bad), "--strict"]) == 1
    assert "row 2, column linearity_spec" in capsys.readouterr().out
    assert central_main(["specs", "import", str(tmp_path / "missing.csv")]) == 1
