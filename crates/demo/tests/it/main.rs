//! The demo bank's integration tests, on SQLite and on PostgreSQL.

mod demo;
