-- Payment consents, payments and payment orders store the bank's own terms of a payment
-- (bascule-pisp's `order` module: decimals, sort codes and account numbers, instants), no longer
-- the v3.1.11 Initiation JSON, so every wire version maps to and from one version-neutral form.
-- The columns say so. Re-encoding the JSON needs a decimal and an RFC 3339 parser, so
-- bascule-pisp does it at start-up, in one transaction, and deletes this marker row as it does.
ALTER TABLE pisp_domestic_payments RENAME COLUMN initiation TO terms;
ALTER TABLE pisp_domestic_schedules RENAME COLUMN initiation TO terms;

CREATE TABLE pisp_terms_conversion (
    pending INTEGER NOT NULL
);
INSERT INTO pisp_terms_conversion (pending) VALUES (1);

-- From now on a payment consent is consumed in the transaction that writes its payment.
-- Earlier releases consumed it just after, and recovery repeated that after a crash: finish
-- what such a crash left, so every consent with a payment or order is Consumed.
UPDATE consents
SET status = 'Consumed',
    status_updated_at = (SELECT p.created_at FROM pisp_domestic_payments p
                         WHERE p.consent_id = consents.id)
WHERE status = 'Authorised'
  AND id IN (SELECT consent_id FROM pisp_domestic_payments);
UPDATE consents
SET status = 'Consumed',
    status_updated_at = (SELECT s.created_at FROM pisp_domestic_schedules s
                         WHERE s.consent_id = consents.id)
WHERE status = 'Authorised'
  AND id IN (SELECT consent_id FROM pisp_domestic_schedules);
