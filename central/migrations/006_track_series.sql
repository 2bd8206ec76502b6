-- The per-track metrics the dashboard's charts read, in model and time order
-- (docs/decisions/0012-central-aggregations.md). Depends on 001, 002 and 004.
--
-- A model page or a station comparison reads every track of one model in a window.
-- From results + tracks that is one index probe into tracks per unit over two wide
-- tables; here it is one range of one index over a narrow one. Kept by the ingest in
-- the same transaction as the rollups (central/rollups.py), rebuilt with them.
-- No foreign keys: their per-row checks cost as much as the insert. Instead, removing
-- tracks (TRUNCATE, or a DELETE cascading from results) removes their series rows in
-- one statement-level trigger each; `rollups.series_drift` and `rollups.rebuild`
-- check and repair the table as a whole.
CREATE TABLE track_series (
    model TEXT NOT NULL,  -- '' when the file named none, as in the rollups
    made_at TIMESTAMP NOT NULL,
    result_id UUID NOT NULL,
    track_id TEXT NOT NULL,
    station_pk BIGINT NOT NULL,
    serial TEXT,
    status TEXT NOT NULL,
    sigma_gradient DOUBLE PRECISION,
    sigma_threshold DOUBLE PRECISION,
    linearity_error DOUBLE PRECISION,
    linearity_spec DOUBLE PRECISION,
    PRIMARY KEY (model, made_at, result_id, track_id)
);

CREATE FUNCTION track_series_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM track_series;  -- not TRUNCATE: the same statement may truncate it already
    RETURN NULL;
END $$;
CREATE TRIGGER track_series_truncate AFTER TRUNCATE ON tracks
    FOR EACH STATEMENT EXECUTE FUNCTION track_series_truncate();

CREATE FUNCTION track_series_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM track_series s USING gone g
    WHERE s.result_id = g.result_id AND s.track_id = g.track_id;
    RETURN NULL;
END $$;
CREATE TRIGGER track_series_delete AFTER DELETE ON tracks
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION track_series_delete();

INSERT INTO track_series
SELECT COALESCE(r.model, ''), r.made_at, r.result_id, t.track_id, r.station_pk, r.serial,
       t.status, t.sigma_gradient, t.sigma_threshold, t.linearity_error, t.linearity_spec
FROM results r JOIN tracks t ON t.result_id = r.result_id;

-- No query reads results by analysis time any more (every window is on made_at, 004),
-- and each index costs every ingested batch: these three served nothing.
DROP INDEX IF EXISTS results_model_time;
DROP INDEX IF EXISTS results_station_time;
DROP INDEX IF EXISTS results_status_time;
