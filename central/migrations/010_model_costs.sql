-- What one failing unit of a model costs the plant (scrap, rework, test time), set by QA
-- admins on the priorities page (central/priorities/costs.py, docs/decisions/0022).
-- Currency-free: the plant's own unit; bounded so a typing slip cannot rank a model first
-- by a factor of a million. Every change is an audit_log entry written in the same
-- transaction.
CREATE TABLE model_costs (
    model TEXT PRIMARY KEY CHECK (char_length(model) BETWEEN 1 AND 128),
    unit_cost NUMERIC(14, 4) NOT NULL CHECK (unit_cost > 0 AND unit_cost <= 1000000),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_by TEXT NOT NULL
);
