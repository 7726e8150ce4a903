//! Bascule's test kit: a fresh database per test on SQLite and on PostgreSQL, a ledger on a
//! movable clock, and `spawn_app()`, which runs the real server over TLS on ephemeral ports.
//! Tests talk to Bascule the way a bank's systems and a TPP would.

mod app;
mod database;
pub mod openapi;

pub use app::{TestApp, https_client, spawn_app, spawn_app_with};
pub use database::{BACKENDS, TestDatabase, postgres_admin_url, test_database, test_ledger};
