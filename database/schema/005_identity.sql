-- greenai: who may do what (users, API tokens) and who did what (the audit trail).

-- People and service accounts. A local account has a password hash (argon2id); a single
-- sign-on account has the provider's subject instead. `recons` NULL: every recon.
CREATE TABLE users (
    user_id          bigserial   PRIMARY KEY,
    username         text        NOT NULL UNIQUE,
    display_name     text        NOT NULL DEFAULT '',
    kind             text        NOT NULL DEFAULT 'person' CHECK (kind IN ('person', 'service')),
    roles            text[]      NOT NULL DEFAULT '{}',
    recons           text[],
    password_hash    text,
    sso_subject      text        UNIQUE,
    disabled         boolean     NOT NULL DEFAULT false,
    failed_sign_ins  integer     NOT NULL DEFAULT 0,
    locked_until     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (roles <@ ARRAY['viewer', 'analyst', 'approver', 'admin']::text[])
);

-- API tokens for the command line and service accounts: only a SHA-256 of the token is
-- kept (the token itself is shown once). A token carries a subset of its user's roles.
CREATE TABLE api_tokens (
    token_id      bigserial   PRIMARY KEY,
    user_id       bigint      NOT NULL REFERENCES users (user_id),
    name          text        NOT NULL,
    token_sha256  text        NOT NULL UNIQUE,
    prefix        text        NOT NULL,
    roles         text[]      NOT NULL,
    created_by    text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    revoked_at    timestamptz,
    last_used_at  timestamptz
);

-- The audit trail: append-only (the application role may only SELECT and INSERT it) and
-- hash-chained: each entry's hash covers the previous entry's hash and its own content, so
-- an entry edited, deleted or inserted afterwards breaks the chain (`greenai audit verify`).
CREATE TABLE audit_log (
    seq          bigint      PRIMARY KEY,
    at           timestamptz NOT NULL,
    actor        text        NOT NULL,
    actor_kind   text        NOT NULL,
    action       text        NOT NULL,
    target_type  text        NOT NULL DEFAULT '',
    target_id    text        NOT NULL DEFAULT '',
    recon        text,
    before       jsonb,
    after        jsonb,
    ip           text        NOT NULL DEFAULT '',
    user_agent   text        NOT NULL DEFAULT '',
    request_id   text        NOT NULL DEFAULT '',
    prev_hash    text        NOT NULL,
    hash         text        NOT NULL UNIQUE
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_target ON audit_log (target_type, target_id);
CREATE INDEX audit_log_actor ON audit_log (actor, at);

-- How far the audit trail has been shipped to the greenai.audit topic (one row).
CREATE TABLE audit_shipped (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq        bigint  NOT NULL
);
INSERT INTO audit_shipped (seq) VALUES (0);
