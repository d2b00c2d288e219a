-- greenai: a recon's sources are ordered (the first is the left side, the last the right),
-- but jsonb stores object keys sorted by length and name. json keeps the definition as
-- written. (Recons applied before this migration keep jsonb's order until applied again.)
ALTER TABLE recons ALTER COLUMN definition TYPE json USING definition::json;
