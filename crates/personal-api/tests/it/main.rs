//! Integration tests for the personal API, through the real server over TLS with no client
//! certificate, every response validated against the API's own OpenAPI file.
//!
//! - `support`: the bank, Grace (Everyday, Bills, Holiday pot) and Alan, tokens, calls.
//! - `access`: a token reads only its owner's accounts; revoked, expired and unknown tokens;
//!   read-only tokens; rate limits; the served OpenAPI file.
//! - `reads`: accounts, balances, pots, transactions pages with cursors and date filters.
//! - `moves`: moves between a current account and its pot, once per dedupe_id, also under 50
//!   concurrent repeats.
//! - `webhooks`: a card payment's transaction.created then transaction.updated, signed per
//!   Standard Webhooks, shaped as the documented example.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod access;
mod moves;
mod reads;
mod webhooks;
