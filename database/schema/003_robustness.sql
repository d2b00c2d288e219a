-- greenai: integrity of model checkpoints, and the change feed of stored breaks.

-- A checkpoint's SHA-256, checked before the state is ever unpickled: a corrupt version is
-- skipped for the previous good one instead of crash-looping the workers.
ALTER TABLE model_versions ADD COLUMN state_sha256 text;
UPDATE model_versions SET state_sha256 = encode(sha256(state), 'hex');
ALTER TABLE model_versions ALTER COLUMN state_sha256 SET NOT NULL;

-- Every stored change of a break takes the next number of one sequence: the id of its SSE
-- event, so a client that reconnects with Last-Event-ID gets exactly what it missed.
CREATE SEQUENCE break_changes;
ALTER TABLE breaks ADD COLUMN seq bigint;
UPDATE breaks SET seq = nextval('break_changes');
ALTER TABLE breaks ALTER COLUMN seq SET DEFAULT nextval('break_changes');
ALTER TABLE breaks ALTER COLUMN seq SET NOT NULL;
CREATE UNIQUE INDEX breaks_seq ON breaks (seq);
-- keyset pages of GET /api/breaks: newest first, break_id breaking ties
CREATE INDEX breaks_page ON breaks (updated_at DESC, break_id DESC);
