-- Domestic scheduled payments and domestic standing orders (bascule-pisp). One row per
-- payment order; the money moves later, on the core's own schedules (the ledger's daily jobs).
-- A consent is used by exactly one order (UNIQUE consent_id). A row is written
-- InitiationPending together with its idempotency row, then handed to the core with its id as
-- the request id (the core creates one schedule per request id, so a retry never doubles it),
-- and moved to InitiationCompleted (core_id = the core's schedule id) or InitiationFailed by
-- compare-and-set. Rows left InitiationPending by a crash are re-driven.
CREATE TABLE pisp_domestic_schedules (
    id                 TEXT PRIMARY KEY,
    -- 'ScheduledPayment' or 'StandingOrder'
    kind               TEXT NOT NULL,
    client_id          TEXT NOT NULL,
    consent_id         TEXT NOT NULL UNIQUE,
    customer_id        TEXT NOT NULL,
    debtor_account_id  TEXT NOT NULL,
    -- The Initiation as the consent holds it (JSON).
    initiation         TEXT NOT NULL,
    status             TEXT NOT NULL,
    status_reason      TEXT,
    core_id            TEXT,
    created_at         BIGINT NOT NULL,
    status_updated_at  BIGINT NOT NULL
);
CREATE INDEX pisp_domestic_schedules_status ON pisp_domestic_schedules (status);
