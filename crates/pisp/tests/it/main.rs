//! Integration tests for bascule-pisp: a TPP against the real server over mutual TLS, every
//! response body validated against the v3.1.11 OpenAPI file and its signature checked.
//!
//! - `support`: the fixture (bank, customers, registered TPP, signed calls, consent and
//!   headless authorisation, payments).
//! - `domestic`: consents, funds confirmation, payments, settlement, the rules that reject.
//! - `signatures`: every `UK.OBIE.Signature.*` failure, response signatures.
//! - `schedules`: scheduled payments and standing orders executed by the ledger's jobs.
//! - `consumption`: the consent consumed in the payment's transaction; echoes as spelt.
//! - `idempotency`: replay, conflict, concurrent duplicates, recovery of Pending payments.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod consumption;
mod domestic;
mod idempotency;
mod schedules;
mod signatures;
