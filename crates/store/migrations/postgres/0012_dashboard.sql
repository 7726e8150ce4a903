-- The customer's dashboard: the reminders sent before a connection's access ends (one row per
-- consent and cycle, the cycle being the moment access ends; the primary key is what makes one
-- reminder per cycle hold across nodes and restarts), the bank app's inbox messages (what the
-- demo's notifier delivers), and each customer's display settings.

CREATE TABLE consent_reminders (
    consent_id  TEXT NOT NULL,
    ends_at     BIGINT NOT NULL,
    customer_id TEXT NOT NULL,
    sent_at     BIGINT NOT NULL,
    PRIMARY KEY (consent_id, ends_at)
);

CREATE TABLE app_messages (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    link        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX app_messages_customer ON app_messages (customer_id, created_at);

CREATE TABLE customer_settings (
    customer_id   TEXT PRIMARY KEY,
    hide_balances BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
