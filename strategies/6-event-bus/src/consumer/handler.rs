//! What a consumer group does with each event.

use crate::event::Event;
use kit::BoxFuture;

/// Why a handler failed, which decides what happens next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandlerError {
    /// Worth retrying (an SMTP 4xx, a dropped connection): retried with backoff, then
    /// dead-lettered after `max_attempts`.
    #[error("{0}")]
    Transient(String),
    /// Retrying cannot help (an SMTP 5xx, a payload that is not an email): dead-lettered
    /// at once.
    #[error("{0}")]
    Permanent(String),
}

/// A group's handler. It runs once per event in partition order, and may run twice for the
/// same event under at-least-once delivery (after a crash), so it should be idempotent or
/// at least tolerate repeats: the event's `id` is there to deduplicate by.
pub trait Handler: Send + Sync + 'static {
    /// Shown in log lines: `consumer success on handler: email handler`.
    fn name(&self) -> &str;

    fn handle<'a>(&'a self, event: &'a Event) -> BoxFuture<'a, Result<(), HandlerError>>;
}
