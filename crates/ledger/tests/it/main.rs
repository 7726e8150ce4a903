//! The ledger's integration tests, each on SQLite and on PostgreSQL.

mod smoke;
