"""Result revisions: a re-analysed result replaces the stored one, which is kept.

A station re-analyses a stored file (`lta-agent reanalyze`) and sends the same
result_id with a higher `revision`. The ingest (central/ingest.py) then, in the
batch's own transaction and under the station's lock:
1. `supersede`: copies the stored result to result_revisions and deletes it; its
   tracks, fail bins and series rows go with it (cascade and trigger);
2. COPYs the new revision exactly as it would a new result (ingest.copy_new);
3. `rollups.refresh`: recomputes the rollup rows of every (station, model, day) the
   old or the new revision counts in, from the stored rows, so every dashboard figure
   is what a fresh ingest of the final state gives.
An equal revision is a resend and a lower one is older news: both are answered
as duplicates and change nothing. docs/decisions/0018-revisions.md has the design.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from central import rollups


def supersede(cur: psycopg.Cursor[Any], result_ids: list[UUID]) -> list[rollups.Key]:
    """Keep the stored revisions of these results and remove them; their rollup keys."""
    keys = rollups.keys_of(cur, result_ids)
    # The row is deleted and COPYed again below: its revisions' reference is checked at commit.
    cur.execute("SET CONSTRAINTS result_revisions_result DEFERRED")
    cur.execute(
        "INSERT INTO result_revisions (result_id, revision, analysed_at, received_at, "
        "agent_version, analysis_version, spec_version, status, reason, document) "
        "SELECT result_id, revision, COALESCE((document->>'analysed_at')::timestamptz, "
        "analysed_at), received_at, agent_version, analysis_version, "
        "document->>'spec_version', status, revision_reason, document "
        "FROM results WHERE result_id = ANY(%s) "
        "ON CONFLICT (result_id, revision) DO NOTHING",
        (result_ids,),
    )
    cur.execute("DELETE FROM results WHERE result_id = ANY(%s)", (result_ids,))
    return keys


@dataclass(frozen=True)
class RevisionRow:
    """An earlier revision of a result, as the unit page lists it."""

    revision: int
    analysed_at: datetime
    received_at: datetime
    analysis_version: str | None
    spec_version: str | None
    status: str
    reason: str | None


def earlier(conn: psycopg.Connection[Any], result_id: UUID) -> list[RevisionRow]:
    """The revisions a result replaced, newest first."""
    rows = conn.execute(
        "SELECT revision, analysed_at, received_at, analysis_version, spec_version, "
        "status, reason FROM result_revisions WHERE result_id = %s ORDER BY revision DESC",
        (result_id,),
    ).fetchall()
    return [RevisionRow(*row) for row in rows]
