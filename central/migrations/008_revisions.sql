-- Re-analysis (docs/decisions/0018-revisions.md). A station may send a result again with
-- a higher revision: it replaces the stored one (row, tracks, fail bins, series and
-- rollups, in the ingest's transaction), and the one it replaced is kept here. An equal
-- or lower revision is a duplicate and changes nothing. Depends on 001.
ALTER TABLE results ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
ALTER TABLE results ADD COLUMN revision_reason TEXT;

-- The ingest replaces a result by deleting its row and COPYing the new one in the same
-- transaction, with this reference deferred to the commit (SET CONSTRAINTS, only there);
-- anything else that deletes results must delete their revisions first (or TRUNCATE ...
-- CASCADE): earlier verdicts are never lost by accident.
CREATE TABLE result_revisions (
    result_id UUID NOT NULL CONSTRAINT result_revisions_result
        REFERENCES results (result_id) DEFERRABLE INITIALLY IMMEDIATE,
    revision INTEGER NOT NULL,
    analysed_at TIMESTAMPTZ NOT NULL,  -- when this revision was analysed on the station
    received_at TIMESTAMPTZ NOT NULL,
    agent_version TEXT,
    analysis_version TEXT,
    spec_version TEXT,
    status TEXT NOT NULL,
    reason TEXT,
    document JSONB NOT NULL,
    PRIMARY KEY (result_id, revision)
);
