-- greenai: the attribution model's versions and the Discriminator's decisions.

-- Every checkpoint of the learner: the pickled state together with the feedback offset it
-- reflects (it has folded feedback offsets [0, feedback_offset)). The state at an offset is a
-- pure function of the feedback log (for one River version), so all workers write the same
-- one: the first wins.
CREATE TABLE model_versions (
    version          bigserial   PRIMARY KEY,
    feedback_offset  bigint      NOT NULL,
    labels_seen      bigint      NOT NULL,
    based_on         bigint      REFERENCES model_versions (version),
    model            text        NOT NULL,
    river_version    text        NOT NULL,
    metrics          jsonb       NOT NULL,
    state            bytea       NOT NULL,
    created_by       text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (river_version, feedback_offset)
);

-- What attribution decided for each version of each break, and who reversed it.
CREATE TABLE decisions (
    break_id         text             NOT NULL,
    version          bigint           NOT NULL,
    recon            text             NOT NULL,
    cause            text             NOT NULL,
    confidence       double precision NOT NULL,
    disposition      text             NOT NULL
                     CHECK (disposition IN ('AUTO_CLOSE', 'QUEUE', 'ESCALATE')),
    priority         smallint         NOT NULL,
    materiality      numeric          NOT NULL,
    anomaly          double precision NOT NULL,
    decided_by       text             NOT NULL,  -- 'model' | 'analyst'
    model_offset     bigint           NOT NULL,  -- the feedback offset the model reflected
    reasons          jsonb            NOT NULL DEFAULT '[]',
    decided_at       timestamptz      NOT NULL DEFAULT now(),
    reversed_at      timestamptz,
    reversed_by      text,
    reversed_to      text CHECK (reversed_to IN ('AUTO_CLOSE', 'QUEUE', 'ESCALATE')),
    reversal_reason  text,
    PRIMARY KEY (break_id, version)
);

CREATE INDEX decisions_open_auto ON decisions (recon, disposition, decided_at DESC);
