-- The Confirmation of Funds API's answers: each POST /funds-confirmations gets an id
-- (FundsConfirmationId, at most 40 characters) and the yes/no the bank gave, never a balance.
-- A CBPII's Reference is unique per consent (OB codeset U013 UK.OBIE.Rules.DuplicateReference),
-- enforced here so that racing duplicates cannot both be answered.
CREATE TABLE cbpii_funds_confirmations (
    id              TEXT PRIMARY KEY,
    consent_id      TEXT NOT NULL REFERENCES consents (id),
    client_id       TEXT NOT NULL,
    reference       TEXT NOT NULL,
    amount          TEXT NOT NULL,
    currency        TEXT NOT NULL,
    funds_available INTEGER NOT NULL,
    created_at      BIGINT NOT NULL,
    UNIQUE (consent_id, reference)
);
