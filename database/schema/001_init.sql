-- greenai: reconciliation definitions and the breaks the BFF sinks from Kafka.

CREATE TABLE recons (
    name        text PRIMARY KEY,
    version     integer     NOT NULL,
    definition  jsonb       NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE breaks (
    break_id     text PRIMARY KEY,
    recon        text        NOT NULL,
    key          jsonb       NOT NULL,
    kind         text        NOT NULL CHECK (kind IN ('MISMATCH', 'MISSING', 'DUPLICATE')),
    missing_in   text,
    status       text        NOT NULL CHECK (status IN ('OPEN', 'RESOLVED')),
    fields       jsonb       NOT NULL,
    records      jsonb       NOT NULL,
    cause        text,
    confidence   double precision,
    explanation  jsonb       NOT NULL DEFAULT '[]',
    disposition  text,
    priority     smallint,
    first_seen   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    version      bigint      NOT NULL,
    stored_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX breaks_recon_status ON breaks (recon, status, updated_at DESC);
CREATE INDEX breaks_updated ON breaks (updated_at DESC);
