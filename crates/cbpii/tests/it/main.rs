//! Integration tests for bascule-cbpii: a TPP (the SDK's pieces) against the real server over
//! mutual TLS, every response body validated against the v3.1.11 OpenAPI file.
//!
//! - `support`: the fixture (a bank with a customer and accounts, a registered TPP, consent
//!   creation and headless authorisation, CBPII calls).
//! - `consents`: `/funds-confirmation-consents` POST/GET/DELETE and their errors.
//! - `consent_races`: two concurrent DELETEs of one consent.
//! - `confirmations`: `/funds-confirmations` yes and no, the consent rules, bad bodies.
//! - `headers`: x-fapi-* header checks, Accept (406) and Content-Type (415).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod confirmations;
mod consent_races;
mod consents;
mod headers;
