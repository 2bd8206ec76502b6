"""Re-analysis on the station: real files from tests/data/real, a real store, today's analysis.

An "old" result is one an earlier agent stored: the real file's result with
analysis version 1 and the verdict the first release gave (here a wrong Fail).
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from agent.analysis.file import analyse_content, analyse_file
from agent.cli import EXIT_USAGE, main
from agent.reanalysis import Locator, Options, comparable, reanalyse
from agent.specs_file import load_spec_file
from agent.store import outbox, reads, writes
from agent.store.database import transaction
from agent.store.store import Store
from shared.analysis_settings import AnalysisSettings
from shared.models import FileResult, Status
from tests.conftest import STATION
from tests.real_truth import IN_REPO


def analyse_today(path: Path, content: bytes, sha256: str) -> FileResult:
    """As the agent's worker analyses: today's rules, the verified digest passed on."""
    return analyse_content(path, content, AnalysisSettings(), sha256)


PASSING = "6828_44_TEST DATA_3-6-2025_5-22 AM.xls"  # Pass today (rotated within its window)
FIRST_SEEN = datetime(2025, 3, 6, 11, 30, tzinfo=UTC)


def copy_real(folder: Path, *names: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy2(IN_REPO / name, folder / name)) for name in names]


def as_old_agent(result: FileResult, status: Status = Status.FAIL) -> FileResult:
    """What an analysis-version-1 agent stored: offset only, and here a wrong verdict."""
    tracks = [
        t.model_copy(
            update={
                "status": status,
                "linearity_pass": status is not Status.FAIL,
                "fail_points": 3 if status is Status.FAIL else 0,
                "adjustment": None,
                "strict": None,
                "reasons": [],
            }
        )
        for t in result.tracks
    ]
    return result.model_copy(
        update={
            "tracks": tracks,
            "status": status,
            "analysis_version": "1",
            "agent_version": "0.9.0",
            "analysed_at": FIRST_SEEN,
        }
    )


def record(store: Store, result: FileResult) -> int:
    recorded = store.record(result, STATION, FIRST_SEEN, None)
    assert recorded.result_pk is not None
    return recorded.result_pk


def row(store: Store, pk: int) -> sqlite3.Row:
    found = (
        store.read()
        .execute(
            "SELECT r.*, o.id AS outbox_id, o.state FROM results r "
            "JOIN outbox o ON o.result_pk = r.id WHERE r.id = ?",
            (pk,),
        )
        .fetchone()
    )
    assert found is not None
    return found


def deliver_all(store: Store) -> None:
    ids = [int(r[0]) for r in store.read().execute("SELECT id FROM outbox")]
    store.writer.call(lambda conn: outbox.settle(conn, ids, [], datetime.now(UTC)))


def test_a_wrong_old_verdict_becomes_revision_1_and_the_old_one_is_kept(
    store: Store, tmp_path: Path
) -> None:
    [path] = copy_real(tmp_path / "inbox", PASSING)
    today = analyse_file(path)
    assert today.status is Status.PASS
    pk = record(store, as_old_agent(today))
    deliver_all(store)
    old_document = row(store, pk)["document"]
    old_outbox = row(store, pk)["outbox_id"]

    summary = reanalyse(store, analyse_today, Options(reason="spec-aware verdicts"))

    assert (summary.reanalysed, summary.revised, summary.verdict_changed) == (1, 1, 1)
    assert summary.problems == 0
    [outcome] = summary.outcomes
    assert outcome.revision == 1 and "verdict Fail -> Pass" in outcome.detail
    now = row(store, pk)
    assert now["revision"] == 1 and now["status"] == "Pass"
    assert now["revision_reason"].startswith("spec-aware verdicts (re-analysed: analysis 1 -> 2")
    assert now["analysed_at"] == "2025-03-06T11:30:00.000000Z"  # the shift it belongs to
    stored = reads.load_result(store.read(), pk)
    assert stored is not None and comparable(stored) == comparable(today)
    assert stored.analysis_version == "2" and stored.analysed_at > FIRST_SEEN
    tracks = store.read().execute(
        "SELECT status, fail_points FROM tracks WHERE result_pk = ?", (pk,)
    )
    assert [tuple(t) for t in tracks] == [("Pass", 0)]
    # the revision it replaced, as it was
    [earlier] = store.read().execute("SELECT * FROM result_revisions WHERE result_pk = ?", (pk,))
    assert (earlier["revision"], earlier["status"], earlier["analysis_version"]) == (0, "Fail", "1")
    assert earlier["document"] == old_document and earlier["reason"] is None
    assert earlier["analysed_at"] == "2025-03-06T11:30:00.000000Z"
    assert [r["revision"] for r in reads.revisions(store.read(), pk)] == [0]
    # queued for central again as a new outbox row, carrying its revision
    assert now["state"] == "pending" and now["outbox_id"] > old_outbox
    [item] = outbox.pending(store.read(), 10)
    assert item.station.revision == 1 and item.station.result.status is Status.PASS
    assert item.station.revision_reason == now["revision_reason"]
    assert item.station.first_analysed_at == FIRST_SEEN
    assert set(item.station.curves) == {"TRK1"}

    again = reanalyse(store, analyse_today, Options())
    assert (again.reanalysed, again.revised, again.unchanged) == (1, 0, 1)
    assert row(store, pk)["revision"] == 1


def test_a_result_of_todays_analysis_is_left_alone(store: Store, tmp_path: Path) -> None:
    [path] = copy_real(tmp_path / "inbox", PASSING)
    pk = record(store, analyse_file(path))
    deliver_all(store)
    before = dict(row(store, pk))

    summary = reanalyse(store, analyse_today, Options())

    assert (summary.reanalysed, summary.unchanged, summary.revised) == (1, 1, 0)
    assert dict(row(store, pk)) == before
    assert outbox.pending(store.read(), 10) == []
    # a first analysis travels exactly as before revisions existed
    first = analyse_file(path)
    assert "revision" not in first.model_dump()


def test_since_and_model_select_in_sql(store: Store, tmp_path: Path) -> None:
    names = sorted(p.name for p in IN_REPO.glob("*.xls"))
    paths = copy_real(tmp_path / "inbox", *names)
    pks = {path.name: record(store, as_old_agent(analyse_file(path))) for path in paths}

    by_model = reanalyse(store, analyse_today, Options(model="7844"))
    assert sorted(o.file_name for o in by_model.outcomes) == [n for n in names if n[:4] == "7844"]
    recent = reanalyse(store, analyse_today, Options(since=date(2025, 1, 1)))
    made_2025 = [n for n in names if "2025" in n]
    assert sorted(o.file_name for o in recent.outcomes) == made_2025
    assert recent.revised == len(made_2025)
    revised = {name for name, pk in pks.items() if row(store, pk)["revision"] == 1}
    assert revised == {n for n in names if n[:4] == "7844" or "2025" in n}
    # the filters are the query's: a page walks an index, never the documents
    plan = " ".join(
        str(r[3])
        for r in store.read().execute(
            "EXPLAIN QUERY PLAN SELECT r.id FROM results r JOIN files f ON f.id = r.file_id "
            "WHERE r.id > 0 AND r.model = '7844' ORDER BY r.id LIMIT 50"
        )
    )
    assert "results_model" in plan


def test_a_missing_or_changed_file_is_reported_and_nothing_stored_changes(
    store: Store, tmp_path: Path
) -> None:
    names = sorted(p.name for p in IN_REPO.glob("*.xls"))[:3]
    gone, edited, kept = copy_real(tmp_path / "inbox", *names)
    pks = [record(store, as_old_agent(analyse_file(path))) for path in (gone, edited, kept)]
    deliver_all(store)
    before = [dict(row(store, pk)) for pk in pks]
    gone.unlink()
    edited.write_bytes(edited.read_bytes()[:-10] + b"0123456789")

    summary = reanalyse(store, analyse_today, Options(page=2))

    assert (summary.missing, summary.changed, summary.revised) == (1, 1, 1)
    kinds = {o.file_name: o.kind for o in summary.outcomes}
    assert kinds == {gone.name: "missing", edited.name: "changed", kept.name: "revised"}
    assert [dict(row(store, pk)) for pk in pks[:2]] == before[:2]
    count = store.read().execute("SELECT COUNT(*) FROM result_revisions").fetchone()[0]
    assert count == 1


def test_an_archived_file_is_found_where_the_watcher_put_it(store: Store, tmp_path: Path) -> None:
    inbox, archive = tmp_path / "inbox", tmp_path / "archive"
    [path] = copy_real(inbox / "line", PASSING)
    pk = record(store, as_old_agent(analyse_file(path)))
    (archive / "line").mkdir(parents=True)
    clash = archive / "line" / PASSING  # another file took the name first
    clash.write_bytes(b"another file")
    shutil.move(path, archive / "line" / f"{path.stem} (2){path.suffix}")

    summary = reanalyse(store, analyse_today, Options(), Locator((inbox,), archive))

    assert summary.revised == 1
    assert row(store, pk)["revision"] == 1
    stored = reads.load_result(store.read(), pk)
    assert stored is not None and stored.path == str(path)  # the file's identity is kept


def test_a_dry_run_stores_nothing(store: Store, tmp_path: Path) -> None:
    [path] = copy_real(tmp_path / "inbox", PASSING)
    pk = record(store, as_old_agent(analyse_file(path)))
    before = dict(row(store, pk))
    summary = reanalyse(store, analyse_today, Options(dry_run=True))
    assert summary.revised == 1 and summary.verdict_changed == 1
    assert dict(row(store, pk)) == before


def test_a_sync_that_was_sending_the_old_revision_cannot_swallow_the_new_one(
    store: Store, tmp_path: Path
) -> None:
    [path] = copy_real(tmp_path / "inbox", PASSING)
    pk = record(store, as_old_agent(analyse_file(path)))
    [in_flight] = outbox.pending(store.read(), 10)  # the sync job has read revision 0 ...
    reanalyse(store, analyse_today, Options())  # ... re-analysis revises it meanwhile ...
    store.writer.call(  # ... and central's answer for revision 0 arrives
        lambda conn: outbox.settle(conn, [in_flight.outbox_id], [], datetime.now(UTC))
    )
    [waiting] = outbox.pending(store.read(), 10)
    assert waiting.station.revision == 1 and row(store, pk)["state"] == "pending"


def test_a_revision_written_from_a_stale_reading_is_refused(store: Store, tmp_path: Path) -> None:
    [path] = copy_real(tmp_path / "inbox", PASSING)
    pk = record(store, as_old_agent(analyse_file(path)))
    revision = writes.Revision(pk, 0, analyse_file(path), "first run")
    assert store.writer.call(lambda conn: writes.record_revisions(conn, [revision])) == [pk]
    assert store.writer.call(lambda conn: writes.record_revisions(conn, [revision])) == []
    assert row(store, pk)["revision"] == 1


def test_retention_removes_a_revised_result_with_its_revisions(
    store: Store, tmp_path: Path
) -> None:
    [path] = copy_real(tmp_path / "inbox", PASSING)
    pk = record(store, as_old_agent(analyse_file(path)))
    reanalyse(store, analyse_today, Options())

    def prune(conn: sqlite3.Connection) -> None:  # what agent.store.pruning.prune_rows does
        with transaction(conn):
            for table in ("outbox", "tracks"):
                conn.execute(f"DELETE FROM {table} WHERE result_pk = ?", (pk,))  # noqa: S608
            conn.execute("DELETE FROM results WHERE id = ?", (pk,))

    store.writer.call(prune)
    assert store.read().execute("SELECT COUNT(*) FROM result_revisions").fetchone()[0] == 0


def test_the_command_reports_each_problem_file_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, inbox = tmp_path / "data", tmp_path / "inbox"
    kept, gone = copy_real(inbox, PASSING, "8555_54_TEST DATA_9-3-2022_1-09 PM.xls")
    config = tmp_path / "agent.toml"
    config.write_text(f'[storage]\ndata_dir = "{data}"\n[inbox]\npaths = ["{inbox}"]\n')
    monkeypatch.delenv("LTA_AGENT_CONFIG", raising=False)
    store = Store(data / "agent.sqlite")
    try:
        pk = record(store, as_old_agent(analyse_file(kept)))
        record(store, as_old_agent(analyse_file(gone)))
    finally:
        store.close()
    gone.unlink()

    code = main(["reanalyze", "--config", str(config), "--model", "6828", "--since", "2025-01-01"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "revision 1: " + PASSING in out and "verdict Fail -> Pass" in out
    assert "1 re-analysed: 1 revised (1 with another verdict), 0 unchanged; 0 missing" in out

    code = main(["reanalyze", "--config", str(config)])
    out = capsys.readouterr().out
    assert code == 2
    assert f"missing: {gone.name}: {gone} is gone (nothing stored was changed)" in out
    assert "1 re-analysed: 0 revised (0 with another verdict), 1 unchanged; 1 missing" in out
    store = Store(data / "agent.sqlite")
    try:
        assert row(store, pk)["revision"] == 1
    finally:
        store.close()


def test_a_day_that_is_not_a_day_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["reanalyze", "--since", "03/06/2025"])
    assert stopped.value.code == 2
    assert "is not a day as YYYY-MM-DD" in capsys.readouterr().err


def test_the_units_page_and_api_show_the_revision_and_why(
    store: Store,
    client,  # type: ignore[no-untyped-def]  # conftest's Flask test client on this store
    tmp_path: Path,
) -> None:
    [path] = copy_real(tmp_path / "inbox", PASSING)
    pk = record(store, as_old_agent(analyse_file(path)))
    assert 'id="revision"' not in client.get(f"/units/{pk}").get_data(as_text=True)

    reanalyse(store, analyse_today, Options(reason="QA <asked>"))

    page = client.get(f"/units/{pk}").get_data(as_text=True)
    assert 'id="revision">1: QA &lt;asked&gt; (re-analysed: analysis 1 -&gt; 2' in page
    body = client.get(f"/api/results/{pk}").get_json()
    assert body["revision"] == 1 and body["revision_reason"].startswith("QA <asked>")
    [earlier] = body["revisions"]
    assert (earlier["revision"], earlier["status"], earlier["analysis_version"]) == (0, "Fail", "1")
    assert body["status"] == "Pass" and body["analysis_version"] == "2"


def test_reanalyze_under_a_spec_file_records_its_version_and_refuses_a_bad_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, inbox = tmp_path / "data", tmp_path / "inbox"
    (kept,) = copy_real(inbox, "8555_54_TEST DATA_9-3-2022_1-09 PM.xls")
    config = tmp_path / "agent.toml"
    config.write_text(f'[storage]\ndata_dir = "{data}"\n[inbox]\npaths = ["{inbox}"]\n')
    specs = tmp_path / "specs.csv"
    specs.write_text("model,policy\n8555,strict\n")
    monkeypatch.delenv("LTA_AGENT_CONFIG", raising=False)
    store = Store(data / "agent.sqlite")
    try:
        pk = record(store, analyse_file(kept))  # today's analysis, the station's rules
    finally:
        store.close()

    code = main(["reanalyze", "--config", str(config), "--specs", str(specs)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "revision 1: " + kept.name in out
    store = Store(data / "agent.sqlite")
    try:
        stored = FileResult.model_validate_json(row(store, pk)["document"])
    finally:
        store.close()
    assert stored.spec_version == load_spec_file(specs).version
    assert {t.adjustment.policy for t in stored.tracks if t.adjustment} == {"strict"}

    specs.write_text("model,policy\n8555,lenient\n")
    code = main(["reanalyze", "--config", str(config), "--specs", str(specs)])
    out, err = capsys.readouterr()
    assert code == EXIT_USAGE and out == ""
    assert "specs.csv row 2, column policy" in err
