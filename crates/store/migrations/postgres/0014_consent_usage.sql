-- How often each consent is used, for the customer's dashboard: calls per consent per minute
-- (kept for a little over a day) and the last use. Nodes count in memory and add their counts
-- here in batches, so nothing is written on a request's path.
CREATE TABLE consent_usage (
    consent_id TEXT NOT NULL,
    minute     BIGINT NOT NULL,
    calls      BIGINT NOT NULL,
    PRIMARY KEY (consent_id, minute)
);
CREATE INDEX consent_usage_minute ON consent_usage (minute);

CREATE TABLE consent_last_use (
    consent_id TEXT PRIMARY KEY,
    last_at    BIGINT NOT NULL
);
