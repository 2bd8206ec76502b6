"""The Excel export, read back with openpyxl: sheets, header, frozen panes, formats, rows.

The database (one per module) is filled through central's ingest with really
analysed files from two stations; every expectation is recomputed here.
"""

from __future__ import annotations

import io
import itertools
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from central.db import Database
from central.export import DATA_COLUMNS, SUMMARY_COLUMNS, AlarmRow, write_workbook
from central.queries.filters import Filters, QueryError
from central.spc.capability import IndexEstimate, SpecLimits, capability
from shared.ids import result_id
from shared.models import FileResult, Status
from tests.central.data_helpers import (
    analysed_files,
    batch_of,
    ingest,
    renamed,
)
from tests.conftest import migrated_database

TODAY = date(2025, 3, 12)
LINE_1, LINE_2 = "line-1", "line-2"


@pytest.fixture(scope="module")
def sent(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[FileResult]]:
    files = analysed_files(tmp_path_factory.mktemp("station"), count=12, seed=13)
    broken = tmp_path_factory.mktemp("broken") / "8340-1_SN1_TA_Test Data_3-12-2025.xlsx"
    dated = [
        r.model_copy(
            update={"test_date": datetime(2025, 3, 12, 6) - timedelta(days=i % 5, minutes=i)}
        )
        for i, r in enumerate(files)
    ]
    unreadable = renamed(
        dated[0],
        "unreadable",
        file_name=broken.name,
        status=Status.ERROR,
        tracks=[],
        system=None,
        test_date=datetime(2025, 3, 11, 9),
    )
    common = Counter(r.model for r in dated).most_common(1)[0][0]
    more = [  # the same units re-trimmed a few days later: enough tracks for a Cpk
        renamed(r, f"again-{k}", test_date=r.test_date + timedelta(days=k, minutes=k))  # type: ignore[operator]
        for k in range(1, 4)
        for r in dated
        if r.model == common
    ]
    return {
        LINE_1: [*dated, unreadable, *more],
        LINE_2: [renamed(r, "two") for r in dated[:7]],
    }


@pytest.fixture(scope="module")
def db(
    postgres_admin_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    sent: dict[str, list[FileResult]],
) -> Iterator[Database]:
    for database in migrated_database(postgres_admin_url, tmp_path_factory.mktemp("unused-pg")):
        for station, results in sent.items():
            ingest(database, batch_of(results, station))
        yield database


def export(db: Database, filters: Filters = Filters(), **options: object) -> Workbook:  # noqa: B008
    out = io.BytesIO()
    write_workbook(db, filters, out, **options)  # type: ignore[arg-type]
    return load_workbook(io.BytesIO(out.getvalue()))


def data_rows(book: Workbook) -> list[tuple[object, ...]]:
    return list(book["Data"].iter_rows(min_row=2, values_only=True))


def expected_rows(sent: dict[str, list[FileResult]]) -> int:
    return sum(max(1, len(r.tracks)) for results in sent.values() for r in results)


def summary_table(sheet: Worksheet) -> dict[str, dict[str, object]]:
    """The per-model table of the Summary, by model name."""
    rows = list(sheet.iter_rows(values_only=True))
    start = next(i for i, row in enumerate(rows) if row[0] == "Model")
    header = [str(h) for h in rows[start] if h is not None]
    assert header == [c[0] for c in SUMMARY_COLUMNS]
    table = {}
    for row in rows[start + 1 :]:
        if row[0] in (None, "All models"):
            break
        table[str(row[0])] = dict(zip(header, row, strict=False))
    return table


def test_workbook_has_a_summary_and_a_data_sheet_formatted_for_reading(
    db: Database, sent: dict[str, list[FileResult]]
) -> None:
    book = export(db)
    assert book.sheetnames == ["Summary", "Data"]
    data = book["Data"]
    assert [c.value for c in data[1]] == [c[0] for c in DATA_COLUMNS]
    assert all(c.font.bold for c in data[1])
    assert data.freeze_panes == "A2"
    rows = expected_rows(sent)
    assert data.max_row == rows + 1
    assert data.auto_filter.ref == f"A1:{get_column_letter(len(DATA_COLUMNS))}{rows + 1}"
    for index, (name, width, number_format) in enumerate(DATA_COLUMNS, start=1):
        letter = data.cell(row=1, column=index).column_letter
        assert data.column_dimensions[letter].width == width, name
        if number_format is not None:
            formats = {
                data.cell(row=r, column=index).number_format
                for r in range(2, rows + 2)
                if data.cell(row=r, column=index).value is not None
            }
            assert formats == {number_format}, name
    made = [row[0] for row in data_rows(book)]
    assert all(isinstance(m, datetime) for m in made)


COLUMN = {name: index for index, (name, _, _) in enumerate(DATA_COLUMNS)}


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def test_data_has_one_row_per_track_with_its_metrics(
    db: Database, sent: dict[str, list[FileResult]]
) -> None:
    rows = data_rows(export(db))
    got = {(row[1], row[COLUMN["File"]], row[5]): row for row in rows}
    for station, results in sent.items():
        for r in results:
            if not r.tracks:  # the unreadable file: one row, no track, no flag applies
                row = got[(station, r.file_name, None)]
                assert row[4] == "Error" and row[7] is None
                assert row[COLUMN["Near miss"]] is None and row[COLUMN["Anomaly"]] is None
                continue
            for t in r.tracks:
                row = got[(station, r.file_name, t.track_id)]
                assert row[2:7] == (r.model, r.serial, r.status.value, t.track_id, t.status.value)
                assert row[7] == pytest.approx(t.sigma_gradient)
                assert row[9] == pytest.approx(t.linearity_error)
                assert row[11] == t.fail_points
                assert row[COLUMN["Near miss"]] == yes_no(t.near_miss)  # never blank: judged
    models = [row[2] for row in rows]
    changes = sum(1 for a, b in itertools.pairwise(models) if a != b)
    assert changes == len(set(models)) - 1  # each model's rows together


def test_data_has_the_offset_trim_resistance_and_adjustment_of_each_track(
    db: Database, sent: dict[str, list[FileResult]]
) -> None:
    """Every figure the result carries for the trim and the verdict's adjustment, as sent."""
    rows = data_rows(export(db))
    got = {(row[1], row[COLUMN["File"]], row[5]): row for row in rows}
    seen_trim = seen_adjustment = 0
    for station, results in sent.items():
        for r in results:
            for t in r.tracks:
                row = got[(station, r.file_name, t.track_id)]

                def cell(name: str, row: tuple[object, ...] = row) -> object:
                    return row[COLUMN[name]]

                assert cell("Optimal offset (V)") == pytest.approx(t.optimal_offset)
                assert cell("Anomaly") == yes_no(t.is_anomaly)
                assert cell("Untrimmed only") == yes_no(t.untrimmed_only)
                assert cell("Untrimmed resistance (ohm)") == pytest.approx(t.untrimmed_resistance)
                assert cell("Trimmed resistance (ohm)") == pytest.approx(t.trimmed_resistance)
                trim = t.trim
                if trim is not None:
                    seen_trim += 1
                    assert cell("Untrimmed RMS error (V)") == pytest.approx(trim.untrimmed_rms)
                    assert cell("Trimmed RMS error (V)") == pytest.approx(trim.trimmed_rms)
                    assert cell("Trim improvement (%)") == pytest.approx(trim.improvement_pct)
                    assert cell("Resistance change (%)") == pytest.approx(
                        trim.resistance_change_pct
                    )
                else:
                    assert cell("Untrimmed RMS error (V)") is None
                a = t.adjustment
                if a is not None:
                    seen_adjustment += 1
                    assert cell("Verdict policy") == a.policy
                    assert cell("Rotation k") == pytest.approx(a.k)
                    assert cell("Angle nominal") == pytest.approx(a.angle_nominal)
                    assert cell("Angle adjusted") == pytest.approx(a.angle_adjusted)
                    assert cell("Window status") == a.window_status.value
                    assert (cell("Excluded start"), cell("Excluded end")) == (
                        a.excluded_start,
                        a.excluded_end,
                    )
                else:
                    assert cell("Verdict policy") is None and cell("Excluded start") is None
    assert seen_trim and seen_adjustment  # the real files carry both


def test_summary_counts_yields_and_cpk_per_model(
    db: Database, sent: dict[str, list[FileResult]]
) -> None:
    book = export(db, generated_at=datetime(2025, 3, 12, 10, tzinfo=UTC))
    summary = book["Summary"]
    assert summary["A1"].value == "Laser Trim Analyzer: results export"
    assert summary["B2"].value == datetime(2025, 3, 12, 10)
    table = summary_table(summary)
    everything = [r for results in sent.values() for r in results]
    assert set(table) == {r.model for r in everything}
    rated = 0
    for model, line in table.items():
        mine = [r for r in everything if r.model == model]
        passes = sum(r.status == Status.PASS for r in mine)
        verdicts = sum(r.status in (Status.PASS, Status.WARNING, Status.FAIL) for r in mine)
        assert line["Units"] == len(mine)
        assert line["Pass"] == passes
        assert line["Error"] == sum(r.status == Status.ERROR for r in mine)
        warnings = sum(r.status == Status.WARNING for r in mine)
        assert line["Yield"] == pytest.approx((passes + warnings) / verdicts)  # a warning ships
        ordered = sorted(  # the export's order: made_at, result id, track
            (
                r.test_date,
                UUID(result_id(station, r.sha256 or "")),
                t.track_id,
                t.linearity_error / t.linearity_spec,  # type: ignore[operator]
            )
            for station, results in sent.items()
            for r in results
            if r.model == model
            for t in r.tracks
            if t.status != Status.ERROR
        )
        assert line["Tracks in Cpk"] == len(ordered)
        cap = capability([e[3] for e in ordered], SpecLimits(upper=1.0))
        if isinstance(cap.cpk, IndexEstimate):
            assert line["Cpk rating"] == (
                cap.cpk.rating.value
                if cap.cpk.rating is not None
                else f"n = {cap.cpk.n}: too few for a rating"
            )
            assert line["Cpk"] == pytest.approx(cap.cpk.value, rel=1e-9)
            assert line["Ppk"] == pytest.approx(cap.ppk.value, rel=1e-9)  # type: ignore[union-attr]
            rated += 1
        else:
            assert line["Cpk"] is None
            assert line["Cpk rating"] == cap.cpk.message
    assert rated, "at least one model has enough tracks for a Cpk"
    rows = list(summary.iter_rows(values_only=True))
    totals = next(row for row in rows if row[0] == "All models")
    assert totals[1] == len(everything)
    assert not any(row[0] == "Open alarms" for row in rows)  # none handed in: no section


def test_open_alarms_are_listed_when_given(db: Database) -> None:
    alarms = [
        AlarmRow(
            raised_at=datetime(2025, 3, 12, 7, 30, tzinfo=UTC),
            station=LINE_2,
            model="8340-1",
            kind="drift",
            detail="CUSUM above h for 6 units",
        )
    ]
    rows = list(export(db, alarms=alarms)["Summary"].iter_rows(values_only=True))
    start = next(i for i, row in enumerate(rows) if row[0] == "Open alarms")
    assert rows[start + 1][:5] == ("Raised", "Station", "Model", "Kind", "Detail")
    assert rows[start + 2][:5] == (
        datetime(2025, 3, 12, 7, 30),
        LINE_2,
        "8340-1",
        "drift",
        "CUSUM above h for 6 units",
    )
    quiet = list(export(db, alarms=[])["Summary"].iter_rows(values_only=True))
    start = next(i for i, row in enumerate(quiet) if row[0] == "Open alarms")
    assert quiet[start + 2][0] == "None open."


def test_filters_choose_the_rows_and_are_written_down(
    db: Database, sent: dict[str, list[FileResult]]
) -> None:
    filters = Filters(start=date(2025, 3, 10), end=TODAY, stations=(LINE_2,))
    book = export(db, filters)
    rows = data_rows(book)
    expected = sum(
        max(1, len(r.tracks))
        for r in sent[LINE_2]
        if r.test_date and r.test_date.date() >= date(2025, 3, 10)
    )
    assert len(rows) == expected
    assert {row[1] for row in rows} == {LINE_2}
    head = {row[0]: row[1] for row in book["Summary"].iter_rows(max_row=7, values_only=True)}
    assert head["From"] == "2025-03-10" and head["To"] == "2025-03-12"
    assert head["Stations"] == LINE_2 and head["Models"] == "all"
    assert head["Data sheet"] == f"{expected:,} rows"


def test_a_capped_export_says_it_is_truncated(db: Database) -> None:
    out = io.BytesIO()
    result = write_workbook(db, Filters(), out, max_rows=5)
    assert result.rows == 5 and result.truncated
    book = load_workbook(io.BytesIO(out.getvalue()))
    assert book["Data"].max_row == 6
    head = {row[0]: row[1] for row in book["Summary"].iter_rows(max_row=7, values_only=True)}
    assert "truncated" in str(head["Data sheet"])
    with pytest.raises(QueryError):
        write_workbook(db, Filters(), io.BytesIO(), max_rows=2_000_000)


def test_an_export_of_nothing_is_still_a_workbook(db: Database) -> None:
    book = export(db, Filters(start=date(2001, 1, 1), end=date(2001, 1, 2)))
    assert book["Data"].max_row == 1
    assert summary_table(book["Summary"]) == {}
