//! The ready line: how a role without a web front says it can take work.
//!
//! A worker, a scheduler or a consumer has no `/healthz` to ask, so it logs one line when it
//! is registered and waiting for work: `worker ready`, `scheduler ready`, `consumer ready`.
//! The load harness (and the tests) start such a role as a child process and wait for that
//! line before they send load, so the first request finds it. Both sides go through this
//! module, so the words are written in one place and read in one place.

use std::fmt::Display;

/// The words a ready line of `role` contains: `"worker ready"`.
pub fn words(role: &str) -> String {
    format!("{role} ready")
}

/// Logs `role`'s ready line, with what it is ready for (`subscribed to emails`, ...).
pub fn announce(role: &str, detail: impl Display) {
    tracing::info!("{}: {detail}", words(role));
}

/// Whether `output` (a process's log so far) holds `role`'s ready line.
pub fn is_announced(output: &str, role: &str) -> bool {
    output.contains(&words(role))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ready_line_is_found_only_for_its_own_role() {
        let output = "INFO strategy_5: worker ready: host:1+1 waits on emailQueue\n";
        assert!(is_announced(output, "worker"));
        assert!(!is_announced(output, "scheduler"));
        assert!(!is_announced("INFO worker started\n", "worker"));
    }
}
