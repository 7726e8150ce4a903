//! Integration tests for bascule-conformance.
//!
//! - `cases`: every applicable conformance case of `conformance/cases.txt` is named by a test,
//!   and every case a test names is listed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cases;
