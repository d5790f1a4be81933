//! One event through the handler: retried with backoff while the failure may pass, given up
//! on when it cannot (or after `max_attempts`). What happens to a given-up event is the
//! worker's business (it parks it in the dead letters); this file only decides.

use crate::consumer::handler::HandlerError;
use crate::consumer::shared::Shared;
use crate::record::Record;

/// How one event ended.
pub(crate) enum Outcome {
    Handled,
    /// Give up on it: dead-letter with this many attempts and this error.
    GiveUp(u32, String),
    /// Shutdown arrived while waiting to retry.
    Interrupted,
}

/// Runs the handler on `record` until it succeeds, fails for good, or runs out of attempts.
///
/// The attempts are counted here, in the member's memory, not in Redis: a member that dies
/// mid-retry takes its count with it, and the next holder starts again from 1. That keeps a
/// round trip off every attempt; the price is the known limit in the crate doc (an event
/// that kills its consumer every time is never dead-lettered).
pub(crate) async fn handle(shared: &Shared, record: &Record) -> Outcome {
    let config = &shared.config;
    let name = shared.handler.name();
    // Bytes that are not an event (not UTF-8, not an event's JSON) stay so whatever we do:
    // park them at once, untouched (`Record::raw` keeps them), instead of burning attempts.
    let event = match record.decoded() {
        Ok(event) => event,
        Err(why) => return Outcome::GiveUp(0, why.into()),
    };
    tracing::info!(
        "consumer found event: {} {} at {} on partition {}",
        event.kind,
        event.id,
        record.position,
        record.partition
    );
    let mut attempt = 0;
    loop {
        attempt += 1;
        match shared.handler.handle(event).await {
            Ok(()) => {
                tracing::info!(id = %event.id, "consumer success on handler: {name}");
                return Outcome::Handled;
            }
            // An SMTP 5xx or a payload that is not an email fails the same way every time:
            // retrying would only hold up the events behind it in the partition.
            Err(HandlerError::Permanent(error)) => {
                tracing::error!(id = %event.id, "consumer error on handler: {name}: {error} (permanent)");
                return Outcome::GiveUp(attempt, error);
            }
            Err(HandlerError::Transient(error)) => {
                // Bounded: while this event is retried its partition waits (order has that
                // price), so an endless retry would stall the partition for good.
                if attempt >= config.max_attempts {
                    tracing::error!(id = %event.id, "consumer error on handler: {name}: {error} (attempt {attempt} of {}, giving up)", config.max_attempts);
                    return Outcome::GiveUp(attempt, error);
                }
                // Doubling waits give a struggling mail server room to recover instead of
                // hammering it at the rate the log can deliver.
                let wait = config.backoff.after(attempt);
                tracing::warn!(id = %event.id, "consumer error on handler: {name}: {error} (attempt {attempt} of {}, retrying in {wait:?})", config.max_attempts);
                // A stop must not wait out a 5 s backoff: leave now without committing.
                // At-least-once, the partition's next holder handles the event again;
                // at-most-once, it is lost, and the worker says so.
                tokio::select! {
                    _ = shared.shutdown.cancelled() => return Outcome::Interrupted,
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        }
    }
}
