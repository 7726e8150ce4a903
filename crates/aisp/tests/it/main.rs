//! Integration tests for bascule-aisp: a TPP (the SDK's pieces) against the real server over
//! mutual TLS, every response body validated against the v3.1.11 OpenAPI file.
//!
//! - `support`: the fixture (a bank with a customer, accounts and a pot, a registered TPP,
//!   consent creation and headless authorisation, AIS calls).
//! - `consents`: `/account-access-consents` POST/GET/DELETE and their errors.
//! - `consent_races`: two concurrent DELETEs of one consent.
//! - `resources`: accounts, balances, party, products; Basic vs Detail; 400/403 rules.
//! - `unattended`: the 4-calls-per-24-h allowance without the customer present.
//! - `headers`: x-fapi-* header checks, Accept (406) and Content-Type (415).
//! - `conformance`: the OB suite's AIS rows no other test names, each by its case id.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod arrangements;
mod conformance;
mod consent_races;
mod consents;
mod headers;
mod resources;
mod transactions;
mod unattended;
