//! The customer's consent journeys through the real server over TLS, on SQLite and PostgreSQL:
//! the web flow with its identification and push, the bank app, app-to-app, every way out.
//! `browser.rs` drives the same journeys in a real headless Chromium.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod browser;
mod dashboard;
mod developer;
mod journeys;
mod support;
