//! One partition's worker: take the lease when there is room, then read, handle, commit.

use super::Shared;
use crate::cursor::Cursor;
use crate::dead_letter::DeadLetter;
use crate::error::{LogError, Result};
use crate::lease::Lease;
use crate::options::Delivery;
use crate::record::Record;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// How one event ended.
enum Outcome {
    Handled,
    /// Give up on it: dead-letter with this many attempts and this error.
    GiveUp(u32, String),
    /// Shutdown arrived while waiting to retry.
    Interrupted,
}

pub(crate) async fn run(shared: Arc<Shared>, partition: u32) {
    let config = &shared.config;
    let mut held: Option<(Lease, Cursor)> = None;
    while !shared.shutdown.is_cancelled() {
        let Some((lease, mut cursor)) = held.take() else {
            held = try_take(&shared, partition).await;
            if held.is_none() {
                tokio::select! {
                    _ = shared.shutdown.cancelled() => {}
                    _ = tokio::time::sleep(config.lease_ttl / 3) => {}
                }
            }
            continue;
        };
        if lease.is_lost() {
            tracing::warn!(partition, group = %config.group, "consumer lost partition {partition}: its lease went to another member");
            shared.membership.unreserve();
            continue;
        }
        if shared.membership.try_shed() {
            tracing::info!(partition, group = %config.group, "consumer gave back partition {partition} to balance the group");
            lease.release().await;
            continue;
        }
        match work_one_batch(&shared, &lease, &mut cursor).await {
            Ok(()) => held = Some((lease, cursor)),
            Err(LogError::LeaseLost(_)) => {
                tracing::warn!(partition, group = %config.group, "consumer lost partition {partition}: its lease expired");
                shared.membership.unreserve();
            }
            Err(e) if shared.shutdown.is_cancelled() => {
                // Stopping anyway (often because Redis stops too): nothing to retry. What was
                // not committed is read again by the partition's next holder.
                tracing::warn!(partition, error = %e, "consumer stopping: could not commit on partition {partition}: {e}; the next holder handles that batch again");
                shared.membership.unreserve();
            }
            Err(e) => {
                // Redis went away (or restarted). Start over with a fresh cursor: the lease is
                // still ours if Redis kept it, and lease.lua lets its holder take it again.
                tracing::warn!(partition, error = %e, "consumer error: {e}; retrying");
                shared.membership.unreserve();
                tokio::select! {
                    _ = shared.shutdown.cancelled() => {}
                    _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                }
            }
        }
    }
    if let Some((lease, _)) = held {
        lease.release().await;
        shared.membership.unreserve();
    }
}

async fn try_take(shared: &Shared, partition: u32) -> Option<(Lease, Cursor)> {
    let config = &shared.config;
    if !shared.membership.try_reserve() {
        return None;
    }
    let log = &shared.log;
    let taken = async {
        let Some(lease) = Lease::acquire(
            &log.connection(),
            log.keys(),
            &config.group,
            partition,
            &config.member,
            config.lease_ttl,
        )
        .await?
        else {
            return Ok(None);
        };
        let cursor = log
            .cursor(&config.group, partition, &config.member, config.delivery)
            .await?;
        Ok::<_, LogError>(Some((lease, cursor)))
    }
    .await;
    match taken {
        Ok(Some(held)) => {
            tracing::info!(partition, group = %config.group, member = %config.member, "consumer polling partition: {partition}");
            Some(held)
        }
        Ok(None) => {
            shared.membership.unreserve();
            None
        }
        Err(e) => {
            tracing::warn!(partition, error = %e, "consumer could not take partition {partition}");
            shared.membership.unreserve();
            None
        }
    }
}

async fn work_one_batch(shared: &Shared, lease: &Lease, cursor: &mut Cursor) -> Result<()> {
    let config = &shared.config;
    let batch = cursor.next_batch(config.batch_size, config.block).await?;
    let mut handled: Vec<Record> = Vec::with_capacity(batch.len());
    let size = batch.len();
    for (index, record) in batch.into_iter().enumerate() {
        if lease.is_lost() {
            return Err(LogError::LeaseLost(record.partition));
        }
        match handle(shared, &record).await {
            Outcome::Handled => {
                shared.stats.handled.fetch_add(1, Ordering::Relaxed);
                handled.push(record);
            }
            Outcome::GiveUp(attempts, error) => {
                // Commit what came before, then park this one and move past it atomically.
                if !cursor.commit(&handled).await? {
                    return replayed(record.partition);
                }
                handled.clear();
                let letter = DeadLetter::new(&config.group, &record, attempts, &error);
                if !cursor.dead_letter(&record, &letter).await? {
                    return replayed(record.partition);
                }
                shared.stats.dead_lettered.fetch_add(1, Ordering::Relaxed);
                tracing::error!(
                    partition = record.partition,
                    offset = %record.position,
                    attempts,
                    "consumer parked event at {} on partition {} in the dead letters after {attempts} attempt(s): {error}",
                    record.position,
                    record.partition
                );
            }
            Outcome::Interrupted => {
                // The offset already moved past the whole batch (at-most-once): this event
                // and the ones behind it in the batch are never handled.
                if config.delivery == Delivery::AtMostOnce {
                    let lost = size - index;
                    tracing::warn!(offset = %record.position, lost, "consumer stopping: {lost} event(s) from {} on partition {} are lost (at-most-once)", record.position, record.partition);
                }
                break;
            }
        }
    }
    if let Some(last) = handled.last() {
        let partition = last.partition;
        if !cursor.commit(&handled).await? {
            return replayed(partition);
        }
    }
    Ok(())
}

fn replayed(partition: u32) -> Result<()> {
    tracing::info!(
        partition,
        "consumer found its offset moved by a replay: reading again from there"
    );
    Ok(())
}

async fn handle(shared: &Shared, record: &Record) -> Outcome {
    let config = &shared.config;
    let name = shared.handler.name();
    let Some(event) = &record.event else {
        return Outcome::GiveUp(0, "the stored event is not valid event JSON".into());
    };
    tracing::info!(
        partition = record.partition,
        offset = %record.position,
        id = %event.id,
        "consumer found event: {} {} on partition {}",
        event.kind,
        event.id,
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
            Err(super::HandlerError::Permanent(error)) => {
                tracing::error!(id = %event.id, "consumer error on handler: {name}: {error} (permanent)");
                return Outcome::GiveUp(attempt, error);
            }
            Err(super::HandlerError::Transient(error)) => {
                if attempt >= config.max_attempts {
                    tracing::error!(id = %event.id, "consumer error on handler: {name}: {error} (attempt {attempt} of {}, giving up)", config.max_attempts);
                    return Outcome::GiveUp(attempt, error);
                }
                let wait = config.backoff.after(attempt);
                tracing::warn!(id = %event.id, "consumer error on handler: {name}: {error} (attempt {attempt} of {}, retrying in {wait:?})", config.max_attempts);
                tokio::select! {
                    _ = shared.shutdown.cancelled() => return Outcome::Interrupted,
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        }
    }
}
