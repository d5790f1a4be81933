//! What became of each mail, counted in the one place that writes its log line.
//!
//! The shutdown summary is read by someone who has just scrolled past the `email lost`
//! lines: its `lost` must be the number of those lines. So a mail is never counted in one
//! place and logged in another: [`Tally::lost`] is the only way to say a mail is lost, and
//! it does both, whatever the cause.

use mailer::Email;
use std::sync::atomic::{AtomicU64, Ordering};

/// Why a mail that the client was told `200` about never reached the mail server.
pub enum Loss {
    /// The mail server refused it, or the connection failed. There is no retry.
    Failed(String),
    /// Shutdown: its send had not finished when `--drain-ms` was over.
    Abandoned,
}

#[derive(Default)]
pub struct Tally {
    sent: AtomicU64,
    failed: AtomicU64,
    abandoned: AtomicU64,
}

impl Tally {
    pub fn sent(&self, email: &Email) {
        self.sent.fetch_add(1, Ordering::Relaxed);
        tracing::info!("Sent an email to {}", email.to);
    }

    /// One `email lost` line, and one more in `lost`.
    pub fn lost(&self, email: &Email, loss: Loss) {
        match loss {
            Loss::Failed(error) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                // The lesson: the client was told 200 long ago. Nobody else will know.
                tracing::error!(to = %email.to, subject = %email.subject, %error, "email lost: sending failed after the client was told 200");
            }
            Loss::Abandoned => {
                self.abandoned.fetch_add(1, Ordering::Relaxed);
                tracing::error!(to = %email.to, subject = %email.subject, "email lost: abandoned at shutdown, its send had not finished within the drain time");
            }
        }
    }

    /// `(sent, failed, abandoned)`. Read once every send has ended, the three add up to
    /// every mail the client was told `200` about.
    pub fn counts(&self) -> (u64, u64, u64) {
        (
            self.sent.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
            self.abandoned.load(Ordering::Relaxed),
        )
    }
}
