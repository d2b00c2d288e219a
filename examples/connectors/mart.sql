-- A small data mart for examples/connectors/sql.yaml.
CREATE SCHEMA IF NOT EXISTS mart;
CREATE TABLE IF NOT EXISTS mart.ledger (
    booking_id   text PRIMARY KEY,
    trade_id     text,
    amount       numeric(20, 2) NOT NULL,
    currency     text NOT NULL,
    settle_date  date NOT NULL,
    counterparty text NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
INSERT INTO mart.ledger (booking_id, trade_id, amount, currency, settle_date, counterparty)
VALUES ('B1', 'T1', 100.00, 'USD', '2026-11-30', 'GSCO'),
       ('B2', 'T2', 2500.00, 'USD', '2026-11-30', 'GSCO'),
       ('B3', 'T3', 75.10, 'USD', '2026-12-01', 'JPMS'),
       ('B4', 'T4', 990.00, 'USD', '2026-12-01', 'GSCO')
ON CONFLICT (booking_id) DO UPDATE
   SET amount = EXCLUDED.amount, updated_at = clock_timestamp();
