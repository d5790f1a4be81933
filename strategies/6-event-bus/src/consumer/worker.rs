//! One partition's worker: take the lease when there is room, then run the pipeline.
//!
//! The outer loop of a consumer, the same on both engines:
//!
//! ```text
//! loop:
//!   no lease?            reserve a slot of our share, take the lease, open a cursor
//!   lease lost?          drop everything: the partition is someone else's now
//!   above our share?     give the lease back (the pipeline drained and committed first)
//!   the pipeline:        read on while sends are in flight, start each event as soon as
//!                        its key allows, commit the contiguous finished prefix
//!                        (pipeline.rs); it comes back here to stop, to shed, after a
//!                        replay, a lost lease or an error
//!   unreadable data?     say so once, keep the lease, look again every 2 s
//! on stop:               the pipeline reads no more, lets what runs finish, commits;
//!                        then release the lease
//! ```
//!
//! What a SIGKILL with sends in flight leaves behind: the last commit, and a lease nobody
//! renews. Once the lease runs out another member takes the partition. At-least-once,
//! nothing past the commit is lost: the list engine's offset still points at the first
//! event not committed, and on Streams the entries not acknowledged wait in the dead
//! member's pending list, which the new holder claims first. The events the dead member
//! had handled past the commit are handled again (duplicates); none is lost. At-most-once,
//! the read had already moved the group past what it read: what was not handled is lost.

use crate::consumer::pipeline;
use crate::consumer::shared::Shared;
use crate::consumer::stuck_report::{StuckReport, STUCK_RECHECK};
use crate::cursor::Cursor;
use crate::error::LogError;
use crate::lease::Lease;
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
        // A member joined and our share shrank. The pipeline came back after it let its
        // sends finish and committed them, so this is the one moment a handover neither
        // loses nor repeats anything. Releasing (instead of letting the lease expire) lets the newcomer take
        // it at once.
        if shared.membership.try_shed() {
            tracing::info!(
                "consumer gave back partition {partition} to balance group {}",
                config.group
            );
            lease.release().await;
            continue;
        }
        match pipeline::run(&shared, &lease, &mut cursor, &mut report).await {
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
                tracing::warn!("consumer stopping: could not commit on partition {partition}: {e}; the next holder handles again what was not committed");
                shared.membership.unreserve();
            }
            Err(e) => {
                // Redis went away (or restarted). Start over with a fresh cursor: the lease is
                // still ours if Redis kept it, and lease.lua lets its holder take it again.
                // The fresh cursor starts from what was committed (on Streams it claims its
                // pending entries first), so what was in flight is handled again rather
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
    // What finished is committed (the pipeline drained before it came back). Give the partition back
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
