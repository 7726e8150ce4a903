//! Integration tests for bascule-registration: Open Banking dynamic client registration over
//! the real server (mTLS, the sandbox directory's SSAs and software JWKS), every refusal with
//! its RFC 7591 error, and the client authentication primitives the token endpoint uses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod client_auth;
mod common;
mod refusals;
mod register;
