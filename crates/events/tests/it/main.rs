//! Integration tests for bascule-events: TPPs against the real server over mutual TLS, their
//! event receivers over one-way TLS on loopback, every response validated against the v3.1.11
//! OpenAPI files and every SET verified against the bank's JWKS.
//!
//! - `support`: the fixture (bank, TPP, receiver, subscriptions, consents, payments, SETs).
//! - `subscriptions`: `/event-subscriptions` POST/GET/PUT/DELETE and their refusals.
//! - `callback_urls`: the legacy `/callback-urls` (v3.1.6), its pushes, and its supersession.
//! - `push`: SETs pushed within a second of a payment status change and of a booked
//!   transaction; retries with the same jti; only TPPs with a consent hear of an account,
//!   its transactions or its closing.
//! - `polling`: `POST /events`, acknowledgements, and the queue it shares with push.
//! - `revocation`: a revoked consent's consent-authorization-revoked.
//! - `admin`: the operators' view of stuck events, and their re-drive.
//! - `nodes`: two servers on one PostgreSQL share the outbox without a double attempt; a dead
//!   node's claimed events go out once its lease ends.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod admin;
mod callback_urls;
mod nodes;
mod polling;
mod push;
mod revocation;
mod subscriptions;
