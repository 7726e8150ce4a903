-- The Account and Transaction API's unattended-access allowance: each account-access consent
-- may be called a few times per rolling 24 hours without the customer present (RTS Art. 36(5)).
-- One row per allowance slot: a call takes the slot whose last call left the window, by
-- compare-and-set on called_at, so nodes sharing the database never over-admit.
CREATE TABLE aisp_unattended_calls (
    consent_id TEXT NOT NULL,
    slot       INTEGER NOT NULL,
    called_at  BIGINT NOT NULL,
    PRIMARY KEY (consent_id, slot)
);
