-- The QA dashboard's data layer (docs/decisions/0012-central-aggregations.md).
-- Depends only on 001 and 002.

-- When a unit was made: the station's own test time (the plant's local clock, the
-- time history imports must be placed at), else the UTC time it was analysed.
-- Every dashboard window, series and daily bucket uses this one column.
ALTER TABLE results ADD COLUMN made_at TIMESTAMP
    GENERATED ALWAYS AS (COALESCE(test_date, analysed_at AT TIME ZONE 'UTC')) STORED;
CREATE INDEX results_model_made ON results (model, made_at);
CREATE INDEX results_station_made ON results (station_pk, made_at);
CREATE INDEX results_made ON results (made_at, result_id);
-- Unit search: case-insensitive serial prefix.
CREATE INDEX results_serial_prefix ON results (lower(serial) text_pattern_ops);

-- Where along the travel a failing track's points are outside the band: the counts
-- in 20 equal bins of the travel (bin 1 = the first 5 %), after the track's optimal
-- offset. Computed at ingest from the curve (central/rollups.py), because positions
-- live only inside the compressed curve blob. Only tracks with failing points.
CREATE TABLE track_fail_bins (
    result_id UUID NOT NULL,
    track_id TEXT NOT NULL,
    bins INTEGER[] NOT NULL CHECK (cardinality(bins) = 20),
    PRIMARY KEY (result_id, track_id),
    FOREIGN KEY (result_id, track_id) REFERENCES tracks (result_id, track_id) ON DELETE CASCADE
);

-- Per station, model ('' when the file named none) and production day: what the
-- overview, the model page's rate-over-time and the export summary add up.
-- Result counts are per file (a unit); track counts and sums per analysed track.
-- Keyed by station, so concurrent ingests of different stations never touch the
-- same row (one station's batches are serialised by its advisory lock).
CREATE TABLE rollup_daily (
    station_pk BIGINT NOT NULL REFERENCES stations (id),
    model TEXT NOT NULL,
    day DATE NOT NULL,
    results INTEGER NOT NULL,
    passes INTEGER NOT NULL,
    warnings INTEGER NOT NULL,
    fails INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    skipped INTEGER NOT NULL,
    tracks INTEGER NOT NULL,
    near_misses INTEGER NOT NULL,
    anomalies INTEGER NOT NULL,
    fail_points BIGINT NOT NULL,
    sigma_n INTEGER NOT NULL,
    sigma_sum DOUBLE PRECISION NOT NULL,
    sigma_sumsq DOUBLE PRECISION NOT NULL,
    -- linearity error over tracks with a spec: raw and as a fraction of the spec
    lin_n INTEGER NOT NULL,
    lin_sum DOUBLE PRECISION NOT NULL,
    lin_sumsq DOUBLE PRECISION NOT NULL,
    ratio_sum DOUBLE PRECISION NOT NULL,
    ratio_sumsq DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (station_pk, model, day)
);
CREATE INDEX rollup_daily_model_day ON rollup_daily (model, day);
CREATE INDEX rollup_daily_day ON rollup_daily (day);

-- track_fail_bins added up per station, model, day and bin (1-20).
CREATE TABLE rollup_fail_bins (
    station_pk BIGINT NOT NULL REFERENCES stations (id),
    model TEXT NOT NULL,
    day DATE NOT NULL,
    bin SMALLINT NOT NULL CHECK (bin BETWEEN 1 AND 20),
    points BIGINT NOT NULL,
    tracks INTEGER NOT NULL,
    PRIMARY KEY (station_pk, model, day, bin)
);
CREATE INDEX rollup_fail_bins_model_day ON rollup_fail_bins (model, day);
