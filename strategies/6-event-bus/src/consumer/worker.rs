//! One partition's worker: take the lease when there is room, then read, handle, commit.
//!
//! This is the core loop of a consumer, the same on both engines:
//!
//! ```text
//! loop:
//!   no lease?            reserve a slot of our share, take the lease, open a cursor
//!   lease lost?          drop everything: the partition is someone else's now
//!   above our share?     give the lease back, between two batches
//!   one batch:           read (blocks while idle) -> handle it, one chain per key, the
//!                        chains concurrently (by_key.rs) -> commit what succeeded
//!                        (a failing event: retries, then commit before it, park it, move on)
//!   unreadable data?     say so once, keep the lease, look again every 2 s
//! on stop:               finish the batch in flight, commit, release the lease
//! ```
//!
//! What a SIGKILL in the middle of a batch leaves behind: no commit, and a lease nobody
//! renews. Once the lease runs out another member takes the partition. At-least-once,
//! nothing of the batch was committed: the list engine's offset still points at its start,
//! and on Streams its entries wait in the dead member's pending list, which the new holder
//! claims first. The events the dead member had handled are handled again (duplicates);
//! none is lost. At-most-once, the read had already moved the group past the batch: what
//! was not handled is lost.

use crate::consumer::attempts::Outcome;
use crate::consumer::by_key::{self, Step};
use crate::consumer::shared::Shared;
use crate::consumer::stuck_report::{StuckReport, STUCK_RECHECK};
use crate::cursor::Cursor;
use crate::dead_letter::DeadLetter;
use crate::error::{LogError, Result};
use crate::lease::Lease;
use crate::options::Delivery;
use crate::record::Record;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// The pause before a worker tries again after Redis failed it (down, restarting).
const RETRY_PAUSE: Duration = Duration::from_millis(250);

/// Works `partition` for the group until shutdown, whenever this member can hold it.
pub(crate) async fn run(shared: Arc<Shared>, partition: u32) {
    let config = &shared.config;
    // The lease and the cursor live and die together: a cursor is only worth using while
    // its lease is ours, and every way of losing the lease drops both.
    let mut held: Option<(Lease, Cursor)> = None;
    // What this worker said about the partition being unreadable, so it says it once.
    let mut report = StuckReport::new(partition);
    while !shared.shutdown.is_cancelled() {
        let Some((lease, mut cursor)) = held.take() else {
            held = try_take(&shared, partition).await;
            if held.is_some() {
                report.taken();
            } else {
                // Taken by another member, or no room in our share. A dead holder's lease
                // runs out within `lease_ttl`; looking again every third of it takes the
                // partition over soon after, without polling Redis in a tight loop.
                tokio::select! {
                    _ = shared.shutdown.cancelled() => {}
                    _ = tokio::time::sleep(config.lease_ttl / 3) => {}
                }
            }
            continue;
        };
        // The renewer found another member holding the lease: we were paused (or cut off)
        // longer than the lease time and the partition moved on. Working on would handle
        // events twice, so drop the cursor and the lease without releasing it (it is not
        // ours to release) and free the slot in our share.
        if lease.is_lost() {
            tracing::warn!(
                "consumer lost partition {partition} of group {}: its lease went to another member",
                config.group
            );
            shared.membership.unreserve();
            continue;
        }
        // A member joined and our share shrank. Between two batches everything we handled
        // is committed, so this is the one moment a handover neither loses nor repeats
        // anything. Releasing (instead of letting the lease expire) lets the newcomer take
        // it at once.
        if shared.membership.try_shed() {
            tracing::info!(
                "consumer gave back partition {partition} to balance group {}",
                config.group
            );
            lease.release().await;
            continue;
        }
        match work_one_batch(&shared, &lease, &mut cursor).await {
            Ok(()) => {
                report.readable(&shared).await;
                held = Some((lease, cursor));
            }
            // A key of the partition holds what the log never wrote there. Retrying at once
            // cannot help, so say it once, where people look (the log, the web's /healthz),
            // and look again now and then: the partition flows again soon after the repair.
            // The lease stays ours: the partition is unreadable for any member, and
            // handing it around would only repeat the report. Its events wait, in order
            // (order has that price); the other partitions' workers go on.
            Err(LogError::Corrupt(reason)) => {
                report.stuck(&shared, &reason).await;
                held = Some((lease, cursor));
                tokio::select! {
                    _ = shared.shutdown.cancelled() => {}
                    _ = tokio::time::sleep(STUCK_RECHECK) => {}
                }
            }
            // A fenced script (read.lua, commit.lua) or the check before each event says
            // the lease expired: whatever we did not commit, the new owner reads again.
            Err(LogError::LeaseLost(_)) => {
                tracing::warn!(
                    "consumer lost partition {partition} of group {}: its lease expired",
                    config.group
                );
                shared.membership.unreserve();
            }
            Err(e) if shared.shutdown.is_cancelled() => {
                // Stopping anyway (often because Redis stops too): nothing to retry. What was
                // not committed is read again by the partition's next holder.
                tracing::warn!("consumer stopping: could not commit on partition {partition}: {e}; the next holder handles that batch again");
                shared.membership.unreserve();
            }
            Err(e) => {
                // Redis went away (or restarted). Start over with a fresh cursor: the lease is
                // still ours if Redis kept it, and lease.lua lets its holder take it again.
                // The fresh cursor starts from what was committed (on Streams it claims its
                // pending entries first), so the batch that failed is handled again rather
                // than skipped. The pause keeps every worker of every member from hammering
                // a Redis that is down.
                tracing::warn!(
                    "consumer error on partition {partition}: {e}; retrying in {} ms",
                    RETRY_PAUSE.as_millis()
                );
                shared.membership.unreserve();
                tokio::select! {
                    _ = shared.shutdown.cancelled() => {}
                    _ = tokio::time::sleep(RETRY_PAUSE) => {}
                }
            }
        }
    }
    // The last batch is committed (work_one_batch ran to its end). Give the partition back
    // now, so the next holder starts at once instead of after the lease time.
    if let Some((lease, _)) = held {
        lease.release().await;
        shared.membership.unreserve();
    }
}

/// Takes the partition if this member has room for it and its lease is free (or already
/// ours). `None`: try again later.
async fn try_take(shared: &Shared, partition: u32) -> Option<(Lease, Cursor)> {
    let config = &shared.config;
    // Room first, lease second: every worker of this member races for its partition at
    // start-up, and without the reservation the first member up would take every partition
    // and leave nothing for the members that join after it.
    if !shared.membership.try_reserve() {
        return None;
    }
    let log = &shared.log;
    let taken = async {
        // The lease before any read: two members reading one partition would both handle
        // each event, and events of one key would no longer be handled in order. On the
        // Streams engine the new cursor's first act is to claim what the previous holder
        // left pending, which is only safe once nobody else holds the partition.
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
            tracing::info!(
                "consumer polling partition: {partition} (member {} of group {})",
                config.member,
                config.group
            );
            Some(held)
        }
        // Not ours: hand the reserved slot back, or this member would count a partition it
        // does not hold and stay below its share for good.
        Ok(None) => {
            shared.membership.unreserve();
            None
        }
        Err(e) => {
            tracing::warn!("consumer could not take partition {partition}: {e}");
            shared.membership.unreserve();
            None
        }
    }
}

/// One step of the loop: read a batch, handle it event by event, move the group past it.
async fn work_one_batch(shared: &Shared, lease: &Lease, cursor: &mut Cursor) -> Result<()> {
    let config = &shared.config;
    // Blocks up to `config.block` when the partition is drained: the engine waits on the
    // partition's wake-up (lists) or in XREADGROUP BLOCK (streams), so a new event is
    // picked up one round trip after its append. The original slept 5 s between polls
    // instead: up to 5 s of latency per event, and polls while idle. The wait is bounded
    // so the loop comes back to notice shutdown, a lost lease or a smaller share.
    // At-most-once, this read has already moved the group past the whole batch.
    let batch = cursor.next_batch(config.batch_size, config.block).await?;
    // Handled concurrently across keys, in order within a key (`by_key.rs`); then walked
    // here in offset order, so what follows decides the offset as if they had run one by one.
    let steps = by_key::handle_batch(shared, lease, &batch).await;
    // What succeeded and is not committed yet: always a prefix of the batch, in order.
    let mut handled: Vec<Record> = Vec::with_capacity(batch.len());
    let size = batch.len();
    for (index, (record, step)) in batch.into_iter().zip(steps).enumerate() {
        match step {
            // Our commit would be refused anyway on the list engine (commit.lua checks
            // the lease): the new owner reads from our last commit.
            Step::LeaseLost => return Err(LogError::LeaseLost(record.partition)),
            Step::Ran(Outcome::Handled) => {
                shared.stats.handled.fetch_add(1, Ordering::Relaxed);
                // Not committed yet: one commit per batch is one round trip per batch, not
                // per event. A crash before it only means this prefix is handled again.
                handled.push(record);
            }
            Step::Ran(Outcome::GiveUp(attempts, error)) => {
                // Commit what came before first. The list engine's offset would jump past
                // them anyway, but Streams acknowledges entry by entry: without this the
                // handled ones would stay pending and be delivered again after the next
                // handover. `false` from either call: an operator replayed the group while
                // we worked; keep the replay, drop the rest of the batch, read again.
                if !cursor.commit(&handled).await? {
                    return replayed(record.partition);
                }
                handled.clear();
                // Then park it and move past it (one Lua call on lists, RPUSH then XACK on
                // Streams). Parked, not dropped: the event and why it failed stay visible
                // in `{events:P}:dead:GROUP`, and the events behind it flow again.
                let letter = DeadLetter::new(&config.group, &record, attempts, &error);
                if !cursor.dead_letter(&record, &letter).await? {
                    return replayed(record.partition);
                }
                shared.stats.dead_lettered.fetch_add(1, Ordering::Relaxed);
                tracing::error!(
                    "consumer parked event at {} on partition {} in the dead letters after {attempts} attempt(s): {error}",
                    record.position,
                    record.partition
                );
            }
            Step::Ran(Outcome::Interrupted) | Step::NotRun => {
                // The offset already moved past the whole batch (at-most-once): the events
                // from here on that no chain finished are never handled.
                if config.delivery == Delivery::AtMostOnce {
                    let lost = size - index;
                    tracing::warn!(
                        "consumer stopping: up to {lost} event(s) from {} on partition {} are lost (at-most-once)",
                        record.position,
                        record.partition
                    );
                }
                // At-least-once: commit below what succeeded so far; this event and the
                // rest stay uncommitted for the next holder (events of other keys behind it
                // that were handled already are handled again: duplicates, never a loss).
                break;
            }
        }
    }
    // workshop 6.1: solution begin
    // Commit after success: the position moves only past events whose handler returned
    // Ok. Dying before this line leaves the position at the batch's start, so the batch
    // is handled again (duplicates, no loss). Read-and-advance (at-most-once) would have
    // lost it instead; for that mode the commit has nothing left to do.
    if let Some(last) = handled.last() {
        let partition = last.partition;
        if !cursor.commit(&handled).await? {
            return replayed(partition);
        }
    }
    // workshop 6.1: solution end
    Ok(())
}

/// A replay moved the group while a batch was in hand. Not an error: the next read starts
/// from the replayed position, which is what the operator asked for.
fn replayed(partition: u32) -> Result<()> {
    tracing::info!(
        "consumer found its place in partition {partition} moved by a replay: reading again from there"
    );
    Ok(())
}
