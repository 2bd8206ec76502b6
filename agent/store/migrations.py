"""Schema versions, applied in order on start; each is plain SQL in one transaction.

Migrations only run forward. A database whose version is higher than this
code knows was written by a newer agent (someone installed an older build over
a newer one): it is refused untouched, never "migrated" by code that cannot know
what the newer version changed.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from loguru import logger

from agent.store.database import StoreTooNewError, transaction

AUTO_VACUUM_INCREMENTAL = 2
# Switching an existing database to incremental vacuum needs one full VACUUM, which
# rewrites the whole file and blocks every write meanwhile; done at start-up only
# below this size (a few seconds at most), otherwise left off (docs/decisions/0014).
UPGRADE_VACUUM_MAX_BYTES = 64 * 1024 * 1024

MIGRATIONS: list[str] = [
    # 1: files, results with their tracks and curves, outbox
    """
    CREATE TABLE files (
        id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE,
        path TEXT NOT NULL,
        file_name TEXT NOT NULL,
        size_bytes INTEGER NOT NULL,
        mtime_ns INTEGER,
        seen_at TEXT NOT NULL,
        analysed_at TEXT NOT NULL,
        status TEXT NOT NULL,
        error_code TEXT,
        error_message TEXT
    );
    CREATE INDEX files_path ON files(path);

    CREATE TABLE results (
        id INTEGER PRIMARY KEY,
        result_id TEXT NOT NULL UNIQUE,
        file_id INTEGER NOT NULL UNIQUE REFERENCES files(id),
        station_id TEXT NOT NULL,
        file_name TEXT NOT NULL,
        status TEXT NOT NULL,
        system TEXT,
        model TEXT,
        serial TEXT,
        test_date TEXT,
        analysed_at TEXT NOT NULL,
        error_code TEXT,
        error_message TEXT,
        near_miss INTEGER NOT NULL DEFAULT 0,
        is_anomaly INTEGER NOT NULL DEFAULT 0,
        document TEXT NOT NULL
    );
    CREATE INDEX results_analysed_at ON results(analysed_at);

    CREATE TABLE tracks (
        id INTEGER PRIMARY KEY,
        result_pk INTEGER NOT NULL REFERENCES results(id),
        track_id TEXT NOT NULL,
        status TEXT NOT NULL,
        points INTEGER NOT NULL,
        sigma_gradient REAL,
        sigma_threshold REAL,
        linearity_error REAL,
        linearity_spec REAL,
        optimal_offset REAL,
        fail_points INTEGER,
        positions BLOB,
        errors BLOB,
        upper BLOB,
        lower BLOB,
        untrimmed_positions BLOB,
        untrimmed_errors BLOB,
        UNIQUE (result_pk, track_id)
    );

    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        result_pk INTEGER NOT NULL UNIQUE REFERENCES results(id),
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
        created_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        delivered_at TEXT
    );
    CREATE INDEX outbox_state ON outbox(state, id);
    """,
    # 2: the shift counters read only this index (no table lookups)
    """
    CREATE INDEX results_time_status ON results(analysed_at, status);
    DROP INDEX results_analysed_at;
    """,
    # 3: history results (old files imported on a first start) are kept out of the shift:
    # the counters read only results_shift, the latest unit and the recent list walk
    # results_live backwards by id. The recent list shows what decided a track's verdict,
    # so tracks keep the margin to the band and the largest violation, backfilled here.
    """
    ALTER TABLE results ADD COLUMN history INTEGER NOT NULL DEFAULT 0
        CHECK (history IN (0, 1));
    CREATE INDEX results_shift ON results(history, analysed_at, status);
    CREATE INDEX results_live ON results(history);
    DROP INDEX results_time_status;
    ALTER TABLE tracks ADD COLUMN margin_to_spec REAL;
    ALTER TABLE tracks ADD COLUMN max_violation REAL;
    UPDATE tracks SET margin_to_spec = doc.margin, max_violation = doc.violation
    FROM (
        SELECT r.id AS pk, json_extract(t.value, '$.track_id') AS track_id,
               json_extract(t.value, '$.margin_to_spec') AS margin,
               json_extract(t.value, '$.max_violation') AS violation
        FROM results r, json_each(r.document, '$.tracks') t
    ) AS doc
    WHERE doc.pk = tracks.result_pk AND doc.track_id = tracks.track_id
    """,
    # 4: each track's intermediate trim passes as one blob (shared/curves.py "LTP1");
    # the untrimmed and final passes are the track's own curve columns.
    """
    ALTER TABLE tracks ADD COLUMN pass_curves BLOB
    """,
    # 5: retention (agent.store.pruning) walks results by age, oldest first, in small
    # batches; results_shift leads with the history flag, so it needs its own index.
    """
    CREATE INDEX results_age ON results(analysed_at)
    """,
    # 6: spec-aware verdicts: each track's theory volts (the rotation's lever, so the page
    # draws e + t*k + c exactly as judged; shared/band.py).
    """
    ALTER TABLE tracks ADD COLUMN theory BLOB
    """,
    # 7: re-analysis (agent.reanalysis): a result's current revision (0 = first analysis)
    # and why it was revised; the revisions it replaced, as documents (no curves: those
    # are the file's, the same in every revision). results.analysed_at stays the first
    # analysis time (the shift and retention key); a revision's own time is its document's.
    """
    ALTER TABLE results ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE results ADD COLUMN revision_reason TEXT;
    CREATE TABLE result_revisions (
        id INTEGER PRIMARY KEY,
        result_pk INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
        revision INTEGER NOT NULL,
        analysed_at TEXT NOT NULL,
        analysis_version TEXT,
        spec_version TEXT,
        status TEXT NOT NULL,
        reason TEXT,
        document TEXT NOT NULL,
        UNIQUE (result_pk, revision)
    );
    CREATE INDEX results_model ON results(model)
    """,
    # 8: QA's spec table as central last sent it (agent.spec_sync): the station judges by
    # this copy while central is away, and asks for a newer one with its ETag.
    """
    CREATE TABLE spec_cache (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version TEXT NOT NULL,
        etag TEXT NOT NULL,
        document TEXT NOT NULL,
        fetched_at TEXT NOT NULL
    )
    """,
]


def current_version(conn: sqlite3.Connection) -> int:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version "
        "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def database_file(conn: sqlite3.Connection) -> Path | None:
    """The main database file of a connection (for messages), or None in memory."""
    for row in conn.execute("PRAGMA database_list"):
        if row[1] == "main" and row[2]:
            return Path(row[2])
    return None


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema to the newest version; returns the version now in place.

    Raises StoreTooNewError, before changing anything, when the database is newer
    than this code.
    """
    version = current_version(conn)
    if version > len(MIGRATIONS):
        raise StoreTooNewError(database_file(conn), version, len(MIGRATIONS))
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        statements = [s.strip() for s in script.split(";") if s.strip()]
        with transaction(conn):  # all of a migration or none of it
            for statement in statements:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                (number, datetime.now(UTC).isoformat()),
            )
        version = number
    return version


def ensure_incremental_vacuum(
    conn: sqlite3.Connection, max_bytes: int = UPGRADE_VACUUM_MAX_BYTES
) -> bool:
    """Switch a database made before version 5 to auto_vacuum=INCREMENTAL; True when on.

    New databases get it when they are created (agent.store.database.connect).
    An older one needs a VACUUM (outside any transaction), done here only when the
    file is small. A larger one keeps auto_vacuum off: pruned pages still go to
    SQLite's free list and are reused, so the file stops growing, it just does not
    shrink. A VACUUM that fails (a full disk: it needs as much free space again as
    the file) changes nothing and is tried again at the next start.
    """
    if conn.execute("PRAGMA auto_vacuum").fetchone()[0] == AUTO_VACUUM_INCREMENTAL:
        return True
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    size = conn.execute("PRAGMA page_count").fetchone()[0] * page_size
    if size > max_bytes:
        logger.warning(
            "The station database is {:.0f} MB and was made before incremental vacuum: "
            "pruned space is reused but the file will not shrink (docs/config.md, retention)",
            size / 1e6,
        )
        return False
    try:
        conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
        conn.execute("VACUUM")
    except sqlite3.Error as exc:
        logger.warning("Could not switch the station database to incremental vacuum: {}", exc)
        return False
    return bool(conn.execute("PRAGMA auto_vacuum").fetchone()[0] == AUTO_VACUUM_INCREMENTAL)
