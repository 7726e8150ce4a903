//! Bascule's test kit: a fresh database per test on SQLite and on PostgreSQL, a ledger on a
//! movable clock, `spawn_app()`, which runs the real server over TLS on ephemeral ports (on the
//! built-in ledger or on a core the test brings), and the TPP every crate's tests play
//! ([`Tpp`]: enrol, register, tokens, headless approval, signatures) with its API calls
//! ([`api`]) and the bank's customers ([`people`]). Tests talk to Bascule the way a bank's
//! systems and a TPP would; the customer-page tests drive a headless Chromium ([`browser`]:
//! desktop and phone, screenshots, axe-core WCAG 2.1 AA checks) the way a customer would.

pub mod api;
mod app;
pub mod browser;
mod database;
pub mod openapi;
pub mod people;
pub mod receiver;
pub mod tpp;
pub mod web;

pub use app::{
    TestApp, TestServer, https_browser, https_client, spawn_app, spawn_app_with,
    spawn_server_on_core,
};
pub use database::{BACKENDS, TestDatabase, postgres_admin_url, test_database, test_ledger};
pub use tpp::Tpp;
