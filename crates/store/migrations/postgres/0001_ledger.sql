-- The built-in core banking ledger. Times are microseconds since the Unix epoch (UTC),
-- money is integer pence, rates are decimal strings: the same shapes on SQLite and PostgreSQL.
-- Ids and the columns that reference them sort and compare byte-wise (COLLATE "C"), as on
-- SQLite, so keyset pagination and ORDER BY id agree on both backends.

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('account_number', 0);
-- Opening order of accounts (accounts.created_seq), taken in the opening transaction.
INSERT INTO counters (name, value) VALUES ('account_seq', 0);

CREATE TABLE customers (
    id            TEXT COLLATE "C" PRIMARY KEY,
    legal_name    TEXT NOT NULL,
    date_of_birth TEXT NOT NULL,
    email         TEXT NOT NULL,
    phone         TEXT NOT NULL,
    address_lines TEXT NOT NULL,
    town          TEXT NOT NULL,
    postcode      TEXT NOT NULL,
    country       TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE products (
    id             TEXT COLLATE "C" PRIMARY KEY,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    interest_rate  TEXT,
    monthly_fee    BIGINT NOT NULL,
    overdraft_rate TEXT
);

CREATE TABLE accounts (
    id                TEXT COLLATE "C" PRIMARY KEY,
    customer_id       TEXT COLLATE "C" REFERENCES customers (id),
    internal_code     TEXT UNIQUE,
    kind              TEXT NOT NULL,
    account_type      TEXT NOT NULL,
    currency          TEXT NOT NULL,
    sort_code         TEXT,
    account_number    TEXT,
    nickname          TEXT,
    opened_on         TEXT NOT NULL,
    status            TEXT NOT NULL,
    closed_at         BIGINT,
    parent_account_id TEXT COLLATE "C" REFERENCES accounts (id),
    pot_name          TEXT,
    pot_goal          BIGINT,
    interest_rate     TEXT,
    overdraft_limit   BIGINT NOT NULL,
    product_id        TEXT COLLATE "C" REFERENCES products (id),
    -- Cached from postings in the same transaction that writes them, for customer accounts
    -- only: the bank's internal accounts (no funds check) are summed from postings instead, so
    -- that no single row is updated by every payment.
    booked_balance    BIGINT NOT NULL DEFAULT 0,
    pending_debits    BIGINT NOT NULL DEFAULT 0,
    pending_credits   BIGINT NOT NULL DEFAULT 0,
    created_seq       BIGINT NOT NULL,
    -- 1 once a closed pot's interest is accrued to its closing day and all paid: the daily
    -- interest job passes it by from then on.
    interest_settled  BIGINT NOT NULL DEFAULT 0,
    UNIQUE (sort_code, account_number)
);
CREATE INDEX accounts_by_customer ON accounts (customer_id, created_seq);
CREATE INDEX accounts_by_parent ON accounts (parent_account_id);

CREATE TABLE ledger_transactions (
    id              TEXT COLLATE "C" PRIMARY KEY,
    idempotency_key TEXT UNIQUE,
    code            TEXT NOT NULL,
    -- What the key stands for (code and sorted legs): a replay must match it.
    fingerprint     TEXT,
    posted_at       BIGINT NOT NULL
);

CREATE TABLE postings (
    id                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ledger_transaction_id TEXT COLLATE "C" NOT NULL REFERENCES ledger_transactions (id),
    account_id            TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    amount                BIGINT NOT NULL,
    posted_at             BIGINT NOT NULL
);
CREATE INDEX postings_by_account ON postings (account_id, posted_at);
CREATE INDEX postings_by_transaction ON postings (ledger_transaction_id);

CREATE TABLE transactions (
    id                          TEXT COLLATE "C" PRIMARY KEY,
    account_id                  TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    ledger_transaction_id       TEXT COLLATE "C" REFERENCES ledger_transactions (id),
    status                      TEXT NOT NULL,
    credit_debit                TEXT NOT NULL,
    amount                      BIGINT NOT NULL,
    booked_at                   BIGINT NOT NULL,
    value_at                    BIGINT NOT NULL,
    description                 TEXT NOT NULL,
    reference                   TEXT,
    code                        TEXT NOT NULL,
    merchant_name               TEXT,
    merchant_category_code      TEXT,
    counterparty_name           TEXT,
    counterparty_sort_code      TEXT,
    counterparty_account_number TEXT,
    balance_after               BIGINT
);
-- Covering for the count and cursor probes of a transaction page: no table lookups.
CREATE INDEX transactions_by_account ON transactions (account_id, booked_at, id, status, credit_debit);

CREATE TABLE interest_accruals (
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    day        TEXT NOT NULL,
    balance    BIGINT NOT NULL,
    accrued    TEXT NOT NULL,
    PRIMARY KEY (account_id, day)
);

CREATE TABLE interest_payments (
    account_id            TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    month                 TEXT NOT NULL,
    amount                BIGINT NOT NULL,
    ledger_transaction_id TEXT COLLATE "C" REFERENCES ledger_transactions (id),
    PRIMARY KEY (account_id, month)
);

CREATE TABLE job_runs (
    job      TEXT PRIMARY KEY,
    last_day TEXT NOT NULL
);

CREATE TABLE beneficiaries (
    id             TEXT COLLATE "C" PRIMARY KEY,
    account_id     TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    name           TEXT NOT NULL,
    sort_code      TEXT NOT NULL,
    account_number TEXT NOT NULL,
    reference      TEXT,
    trusted        BIGINT NOT NULL
);
CREATE INDEX beneficiaries_by_account ON beneficiaries (account_id);

CREATE TABLE standing_orders (
    id                TEXT COLLATE "C" PRIMARY KEY,
    account_id        TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    frequency         TEXT NOT NULL,
    reference         TEXT NOT NULL,
    creditor_name     TEXT NOT NULL,
    sort_code         TEXT NOT NULL,
    account_number    TEXT NOT NULL,
    amount            BIGINT NOT NULL,
    first_payment_on  TEXT NOT NULL,
    next_payment_on   TEXT,
    last_payment_on   TEXT,
    final_payment_on  TEXT,
    status            TEXT NOT NULL
);
CREATE INDEX standing_orders_by_account ON standing_orders (account_id);
CREATE INDEX standing_orders_due ON standing_orders (status, next_payment_on);

CREATE TABLE direct_debits (
    id                TEXT COLLATE "C" PRIMARY KEY,
    account_id        TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    mandate_reference TEXT NOT NULL,
    originator_name   TEXT NOT NULL,
    status            TEXT NOT NULL,
    last_collected_at BIGINT,
    last_amount       BIGINT
);
CREATE INDEX direct_debits_by_account ON direct_debits (account_id);

CREATE TABLE scheduled_payments (
    id             TEXT COLLATE "C" PRIMARY KEY,
    account_id     TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    execute_on     TEXT NOT NULL,
    amount         BIGINT NOT NULL,
    reference      TEXT NOT NULL,
    creditor_name  TEXT NOT NULL,
    sort_code      TEXT NOT NULL,
    account_number TEXT NOT NULL,
    status         TEXT NOT NULL
);
CREATE INDEX scheduled_payments_by_account ON scheduled_payments (account_id);
CREATE INDEX scheduled_payments_due ON scheduled_payments (status, execute_on);

CREATE TABLE statements (
    id              TEXT COLLATE "C" PRIMARY KEY,
    account_id      TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    starts_at       BIGINT NOT NULL,
    ends_at         BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    opening_balance BIGINT NOT NULL,
    closing_balance BIGINT NOT NULL,
    total_credits   BIGINT NOT NULL,
    total_debits    BIGINT NOT NULL,
    UNIQUE (account_id, starts_at)
);

-- Every change the ledger makes: what later feeds event notifications. `seq` is taken at
-- INSERT, not at commit, so a reader only goes as far as the oldest transaction still in
-- flight (`xid` below the snapshot's xmin): nothing is delivered ahead of an earlier `seq`.
CREATE TABLE ledger_events (
    seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind           TEXT NOT NULL,
    account_id     TEXT COLLATE "C" NOT NULL,
    transaction_id TEXT COLLATE "C",
    occurred_at    BIGINT NOT NULL,
    xid            BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint)
);
CREATE INDEX ledger_events_feed ON ledger_events (xid, seq);
