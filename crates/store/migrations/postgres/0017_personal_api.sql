-- The personal developer API: a customer's own tokens (only their SHA-256 is kept) and their
-- webhooks (a move's dedupe_id is the ledger's own idempotency key). Webhook
-- deliveries are rows of the event outbox on the `personal-webhook` channel, pushed by the same
-- worker as the Open Banking events. Times are unix seconds.

CREATE TABLE personal_tokens (
    id           TEXT PRIMARY KEY,
    customer_id  TEXT NOT NULL,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    -- 'read' or 'read_move'.
    scope        TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX personal_tokens_by_customer ON personal_tokens (customer_id, created_at);

CREATE TABLE personal_webhooks (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    -- The token that registered it: the webhook lives as long as that token.
    token_id    TEXT NOT NULL,
    account_id  TEXT NOT NULL,
    url         TEXT NOT NULL,
    -- The signing secret (Standard Webhooks `whsec_…`): the bank must sign with it, so it is
    -- kept, never logged, and shown to the customer once.
    secret      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX personal_webhooks_by_account ON personal_webhooks (account_id);
CREATE INDEX personal_webhooks_by_customer ON personal_webhooks (customer_id);
CREATE INDEX personal_webhooks_by_token ON personal_webhooks (token_id);

-- 'open-banking' rows are SETs for TPPs; 'personal-webhook' rows carry their JSON payload and
-- name the webhook in client_id.
ALTER TABLE event_outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'open-banking';
ALTER TABLE event_outbox ADD COLUMN payload TEXT;
-- The feed job asks whether a transaction was already announced to a webhook.
CREATE INDEX event_outbox_by_resource ON event_outbox (channel, resource_id);
