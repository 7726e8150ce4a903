//! The server over real TLS on both databases: health, the mTLS boundary, interaction ids,
//! error formats, metrics, shutdown.

mod plumbing;
