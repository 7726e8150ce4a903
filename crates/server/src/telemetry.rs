//! Logging set-up for the binary: JSON lines for machines, pretty output in a terminal.
//! Every line inside a request carries its `x-fapi-interaction-id` through the request span.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::LogFormat;

pub fn init_logging(format: LogFormat, level: &str) {
    let filter = EnvFilter::try_from_env("BASCULE_LOG")
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Pretty => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second initialisation (tests) is harmless: the first subscriber stays.
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        builder.try_init()
    };
}
