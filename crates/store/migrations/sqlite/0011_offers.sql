-- Offers the bank makes on an account (a limit increase, a promotional rate ...): read by the
-- AIS `/offers` endpoints. Times are unix microseconds, amounts pence, like the ledger's tables.
CREATE TABLE offers (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    kind        TEXT NOT NULL,
    description TEXT NOT NULL,
    starts_at   BIGINT NOT NULL,
    ends_at     BIGINT NOT NULL,
    amount      BIGINT
);
CREATE INDEX offers_by_account ON offers (account_id);
