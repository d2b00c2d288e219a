-- greenai: the exception workflow of breaks, their history, and the matched keys.

-- A break's workflow (Break.avsc v2), written by the sink like the rest of the break: the
-- diff worker applies every person's action (the commands topic) and publishes the break's
-- next revision; (version, revision) orders a break's changes.
ALTER TABLE breaks DROP CONSTRAINT breaks_status_check;
ALTER TABLE breaks ADD CONSTRAINT breaks_status_check
    CHECK (status IN ('OPEN', 'IN_REVIEW', 'RESOLVED', 'CLOSED'));
ALTER TABLE breaks
    ADD COLUMN revision             bigint      NOT NULL DEFAULT 0,
    ADD COLUMN owner                text,
    ADD COLUMN tags                 text[]      NOT NULL DEFAULT '{}',
    ADD COLUMN close_reason         text,
    ADD COLUMN close_note           text,
    ADD COLUMN closed_by            text,
    ADD COLUMN closed_at            timestamptz,
    ADD COLUMN approved_by          text,
    ADD COLUMN written_off          numeric,
    ADD COLUMN keep_open            boolean     NOT NULL DEFAULT false,
    ADD COLUMN proposal             jsonb,
    ADD COLUMN analyst_cause        jsonb,
    ADD COLUMN analyst_disposition  jsonb,
    ADD COLUMN activity             jsonb,
    ADD COLUMN materiality          numeric,
    ADD COLUMN due                  timestamptz;

CREATE INDEX breaks_owner ON breaks (owner, updated_at DESC) WHERE owner IS NOT NULL;
CREATE INDEX breaks_pending ON breaks (updated_at DESC) WHERE proposal IS NOT NULL;
CREATE INDEX breaks_due ON breaks (due) WHERE status IN ('OPEN', 'IN_REVIEW');
CREATE INDEX breaks_first_seen ON breaks (recon, first_seen);

-- Every stored change of every break, one row per (version, revision), written by the sink:
-- the comment thread, who did what when, and when each break settled (statistics).
CREATE TABLE break_history (
    break_id     text        NOT NULL,
    version      bigint      NOT NULL,
    revision     bigint      NOT NULL,
    recon        text        NOT NULL,
    status       text        NOT NULL,
    owner        text,
    cause        text,
    disposition  text,
    close_reason text,
    action       text,          -- the person's (or scheduler's) action; NULL: the data changed
    by           text,
    command_id   text,
    text         text,          -- a comment
    reason       text,
    note         text,
    assignee     text,
    at           timestamptz NOT NULL,
    stored_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (break_id, version, revision)
);
CREATE INDEX break_history_comments ON break_history (break_id, at) WHERE action = 'COMMENT';
CREATE INDEX break_history_commands ON break_history (command_id) WHERE command_id IS NOT NULL;
CREATE INDEX break_history_settled ON break_history (recon, at)
    WHERE status IN ('RESOLVED', 'CLOSED');

-- Every time a key came to match (the matches topic), written by the sink: the match rate.
CREATE TABLE matches (
    recon       text        NOT NULL,
    key         jsonb       NOT NULL,
    matched_at  timestamptz NOT NULL,
    PRIMARY KEY (recon, key, matched_at)
);
CREATE INDEX matches_day ON matches (recon, matched_at);
CREATE INDEX breaks_recon_key ON breaks (recon, key);
