-- Dashboard users, their sessions, the lock-out counters and the audit log.
-- Everything lives in PostgreSQL so several central instances behind a load
-- balancer share sign-ins, lock-outs and the log.

-- Names are stored in lower case (central/users.py), so uniqueness ignores case.
CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'admin')),
    -- "scrypt$<n>$<r>$<p>$<salt b64>$<key b64>": the parameters travel with the hash,
    -- so raising them later leaves old hashes verifiable.
    password_hash TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    password_changed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    disabled_at TIMESTAMPTZ,
    last_login_at TIMESTAMPTZ
);

-- A session is a random token in the browser's cookie; only its SHA-256 is here,
-- so a copy of this table signs nobody in.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL,
    source_ip TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Failed sign-ins per user name (known or not, so a lock-out tells nothing about
-- which names exist). A row is deleted by the next successful sign-in.
CREATE TABLE login_failures (
    name TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_started_at TIMESTAMPTZ NOT NULL,
    locked_until TIMESTAMPTZ
);

-- Who did what, when, to what: sign-ins (successful or not), sign-outs and every
-- admin action. Rows are only ever added.
CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL DEFAULT now(),
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    source_ip TEXT,
    detail TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);
