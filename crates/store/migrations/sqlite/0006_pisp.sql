-- The Payment Initiation API (bascule-pisp).
--
-- Idempotency (RW §Idempotency): one row per (client, resource type, x-idempotency-key), kept
-- at least 24 hours. A POST inserts its row first (ON CONFLICT DO NOTHING) in the transaction
-- that creates the resource, so of any number of identical concurrent requests exactly one
-- creates; the others read the winner's row. body_hash is the SHA-256 of the exact request
-- bytes: the same key with another body is refused. resource_id names what the first request
-- created; response_status/response_body hold the first answer where the resource is not
-- re-rendered from its own row (consents). claimed_at lets a retry take over a row whose
-- creator died before answering (consents only; payments commit row and resource together).
CREATE TABLE pisp_idempotency (
    client_id        TEXT NOT NULL,
    resource_type    TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL,
    body_hash        TEXT NOT NULL,
    resource_id      TEXT,
    response_status  INTEGER,
    response_body    TEXT,
    claimed_at       BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (client_id, resource_type, idempotency_key)
);
CREATE INDEX pisp_idempotency_created ON pisp_idempotency (created_at);

-- Domestic payments. A consent is consumed by exactly one payment (UNIQUE consent_id). A row
-- is written Pending together with its idempotency row, then settled on the core with the
-- idempotency key '{client_id}:{id}' and moved to its final status by compare-and-set; rows
-- left Pending by a crash are re-driven by the recovery step.
CREATE TABLE pisp_domestic_payments (
    id                     TEXT PRIMARY KEY,
    client_id              TEXT NOT NULL,
    consent_id             TEXT NOT NULL UNIQUE,
    customer_id            TEXT NOT NULL,
    debtor_account_id      TEXT NOT NULL,
    amount_pence           BIGINT NOT NULL,
    -- The Initiation as the consent holds it (JSON).
    initiation             TEXT NOT NULL,
    status                 TEXT NOT NULL,
    status_reason          TEXT,
    -- The day (days since 1970-01-01, UTC) whose limit this payment counts against, and
    -- whether it holds a share of that day's total (released when it is rejected).
    limit_day              BIGINT NOT NULL,
    limit_reserved         INTEGER NOT NULL,
    ledger_transaction_id  TEXT,
    created_at             BIGINT NOT NULL,
    status_updated_at      BIGINT NOT NULL
);
CREATE INDEX pisp_domestic_payments_status ON pisp_domestic_payments (status);

-- Each customer's payments per day against the per-customer-type daily limit: reserved by a
-- conditional UPDATE in the payment's own transaction, so concurrent payments never exceed it.
CREATE TABLE pisp_daily_totals (
    customer_id  TEXT NOT NULL,
    day          BIGINT NOT NULL,
    total_pence  BIGINT NOT NULL,
    PRIMARY KEY (customer_id, day)
);
