-- QA's model-spec table (central/specs, docs/decisions/0020-central-model-specs.md).
-- One row per model with the columns of the spec file; every change is a row in
-- model_spec_changes (who, when, what, why) and an audit_log entry, written in the same
-- transaction. The table version counts changes: stations fetch the table when it moves.
CREATE TABLE model_specs (
    model TEXT PRIMARY KEY,
    aliases TEXT[] NOT NULL DEFAULT '{}',
    policy TEXT CHECK (policy IN ('station', 'spec', 'strict')),
    linearity_spec DOUBLE PRECISION CHECK (linearity_spec > 0),
    linearity_unit TEXT CHECK (linearity_unit IN ('%', 'V')),
    linearity_type TEXT,
    linearity_note TEXT,
    angle_nominal DOUBLE PRECISION,
    angle_tolerance DOUBLE PRECISION,
    angle_tolerance_type TEXT,
    resistance_min DOUBLE PRECISION,
    resistance_max DOUBLE PRECISION,
    exclude_points INTEGER[] NOT NULL DEFAULT '{}',
    sigma_threshold DOUBLE PRECISION CHECK (sigma_threshold > 0),
    resistance_in_verdict BOOLEAN NOT NULL DEFAULT false,
    angle_in_verdict BOOLEAN NOT NULL DEFAULT false,
    element_type TEXT,
    product_class TEXT,
    revision INTEGER NOT NULL DEFAULT 1,  -- this row's own change count
    table_version BIGINT NOT NULL,  -- the table version of its last change
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_by TEXT NOT NULL
);
CREATE INDEX model_specs_element ON model_specs (element_type);
CREATE INDEX model_specs_class ON model_specs (product_class);

-- Every name a model is known by (its own and its aliases), case-blind: one owner each,
-- so an alias resolves to exactly one model and a model lists its aliases.
CREATE TABLE model_spec_names (
    name_key TEXT PRIMARY KEY,
    model TEXT NOT NULL REFERENCES model_specs (model) ON DELETE CASCADE
);
CREATE INDEX model_spec_names_model ON model_spec_names (model);

-- The table's version: one row, moved by every change (an import is one change).
CREATE TABLE model_spec_table (
    singleton BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
    version BIGINT NOT NULL DEFAULT 0,
    changed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    reanalyse_days INTEGER NOT NULL DEFAULT 0,  -- the window QA asked stations to re-judge
    reanalyse_models TEXT[] NOT NULL DEFAULT '{}'
);
INSERT INTO model_spec_table (singleton, version) VALUES (true, 0);

-- The history of each row: what changed ({field: [before, after]}), by whom and why.
CREATE TABLE model_spec_changes (
    id BIGSERIAL PRIMARY KEY,
    table_version BIGINT NOT NULL,
    model TEXT NOT NULL,
    revision INTEGER NOT NULL,
    at TIMESTAMPTZ NOT NULL DEFAULT now(),
    actor TEXT NOT NULL,
    reason TEXT NOT NULL,
    changes JSONB NOT NULL,
    spec JSONB NOT NULL
);
CREATE INDEX model_spec_changes_model ON model_spec_changes (model, id);

-- The preview and the learned thresholds read a model's newest results by any spelling
-- of its name (stations write `8340-1` or `8340-1 `; the spec table is case-blind).
CREATE INDEX results_model_lower_time ON results (lower(model), analysed_at);

-- Learned sigma thresholds: central proposes, QA decides; only an accepted one is
-- written into model_specs.sigma_threshold (through the store, so versioned and audited).
CREATE TABLE sigma_proposals (
    id BIGSERIAL PRIMARY KEY,
    model TEXT NOT NULL,
    proposed DOUBLE PRECISION NOT NULL CHECK (proposed > 0),
    method TEXT NOT NULL,
    inputs JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    state TEXT NOT NULL DEFAULT 'proposed' CHECK (state IN ('proposed', 'accepted', 'rejected')),
    decided_value DOUBLE PRECISION,
    decided_by TEXT,
    decided_at TIMESTAMPTZ,
    decision_note TEXT
);
CREATE INDEX sigma_proposals_model ON sigma_proposals (model, id);
