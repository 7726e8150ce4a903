-- Event notifications (EVNP): one subscription per client, the outbox of events written in the
-- transaction of the change that caused them, and the ledger change-feed cursor the
-- transactions job resumes from. Times are unix seconds except `*_ms` (milliseconds: retries
-- are scheduled finer than a second).

CREATE TABLE event_subscriptions (
    id           TEXT PRIMARY KEY,
    client_id    TEXT NOT NULL UNIQUE,
    callback_url TEXT,
    version      TEXT NOT NULL,
    -- OBEventType1Code values, space-separated; empty: every type.
    event_types  TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);

-- status: 'push' (to be POSTed to the callback, and pollable), 'poll' (pollable only: no
-- callback, or the retry period ended), 'done' (delivered by push or acknowledged by polling:
-- never sent again).
CREATE TABLE event_outbox (
    -- Insertion order (the clock may stand still in tests; ids are random).
    seq              BIGSERIAL PRIMARY KEY,
    jti              TEXT NOT NULL UNIQUE,
    client_id        TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    resource_type    TEXT NOT NULL,
    resource_id      TEXT NOT NULL,
    resource_path    TEXT NOT NULL,
    txn              TEXT NOT NULL,
    toe              BIGINT NOT NULL,
    created_ms       BIGINT NOT NULL,
    -- Pushes are retried for the retry period from here (the creation, or a re-drive).
    retry_from_ms    BIGINT NOT NULL,
    status           TEXT NOT NULL,
    attempts         BIGINT NOT NULL,
    next_attempt_ms  BIGINT NOT NULL,
    lease_owner      TEXT,
    lease_until_ms   BIGINT,
    done_ms          BIGINT,
    last_error       TEXT
);
CREATE INDEX event_outbox_due ON event_outbox (status, next_attempt_ms);
CREATE INDEX event_outbox_by_client ON event_outbox (client_id, status, seq);

CREATE TABLE event_feed_cursors (
    name TEXT PRIMARY KEY,
    seq  BIGINT NOT NULL
);
