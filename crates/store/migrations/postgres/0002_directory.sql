-- The sandbox Open Banking directory: organisations, their software statements, and the
-- certificates it issued to them (transport and signing), each revocable.

CREATE TABLE directory_organisations (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    status     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE directory_software (
    id              TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES directory_organisations (id),
    client_name     TEXT NOT NULL,
    description     TEXT,
    roles           TEXT NOT NULL,
    redirect_uris   TEXT NOT NULL,
    client_uri      TEXT,
    logo_uri        TEXT,
    policy_uri      TEXT,
    tos_uri         TEXT,
    status          TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    revoked_at      BIGINT
);
CREATE INDEX directory_software_by_organisation ON directory_software (organisation_id);

CREATE TABLE directory_certificates (
    thumbprint      TEXT PRIMARY KEY,
    software_id     TEXT NOT NULL REFERENCES directory_software (id),
    purpose         TEXT NOT NULL,
    kid             TEXT,
    certificate_pem TEXT NOT NULL,
    public_jwk      TEXT,
    not_after       BIGINT NOT NULL,
    status          TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    revoked_at      BIGINT
);
CREATE INDEX directory_certificates_by_software ON directory_certificates (software_id);
CREATE INDEX directory_certificates_by_status ON directory_certificates (status);
