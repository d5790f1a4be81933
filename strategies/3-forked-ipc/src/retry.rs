//! When the worker tries a failed email again: a growing delay, bounded, and a last attempt.
//!
//! The original pushed a failed email straight to the back of the queue and tried it again
//! as soon as its turn came, forever: a mail server that is down for an hour is hammered for
//! an hour, and an email it will never take cycles until the worker dies. Here each
//! transient failure waits twice as long as the one before, up to `--max-retry-delay-ms`,
//! and after `--max-attempts` attempts the email is given up, with its last error, in the
//! worker's log and the supervisor's summary.
//!
//! ```text
//! attempt 1 fails ─► wait first ─► 2 fails ─► wait 2×first ─► 3 fails ─► wait 4×first ...
//!                                  (never more than max)   ... attempt max_attempts fails ─► given up
//! ```
//!
//! Tests: `the_delay_doubles_up_to_the_cap_and_stops_after_the_last_attempt` (here),
//! `a_mail_that_keeps_failing_is_retried_with_growing_delays_then_given_up`
//! (`tests/failures.rs`).

use std::time::Duration;

/// The retry schedule of a transient failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failure (`--retry-delay-ms`).
    pub first: Duration,
    /// No wait is longer than this (`--max-retry-delay-ms`).
    pub max: Duration,
    /// Attempts in all, the first one included (`--max-attempts`).
    pub max_attempts: u32,
}

impl Backoff {
    /// How long to wait after the `attempts`-th attempt failed (1 for the first), or `None`
    /// when that was the last attempt allowed.
    pub fn delay_after(&self, attempts: u32) -> Option<Duration> {
        // workshop 3.2: solution begin
        if attempts >= self.max_attempts {
            return None;
        }
        // 2^(attempts - 1) times the first delay; the shift is capped so it cannot overflow,
        // and by then the cap has long been reached.
        let doublings = attempts.saturating_sub(1).min(20);
        Some(self.first.saturating_mul(1 << doublings).min(self.max))
        // workshop 3.2: solution end
        // workshop 3.2: starter
        // // As the original: the same wait after every failure, and no last attempt.
        // let _ = (attempts, self.max, self.max_attempts);
        // Some(self.first)
        // workshop 3.2: starter end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_doubles_up_to_the_cap_and_stops_after_the_last_attempt() {
        let backoff = Backoff {
            first: Duration::from_millis(100),
            max: Duration::from_millis(500),
            max_attempts: 5,
        };
        let delays: Vec<Option<u64>> = (1..=6)
            .map(|attempts| backoff.delay_after(attempts).map(|d| d.as_millis() as u64))
            .collect();
        assert_eq!(
            delays,
            [Some(100), Some(200), Some(400), Some(500), None, None]
        );
    }

    #[test]
    fn one_attempt_means_no_retry_and_a_huge_attempt_count_stays_at_the_cap() {
        let once = Backoff {
            first: Duration::from_secs(1),
            max: Duration::from_secs(30),
            max_attempts: 1,
        };
        assert_eq!(once.delay_after(1), None);
        let many = Backoff {
            max_attempts: u32::MAX,
            ..once
        };
        assert_eq!(many.delay_after(1_000_000), Some(Duration::from_secs(30)));
    }
}
