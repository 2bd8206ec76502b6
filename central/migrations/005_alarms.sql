-- Alarms on the fleet overview: the rules are in central/alarm_rules.py and
-- docs/decisions/0013-alarms.md; the evaluation that writes these rows runs in
-- `lta-central serve` once a minute (central/alarm_job.py). Depends on 001.

-- One row per episode of a condition: opened when a rule first finds it, kept up to
-- date (detail, last_seen_at) while the rule keeps finding it, marked cleared when it
-- stops. "Open" means not yet acknowledged: open alarms stay on top of the overview
-- until someone acknowledges them, whether or not the condition has cleared.
CREATE TABLE alarms (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('silent', 'drift', 'yield_drop', 'rule_violation')),
    station_pk BIGINT NOT NULL REFERENCES stations (id),
    -- '' when the alarm is about the station as a whole (silent, yield drop)
    model TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL,
    opened_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    cleared_at TIMESTAMPTZ,  -- NULL while the condition still holds
    acknowledged_by TEXT,
    acknowledged_at TIMESTAMPTZ,
    cause TEXT CHECK (cause IN (
        'fixture', 'material', 'laser', 'operator', 'measurement', 'station', 'planned',
        'none', 'other'
    )),
    note TEXT CHECK (char_length(note) <= 1000),
    CHECK ((acknowledged_at IS NULL) = (acknowledged_by IS NULL)),
    CHECK ((acknowledged_at IS NULL) = (cause IS NULL)),
    CHECK (last_seen_at >= opened_at)
);
-- At most one live alarm per kind, station and model: one that is still open, or whose
-- condition still holds. Evaluating twice updates it instead of opening another, and an
-- acknowledged alarm whose condition goes on is not opened again every minute.
CREATE UNIQUE INDEX alarms_live ON alarms (kind, station_pk, model)
    WHERE acknowledged_at IS NULL OR cleared_at IS NULL;
CREATE INDEX alarms_open ON alarms (opened_at) WHERE acknowledged_at IS NULL;
CREATE INDEX alarms_acknowledged ON alarms (acknowledged_at) WHERE acknowledged_at IS NOT NULL;
CREATE INDEX alarms_station ON alarms (station_pk);

-- The drift and chart rules read the newest units of each model on each station: this
-- index lets that be a short backward walk per pair instead of a bitmap over every unit
-- of the model in the window (3-6 s -> about 0.5 s per evaluation at 1M tracks).
CREATE INDEX results_station_model_made ON results (station_pk, model, made_at, result_id);

-- The latest evaluation, whichever central instance ran it: the overview shows when
-- alarms were last evaluated, so a stopped job cannot go unnoticed.
CREATE TABLE alarm_runs (
    id SMALLINT PRIMARY KEY CHECK (id = 1),
    evaluated_at TIMESTAMPTZ NOT NULL,
    took_ms DOUBLE PRECISION NOT NULL,
    findings INTEGER NOT NULL,
    opened INTEGER NOT NULL,
    cleared INTEGER NOT NULL
);
