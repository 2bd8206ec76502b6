-- Read tokens: how a viewer's own tool (Minitab, JMP, Power BI, an MES) reads the
-- dashboard's figures from /api/v1 without a browser session
-- (docs/decisions/0023-read-api.md). Only the SHA-256 of a token is kept, as for station
-- tokens; a revoked token stays listed (who made it, when it was revoked) and is refused.
CREATE TABLE read_tokens (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ
);
-- One live token per name, so an admin revokes the one they mean.
CREATE UNIQUE INDEX read_tokens_live_name ON read_tokens (name) WHERE revoked_at IS NULL;
