-- The customer's pages: browser sessions (any node continues a journey), the web journeys
-- bound to one browser, the approval requests a customer's app decides ("the push"), the
-- identification attempts the rate limits count, and the demo app's passcodes.

CREATE TABLE web_sessions (
    id_hash      TEXT PRIMARY KEY,
    csrf         TEXT NOT NULL,
    customer_id  TEXT,
    signed_in_at BIGINT,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);

CREATE TABLE journeys (
    id            TEXT PRIMARY KEY,
    authz_session TEXT NOT NULL UNIQUE,
    browser       TEXT NOT NULL,
    approval_id   TEXT,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);

CREATE TABLE approval_requests (
    id            TEXT PRIMARY KEY,
    journey_id    TEXT NOT NULL,
    authz_session TEXT NOT NULL,
    customer_id   TEXT NOT NULL,
    consent_id    TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    status        TEXT NOT NULL,
    accounts      TEXT,
    decided_at    BIGINT,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX approval_requests_inbox ON approval_requests (customer_id, status, expires_at);

CREATE TABLE identification_attempts (
    id      TEXT PRIMARY KEY,
    ip      TEXT NOT NULL,
    target  TEXT NOT NULL,
    matched BIGINT NOT NULL,
    at      BIGINT NOT NULL
);
CREATE INDEX identification_attempts_ip ON identification_attempts (ip, at);
CREATE INDEX identification_attempts_target ON identification_attempts (target, at);

CREATE TABLE app_passcodes (
    customer_id  TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    salt        TEXT NOT NULL,
    hash        TEXT NOT NULL,
    iterations  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
