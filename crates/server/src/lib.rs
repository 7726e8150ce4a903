//! Bascule's server: configuration (defaults, file, `BASCULE_*` environment), start-up (store,
//! the bank's core — the built-in ledger unless the caller brings its own — certificates), the
//! composed router of every area, the supervisor of background jobs, logging and graceful
//! shutdown. Each area (operations, sandbox tools, and later the authorisation server,
//! the Open Banking APIs and the customer's pages) brings its own router and error format;
//! this crate only puts them together.

mod config;
mod ops;
mod pages;
mod run;
mod sandbox;
pub mod supervisor;
pub mod telemetry;

pub use config::{Config, ConfigError, LogFormat};
pub use run::{
    AppState, Core, Operations, RunningServer, ServerError, operations, start, start_on,
};
