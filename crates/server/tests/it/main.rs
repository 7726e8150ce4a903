//! The server over real TLS on both databases: health, the mTLS boundary, interaction ids,
//! error formats, metrics, shutdown; the background jobs' supervisor; a bank's own core.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod jobs;
mod own_core;
mod plumbing;
