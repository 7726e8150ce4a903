-- The authorisation server: consents (intents), pushed authorisation requests, authorisation
-- sessions awaiting the customer, authorisation codes and tokens. Codes and tokens are stored
-- only as SHA-256 hashes: a database leak yields nothing usable.

CREATE TABLE consents (
    id                TEXT PRIMARY KEY,
    kind              TEXT NOT NULL,
    client_id         TEXT NOT NULL,
    status            TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    status_updated_at BIGINT NOT NULL,
    expires_at        BIGINT,
    customer_id       TEXT,
    accounts          TEXT NOT NULL,
    authorised_at     BIGINT,
    details           TEXT NOT NULL
);
CREATE INDEX consents_by_client ON consents (client_id);
CREATE INDEX consents_by_customer ON consents (customer_id);

CREATE TABLE par_requests (
    request_uri TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL,
    request     TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);

CREATE TABLE authorization_sessions (
    id          TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL,
    consent_id  TEXT NOT NULL,
    request     TEXT NOT NULL,
    request_uri TEXT,
    status      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);

CREATE TABLE authorization_codes (
    code_hash     TEXT PRIMARY KEY,
    client_id     TEXT NOT NULL,
    consent_id    TEXT NOT NULL,
    customer_id   TEXT NOT NULL,
    redirect_uri  TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    nonce         TEXT,
    acr           TEXT NOT NULL,
    auth_time     BIGINT NOT NULL,
    code_challenge TEXT,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    used_at       BIGINT
);

CREATE TABLE oauth_tokens (
    token_hash  TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    client_id   TEXT NOT NULL,
    consent_id  TEXT,
    customer_id TEXT,
    scopes      TEXT NOT NULL,
    cnf         TEXT,
    code_hash   TEXT,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT,
    revoked_at  BIGINT
);
CREATE INDEX oauth_tokens_by_consent ON oauth_tokens (consent_id);
CREATE INDEX oauth_tokens_by_code ON oauth_tokens (code_hash);
CREATE INDEX oauth_tokens_by_client ON oauth_tokens (client_id);
