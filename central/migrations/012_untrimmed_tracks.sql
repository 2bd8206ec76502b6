-- Tracks the trim process did not act on (shared/quality.py, docs/decisions/0021): the
-- laser never trimmed them (no trim pass in the file) or their trim did not happen (the
-- anomaly flag: a straight-line final curve). Capability leaves them out and counts them.
ALTER TABLE tracks ADD COLUMN untrimmed_only BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE track_series ADD COLUMN untrimmed BOOLEAN NOT NULL DEFAULT false;

-- Results stored before this migration carry the flag only in their document.
UPDATE tracks t SET untrimmed_only = true
FROM results r
WHERE r.result_id = t.result_id
  AND r.document @> '{"tracks": [{"untrimmed_only": true}]}'
  AND r.document -> 'tracks' @> jsonb_build_array(
      jsonb_build_object('track_id', t.track_id, 'untrimmed_only', true));

-- The series' flag is central/rollups.py's expression: untrimmed_only OR is_anomaly.
UPDATE track_series s SET untrimmed = true
FROM tracks t
WHERE t.result_id = s.result_id AND t.track_id = s.track_id
  AND (t.untrimmed_only OR t.is_anomaly);
