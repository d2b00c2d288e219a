-- greenai: who is told of alerts, and how each telling went.

-- Alert subscribers (written by the BFF: `greenai alerts subscribe`, POST
-- /api/alerts/subscriptions). A webhook is signed with `secret` (HMAC-SHA256); NULL filters
-- take every recon, severity or kind. A subscription is ended, not deleted, so that its
-- delivery log stays readable.
CREATE TABLE alert_subscriptions (
    subscription_id  bigserial   PRIMARY KEY,
    name             text        NOT NULL UNIQUE,
    channel          text        NOT NULL CHECK (channel IN ('webhook', 'email')),
    target           text        NOT NULL,
    secret           text,
    recons           text[],
    severities       text[],
    kinds            text[],
    created_by       text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    ended_at         timestamptz,
    CHECK (channel <> 'webhook' OR secret IS NOT NULL)
);

-- Every attempt to tell a subscriber of an alert (written by the notifier): FAILED attempts
-- are retried with exponential backoff; the last one is DELIVERED or, after the last try,
-- DEAD (and the alert is dead-lettered with the reason). One final row per subscriber and
-- alert: a repeated alert (the same alert_id) is not sent again.
CREATE TABLE alert_deliveries (
    delivery_id      bigserial   PRIMARY KEY,
    subscription_id  bigint      NOT NULL REFERENCES alert_subscriptions (subscription_id),
    alert_id         text        NOT NULL,
    attempt          integer     NOT NULL,
    outcome          text        NOT NULL CHECK (outcome IN ('DELIVERED', 'FAILED', 'DEAD')),
    detail           text        NOT NULL DEFAULT '',
    at               timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX alert_deliveries_final
    ON alert_deliveries (subscription_id, alert_id) WHERE outcome <> 'FAILED';
CREATE INDEX alert_deliveries_recent ON alert_deliveries (subscription_id, delivery_id DESC);
