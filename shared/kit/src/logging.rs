//! One line per event, filtered by `RUST_LOG` (default `info`). Colours only on a terminal,
//! so that log files read by tests and the harness stay plain text.

use std::io::IsTerminal;

/// Installs the global tracing subscriber. Calling it twice is harmless.
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        // When stdout is a pipe nobody reads any more (`| head`, a harness that stopped
        // listening), the default reports the failed write with `eprintln!`, which panics on
        // the same broken pipe: whatever task was logging dies, the SIGTERM handler
        // included, and the process can no longer be stopped. Losing the line is better.
        .log_internal_errors(false)
        .try_init();
}
