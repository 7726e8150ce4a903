-- OAuth clients registered by dynamic client registration, and the `jti`s of JWTs already
-- accepted from them (registration requests, client assertions), so none is accepted twice.

CREATE TABLE oauth_clients (
    client_id                       TEXT PRIMARY KEY,
    software_id                     TEXT NOT NULL,
    organisation_id                 TEXT NOT NULL,
    token_endpoint_auth_method      TEXT NOT NULL,
    tls_client_auth_subject_dn      TEXT,
    token_endpoint_auth_signing_alg TEXT,
    jwks_uri                        TEXT NOT NULL,
    redirect_uris                   TEXT NOT NULL,
    scope                           TEXT NOT NULL,
    grant_types                     TEXT NOT NULL,
    response_types                  TEXT NOT NULL,
    id_token_signed_response_alg    TEXT NOT NULL,
    request_object_signing_alg      TEXT NOT NULL,
    roles                           TEXT NOT NULL,
    sandbox                         BIGINT NOT NULL,
    registration                    TEXT NOT NULL,
    status                          TEXT NOT NULL,
    created_at                      BIGINT NOT NULL,
    updated_at                      BIGINT NOT NULL
);
CREATE INDEX oauth_clients_by_software ON oauth_clients (software_id);

CREATE TABLE jwt_replay (
    issuer     TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, jti)
);
CREATE INDEX jwt_replay_by_expiry ON jwt_replay (expires_at);
