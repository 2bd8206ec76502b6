-- Protocol 2: each track's intermediate trim passes (shared/curves.py "LTP1");
-- the untrimmed and final passes are the track's own curve. NULL for protocol-1 results.
ALTER TABLE tracks ADD COLUMN pass_curves BYTEA;
ALTER TABLE tracks ALTER COLUMN pass_curves SET STORAGE EXTERNAL;
