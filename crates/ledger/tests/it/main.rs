//! The ledger's integration tests, each on SQLite and on PostgreSQL.

mod closing;
mod concurrency;
mod crash;
mod interest;
mod pagination;
mod properties;
mod review;
mod schedules;
mod smoke;
mod support;
