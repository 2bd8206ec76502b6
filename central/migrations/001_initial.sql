-- Stations and their tokens (only a hash of each token is stored).
CREATE TABLE stations (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at TIMESTAMPTZ,
    last_seen_at TIMESTAMPTZ
);

-- One row per analysed file per station; result_id is derived from station + SHA-256.
CREATE TABLE results (
    result_id UUID PRIMARY KEY,
    station_pk BIGINT NOT NULL REFERENCES stations (id),
    sha256 TEXT NOT NULL,
    file_name TEXT NOT NULL,
    status TEXT NOT NULL,
    system TEXT,
    model TEXT,
    serial TEXT,
    test_date TIMESTAMP,
    analysed_at TIMESTAMPTZ NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    error_code TEXT,
    agent_version TEXT,
    analysis_version TEXT,
    document JSONB NOT NULL
);
CREATE INDEX results_model_time ON results (model, analysed_at);
CREATE INDEX results_station_time ON results (station_pk, analysed_at);
CREATE INDEX results_serial ON results (serial);
CREATE INDEX results_status_time ON results (status, analysed_at);

-- Tracks with their metrics as columns (for trends and SPC) and curves as float64 arrays.
CREATE TABLE tracks (
    result_id UUID NOT NULL REFERENCES results (result_id) ON DELETE CASCADE,
    track_id TEXT NOT NULL,
    status TEXT NOT NULL,
    points INTEGER NOT NULL,
    sigma_gradient DOUBLE PRECISION,
    sigma_threshold DOUBLE PRECISION,
    sigma_pass BOOLEAN,
    linearity_error DOUBLE PRECISION,
    linearity_spec DOUBLE PRECISION,
    linearity_pass BOOLEAN,
    optimal_offset DOUBLE PRECISION,
    fail_points INTEGER,
    raw_fail_points INTEGER,
    travel_length DOUBLE PRECISION,
    max_violation DOUBLE PRECISION,
    margin_to_spec DOUBLE PRECISION,
    near_miss BOOLEAN NOT NULL DEFAULT false,
    is_anomaly BOOLEAN NOT NULL DEFAULT false,
    curve BYTEA,  -- shared/curves.py "LTC1": all six arrays of the track in one blob
    PRIMARY KEY (result_id, track_id)
);
-- Curves arrive zlib-compressed (shared/curves.py): storing them as they are saves CPU.
ALTER TABLE tracks ALTER COLUMN curve SET STORAGE EXTERNAL;

-- The latest heartbeat of each station.
CREATE TABLE heartbeats (
    station_pk BIGINT PRIMARY KEY REFERENCES stations (id),
    received_at TIMESTAMPTZ NOT NULL,
    sent_at TIMESTAMPTZ,
    agent_version TEXT,
    outbox_pending INTEGER,
    oldest_undelivered_age_s DOUBLE PRECISION,
    dead_letters INTEGER,
    last_error TEXT
);
