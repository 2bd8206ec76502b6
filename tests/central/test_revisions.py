"""Revisions at central: a re-analysed result replaces the stored one, idempotently, and every
dashboard figure is then what a fresh ingest of the final state gives.

Real PostgreSQL, central's own ingest (and its HTTP API through the Flask test
client), really analysed files: revision 0 is each file analysed under a spec
table that makes every model `strict` (the first release's rule, as an old agent
judged it), revision 1 the same file under today's default policy.
"""

from __future__ import annotations

import html
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from agent.analysis.file import analyse_file
from agent.reanalysis import Options, reanalyse
from agent.runtime import Runtime
from agent.store.store import Store
from central import rollups
from central.auth.audit import CLI
from central.auth.users import Role, add_user
from central.db import Database
from central.queries import units
from central.stations import add_station
from shared.analysis_settings import AnalysisSettings
from shared.ids import result_id
from shared.model_specs import ModelSpec, Policy, SpecTable
from shared.models import FileResult
from shared.protocol import PROTOCOL_VERSION, RESULTS_PATH, IngestBatch, StationResult
from tests.agent.test_sync import make_syncer, serve
from tests.central.auth_helpers import VIEWER, VIEWER_PASSWORD, make_client, signed_in
from tests.central.data_helpers import ingest
from tests.central.test_rollups import assert_rows_equal
from tests.conftest import STATION, emptied
from tests.real_truth import IN_REPO

FIRST_SEEN = datetime(2025, 3, 12, 7, 0, tzinfo=UTC)
STRICT = "strict-2024"


@pytest.fixture
def db(module_db: Database) -> Database:
    return emptied(module_db)


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[FileResult, FileResult]]:
    """(revision 0 as a strict-era agent stored it, revision 1 as today's analysis gives it)."""
    from agent.simulate import simulate_station

    folder = tmp_path_factory.mktemp("station")
    paths = [*simulate_station(folder, count=8, seed=11), *sorted(IN_REPO.glob("*.xls"))]
    today = [analyse_file(path) for path in paths]
    models = sorted({r.model for r in today if r.model})
    strict = AnalysisSettings(
        specs=SpecTable(
            version=STRICT, specs=tuple(ModelSpec(model=m, policy=Policy.STRICT) for m in models)
        )
    )
    old = [
        analyse_file(path, strict).model_copy(
            update={"analysis_version": "1", "analysed_at": FIRST_SEEN}
        )
        for path in paths
    ]
    pairs = list(zip(old, today, strict=True))
    changed = [
        o
        for o, n in pairs
        if [t.fail_points for t in o.tracks] != [t.fail_points for t in n.tracks]
    ]
    assert changed, "no file judged differently: the test would prove nothing"
    return pairs


def item(result: FileResult, revision: int = 0, reason: str | None = None) -> StationResult:
    assert result.sha256 is not None
    sent = StationResult.from_result(result_id(STATION, result.sha256), result)
    if revision == 0:
        return sent
    return StationResult.model_validate(
        {
            **sent.model_dump(),
            "revision": revision,
            "revision_reason": reason,
            "first_analysed_at": FIRST_SEEN,
        }
    )


def batch(items: list[StationResult]) -> IngestBatch:
    return IngestBatch(
        protocol_version=PROTOCOL_VERSION,
        station_id=STATION,
        agent_version="0.2.0-test",
        sent_at=datetime(2025, 3, 13, 9, 0, tzinfo=UTC),
        results=items,
    )


def snapshot(db: Database) -> dict[str, Any]:
    """Everything the dashboard reads, in a stable order."""
    with db.pool.connection() as conn:
        daily, bins = rollups.stored(conn)
        return {
            "daily": daily,
            "bins": bins,
            "series": conn.execute("SELECT * FROM track_series ORDER BY 1, 2, 3, 4").fetchall(),
            "fail_bins": conn.execute(
                "SELECT * FROM track_fail_bins ORDER BY result_id, track_id"
            ).fetchall(),
            "results": conn.execute(
                "SELECT result_id, status, model, made_at, analysed_at, revision, document "
                "FROM results ORDER BY result_id"
            ).fetchall(),
            "tracks": conn.execute(
                "SELECT result_id, track_id, status, fail_points, linearity_error, optimal_offset, "
                "curve FROM tracks ORDER BY 1, 2"
            ).fetchall(),
        }


def test_a_higher_revision_replaces_the_result_and_the_old_one_is_kept(
    db: Database, pairs: list[tuple[FileResult, FileResult]]
) -> None:
    old, new = next(
        p for p in pairs if p[0].tracks and p[0].tracks[0].fail_points != p[1].tracks[0].fail_points
    )
    rid = item(old).result_id
    assert ingest(db, batch([item(old)])).accepted == [rid]

    answer = ingest(db, batch([item(new, 1, "re-analysed: analysis 1 -> 2")]))

    assert answer.accepted == [rid] and answer.duplicate == []
    with db.pool.connection() as conn:
        row = conn.execute(
            "SELECT revision, revision_reason, analysed_at, document->>'analysis_version' "
            "FROM results WHERE result_id = %s",
            (rid,),
        ).fetchone()
        fails = conn.execute(
            "SELECT fail_points FROM tracks WHERE result_id = %s ORDER BY track_id", (rid,)
        ).fetchall()
        kept = conn.execute(
            "SELECT revision, analysis_version, spec_version, status, reason, analysed_at, "
            "document->'tracks'->0->>'fail_points' FROM result_revisions WHERE result_id = %s",
            (rid,),
        ).fetchall()
    assert row == (1, "re-analysed: analysis 1 -> 2", FIRST_SEEN, "2")
    assert [f[0] for f in fails] == [t.fail_points for t in new.tracks]
    assert kept == [
        (0, "1", STRICT, old.status.value, None, FIRST_SEEN, str(old.tracks[0].fail_points))
    ]


def test_a_resent_revision_is_a_duplicate_and_a_lower_one_never_overwrites(
    db: Database, pairs: list[tuple[FileResult, FileResult]]
) -> None:
    olds, news = [p[0] for p in pairs], [p[1] for p in pairs]
    ingest(db, batch([item(r) for r in olds]))
    ingest(db, batch([item(r, 1, "spec-aware") for r in news]))
    before = snapshot(db)

    again = ingest(db, batch([item(r, 1, "spec-aware") for r in news]))  # a lost answer
    late = ingest(db, batch([item(r) for r in olds]))  # revision 0 arriving after 1
    assert again.accepted == late.accepted == []
    assert len(again.duplicate) == len(late.duplicate) == len(pairs)
    assert snapshot(db) == before
    with db.pool.connection() as conn:
        count = conn.execute("SELECT COUNT(*) FROM result_revisions").fetchone()
    assert count == (len(pairs),)


def test_every_dashboard_figure_after_revisions_is_a_fresh_ingest_of_the_final_state(
    db: Database, pairs: list[tuple[FileResult, FileResult]]
) -> None:
    olds, news = [p[0] for p in pairs], [p[1] for p in pairs]
    half = len(pairs) // 2
    # revision 0 of every file; then revision 1 of half of them beside new results in one
    # batch; then revision 2 of one of those; then the rest in a batch with resends.
    ingest(db, batch([item(r) for r in olds[:-2]]))
    mixed = ingest(db, batch([item(r, 1, "spec-aware") for r in news[:half]] + [item(olds[-2])]))
    assert len(mixed.accepted) == half + 1
    ingest(db, batch([item(news[0], 2, "specs v2")]))
    ingest(db, batch([item(r, 1, "spec-aware") for r in news[half:]] + [item(olds[0])]))
    final = [item(news[0], 2, "specs v2")] + [item(r, 1, "spec-aware") for r in news[1:]]
    with db.pool.connection() as conn:
        assert rollups.series_drift(conn) == 0
        stored, recomputed = rollups.stored(conn), rollups.recomputed(conn)
    for got, want in zip(stored, recomputed, strict=True):
        assert_rows_equal(got, want)
    revised = snapshot(db)

    emptied(db)
    ingest(db, batch(final))
    fresh = snapshot(db)

    for key in ("daily", "bins"):
        assert_rows_equal(revised[key], fresh[key])
    for key in ("series", "fail_bins", "results", "tracks"):
        assert revised[key] == fresh[key], key
    assert revised["fail_bins"] != [], "no failing track: the bins were not exercised"


def test_a_revision_that_arrives_first_is_stored_at_its_units_time(
    db: Database, pairs: list[tuple[FileResult, FileResult]]
) -> None:
    new = pairs[-1][1]
    sent = item(new, 3, "re-analysed twice before the network came back")
    assert ingest(db, batch([sent])).accepted == [sent.result_id]
    found = units.unit(db, UUID(sent.result_id))
    assert found is not None and found.revision == 3 and found.revisions == []
    with db.pool.connection() as conn:
        row = conn.execute(
            "SELECT analysed_at, (document->>'analysed_at')::timestamptz FROM results"
        ).fetchone()
    assert row == (FIRST_SEEN, new.analysed_at)


def test_the_ingest_api_answers_revisions_and_the_unit_page_lists_them(
    db: Database, pairs: list[tuple[FileResult, FileResult]]
) -> None:
    import gzip

    old, new = pairs[-1]
    token = add_station(db, STATION)
    add_user(db, VIEWER, Role.VIEWER, VIEWER_PASSWORD, CLI)
    api = make_client(db)

    def post(items: list[StationResult]) -> dict[str, Any]:
        response = api.post(
            RESULTS_PATH,
            data=gzip.compress(batch(items).model_dump_json().encode()),
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "Content-Encoding": "gzip",
            },
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        body: dict[str, Any] = response.get_json()
        return body

    rid = item(old).result_id
    assert post([item(old)])["accepted"] == [rid]
    reason = "QA <b>asked</b> & the spec changed"
    assert post([item(new, 1, reason)])["accepted"] == [rid]
    assert post([item(new, 1, reason)])["duplicate"] == [rid]
    assert post([item(old)])["duplicate"] == [rid]

    viewer = signed_in(db, VIEWER, VIEWER_PASSWORD)
    body = viewer.get(f"/units/{rid}").get_data(as_text=True)
    section = body[
        body.index('id="revisions"') : body.index("</section>", body.index('id="revisions"'))
    ]
    assert "Shown: revision 1" in section
    assert html.escape(reason) in section and reason not in section
    assert 'data-revision="0"' in section and STRICT in section and "first analysis" in section
    assert f"verdict-{old.status.value.lower()}" in section

    other = pairs[0][1]
    post([item(other)])
    plain = viewer.get(f"/units/{item(other).result_id}").get_data(as_text=True)
    assert 'id="revisions"' not in plain


def test_a_station_reanalysis_reaches_central_as_a_new_revision(
    store: Store,
    runtime: Runtime,
    central_db: Database,
    tmp_path: Path,
) -> None:
    """The whole path: an old verdict in the store, synced; `reanalyze`; synced again."""

    from agent.analysis.file import analyse_content
    from tests.agent.test_reanalysis import PASSING, as_old_agent, record

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    path = Path(shutil.copy2(IN_REPO / PASSING, inbox / PASSING))
    record(store, as_old_agent(analyse_file(path)))
    central = serve(central_db, rate_burst=1000, rate_limit_per_minute=60000)
    try:
        syncer = make_syncer(store, runtime, central.url, add_station(central_db, STATION))
        assert syncer.run() == 1
        summary = reanalyse(
            store,
            lambda path, content, sha256: analyse_content(
                path, content, AnalysisSettings(), sha256
            ),
            Options(),
        )
        assert summary.revised == 1
        assert syncer.run() == 1
        assert syncer.run() == 0  # delivered: nothing left to send
    finally:
        central.stop()
    with central_db.pool.connection() as conn:
        row = conn.execute("SELECT result_id, status, revision FROM results").fetchone()
        earlier = conn.execute("SELECT revision, status FROM result_revisions").fetchall()
    assert row is not None and row[1:] == ("Pass", 1)
    assert earlier == [(0, "Fail")]
    found = units.unit(central_db, row[0])
    assert found is not None and found.revision_reason is not None
    assert "verdict Fail -> Pass" in found.revision_reason
