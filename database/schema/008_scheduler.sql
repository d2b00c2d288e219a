-- greenai: the scheduler's jobs and runs, the runs people ask for, and what it keeps.

-- The jobs as the scheduler plans them from the recons (written by the scheduler).
CREATE TABLE schedule_jobs (
    job         text        PRIMARY KEY,   -- cutoff:<recon>, connector:<recon>/<source>, sla, ...
    kind        text        NOT NULL CHECK (kind IN ('cutoff', 'connector', 'sla', 'ageing',
                                                     'retention')),
    recon       text,
    source      text,
    schedule    text        NOT NULL,      -- as said: "17:30 Europe/London", a cron line, ...
    next_run    timestamptz,
    planned_at  timestamptz NOT NULL DEFAULT now()
);

-- A run of a job someone asked for (written by the BFF: `greenai schedule run`, the UI).
CREATE TABLE schedule_requests (
    request_id    bigserial   PRIMARY KEY,
    job           text        NOT NULL,
    requested_by  text        NOT NULL,
    requested_at  timestamptz NOT NULL DEFAULT now()
);

-- Every run of every job (written by the scheduler): one per job and slot, whichever replica
-- runs it; a requested run names its request.
CREATE TABLE schedule_runs (
    run_id        bigserial   PRIMARY KEY,
    job           text        NOT NULL,
    slot          timestamptz NOT NULL,    -- the moment it was due (or asked for)
    request_id    bigint      UNIQUE REFERENCES schedule_requests (request_id),
    requested_by  text,
    worker        text        NOT NULL,
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz,
    status        text        NOT NULL CHECK (status IN ('RUNNING', 'OK', 'FAILED')),
    detail        text,
    UNIQUE (job, slot)
);
CREATE INDEX schedule_runs_job ON schedule_runs (job, started_at DESC);

-- A recon's end of day at its cut-off (written by the scheduler): the day's figures, the
-- ageing, and every break still open, as the end-of-day report shows them.
CREATE TABLE eod_snapshots (
    recon          text        NOT NULL,
    business_date  date        NOT NULL,
    taken_at       timestamptz NOT NULL,
    summary        jsonb       NOT NULL,
    open_breaks    jsonb       NOT NULL,
    PRIMARY KEY (recon, business_date)
);

-- The ageing of each recon's open breaks, over time (written by the scheduler).
CREATE TABLE ageing_snapshots (
    recon      text        NOT NULL,
    taken_at   timestamptz NOT NULL,
    total      integer     NOT NULL,
    overdue    integer     NOT NULL,
    by_bucket  jsonb       NOT NULL,
    PRIMARY KEY (recon, taken_at)
);
