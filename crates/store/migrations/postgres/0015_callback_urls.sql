-- The legacy Callback URL API (v3.1.6 `/callback-urls`) keeps its one URL per client in the
-- same row as an event subscription, so the outbox writer, the push worker and the operators'
-- view know one place where a client's events go. `api` says which API made the row; an event
-- subscription supersedes a callback URL (EVNP §Overview), a callback URL asks for
-- resource-update only.
ALTER TABLE event_subscriptions ADD COLUMN api TEXT NOT NULL DEFAULT 'event-subscription';
