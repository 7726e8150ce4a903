//! Integration tests for bascule-authz: the OpenID FAPI 1.0 Advanced conformance test plan's
//! modules, run against the real server (TLS, mutual TLS, the sandbox directory and CA, a
//! ManualClock). Each test is named after the module it mirrors and states the behaviour it
//! proves.
//!
//! - `support`: the shared fixture (a bank with a customer, registered TPP clients, consents,
//!   request objects, the authorize / PAR / token calls and response parsers).
//! - `request_object`: the signed request object's rules (FAPI 1.0 Part 2 §5.2.2).
//! - `authorize`: the authorize endpoint, discovery, the hybrid and JARM responses.
//! - `par`: pushed authorisation requests (RFC 9126, FAPI 1.0 Part 2 §5.2.2-14..18).
//! - `token`, `client_assertion`, `flow`: the token endpoint, `private_key_jwt`, refresh and
//!   the token check.
//! - `consents`: the consent service (revocation with its tokens, re-authorisation, a
//!   customer's list, steps inside a caller's transaction, lost races).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod authorize;
mod client_assertion;
mod consents;
mod flow;
mod par;
mod request_object;
mod token;
