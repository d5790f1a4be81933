//! The send loop, with the original's rules: one mail at a time, a pause after each
//! attempt (`--throttle-ms`), a transient failure goes to the back of the queue to be
//! tried again, a permanent one is given up with an error log.

use crate::backlog::Backlog;
use mailer::Mailer;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Longest pause after a run of failures when the throttle is shorter (see [`pause_after`]).
const MAX_FAILURE_PAUSE: Duration = Duration::from_secs(1);

/// What the loop did, for the shutdown summary.
#[derive(Debug, Default, Clone, Copy)]
pub struct SendStats {
    pub sent: u64,
    pub retries: u64,
    pub given_up: u64,
}

/// Sends mails from `backlog` until `shutdown`. A send in progress is finished first: the
/// shutdown only stops the loop from taking the next mail.
pub async fn run(
    mailer: Mailer,
    backlog: &Backlog,
    throttle: Duration,
    shutdown: &CancellationToken,
) -> SendStats {
    let mut stats = SendStats::default();
    let mut failures_in_a_row = 0u32;
    loop {
        // Shutdown wins over a waiting mail: once asked to stop, no new send starts.
        // `Backlog::next` is cancel-safe, so a mail is never taken and then dropped here.
        let email = tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            email = backlog.next() => email,
        };
        tracing::info!(to = %email.to, queued = backlog.len(), "trying to send an email...");
        // Deliberately not raced against `shutdown`: a SIGTERM lets this mail finish. Cut
        // short, its fate would be unknown: the server may or may not have taken it.
        match mailer.send(&email).await {
            Ok(message_id) => {
                stats.sent += 1;
                failures_in_a_row = 0;
                tracing::info!(to = %email.to, %message_id, "email sent!");
            }
            Err(e) if e.is_transient() => {
                stats.retries += 1;
                failures_in_a_row += 1;
                tracing::warn!(to = %email.to, error = %e, "failed sending email, trying again :(");
                // To the back, behind newer mail, as in the original: one mail the server
                // keeps refusing does not block the others. It is retried for as long as
                // this process lives, and dies with it.
                backlog.retry(email);
            }
            Err(e) => {
                stats.given_up += 1;
                failures_in_a_row = 0;
                tracing::error!(
                    to = %email.to,
                    subject = %email.subject,
                    error = %e,
                    "failed sending email for good, giving up: the mail is lost"
                );
            }
        }
        // The pause follows every attempt, failed or not, and a SIGTERM cuts it short.
        let pause = pause_after(throttle, failures_in_a_row);
        if !pause.is_zero() {
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }
    stats
}

/// The throttle, stretched while sends keep failing.
///
/// With the original's 1 s throttle nothing changes. With `--throttle-ms 0` (the load
/// harness) a mail server that refuses everything would otherwise be hammered in a tight
/// loop; a pause doubling from 5 ms per consecutive failure, capped at 1 s, costs a flaky
/// server's occasional failure almost nothing and a dead server almost no CPU.
fn pause_after(throttle: Duration, failures_in_a_row: u32) -> Duration {
    if failures_in_a_row == 0 {
        return throttle;
    }
    let backoff = Duration::from_millis(5)
        .saturating_mul(1 << (failures_in_a_row - 1).min(16))
        .min(MAX_FAILURE_PAUSE);
    throttle.max(backoff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_stretch_a_short_throttle_only() {
        let ms = Duration::from_millis;
        assert_eq!(pause_after(ms(0), 0), ms(0));
        assert_eq!(pause_after(ms(0), 1), ms(5));
        assert_eq!(pause_after(ms(0), 3), ms(20));
        assert_eq!(pause_after(ms(0), 40), ms(1000));
        assert_eq!(pause_after(ms(1000), 3), ms(1000));
    }
}
