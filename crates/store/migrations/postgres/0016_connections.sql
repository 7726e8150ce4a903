-- The bank's own suspension of an account-access consent (a security event, a joint holder's
-- request), under either reauthentication policy. Unlike the 90-day rule, which is worked out
-- from authorised_at, this is a decision and so is stored: the reason ('security-event' or
-- 'joint-holder') and when. The consent stays Authorised with its id and ExpirationDateTime;
-- the customer's next strong authentication on it (the dashboard's refresh) clears both.
ALTER TABLE consents ADD COLUMN suspended_reason TEXT;
ALTER TABLE consents ADD COLUMN suspended_at BIGINT;

-- The customer's dashboard lists their standing orders and scheduled payments in one query.
CREATE INDEX pisp_domestic_schedules_customer ON pisp_domestic_schedules (customer_id);
