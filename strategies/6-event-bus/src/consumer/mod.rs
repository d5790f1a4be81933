//! The consumer runtime: one member of a consumer group, working the partitions it leases.
//!
//! ```text
//! Consumer::start ─┬─ heartbeat task: counts live members -> fair share of partitions
//!                  └─ one worker per partition:
//!                       lease free and below share? take it ── lease renewed in background
//!                       pipeline: read on while sends are in flight (blocks when idle),
//!                             start each event at once unless its key has one in flight
//!                             (retry, backoff, dead-letter), commit the finished prefix;
//!                             above share? drain, commit, give it back
//! ```
//!
//! Files, in reading order: `worker.rs` is the outer loop (the lease), `pipeline.rs` the
//! core loop (read, start, commit), `by_key.rs` the window of what was read and not
//! committed, each event started as soon as its key allows,
//! `attempts.rs` runs one event through the handler with retries, `heartbeat.rs` sizes this
//! member's share, `stuck_report.rs` says (once) that a partition cannot be read;
//! `config.rs`, [`handler`] and [`retry`] hold what a caller sets, `shared.rs` what the
//! tasks share.

mod attempts;
mod by_key;
mod config;
pub mod handler;
mod heartbeat;
mod pipeline;
pub mod retry;
mod shared;
mod stuck_report;
mod worker;

use crate::error::Result;
use crate::lease::Membership;
use crate::log::Log;
pub use config::{new_member_id, ConsumerConfig};
pub use handler::{Handler, HandlerError};
pub use retry::Backoff;
use shared::Shared;
pub use shared::Stats;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// A running consumer. [`ConsumerHandle::stop`] finishes the sends in flight, commits,
/// and gives the partitions back.
pub struct ConsumerHandle {
    shutdown: CancellationToken,
    tasks: TaskTracker,
    membership: Arc<Membership>,
    stats: Arc<Stats>,
    log: Log,
    config: ConsumerConfig,
}

impl ConsumerHandle {
    /// Partitions this member holds right now.
    pub fn held(&self) -> usize {
        self.membership.held()
    }

    pub fn handled(&self) -> u64 {
        self.stats.handled.load(Ordering::Relaxed)
    }

    pub fn dead_lettered(&self) -> u64 {
        self.stats.dead_lettered.load(Ordering::Relaxed)
    }

    pub fn member(&self) -> &str {
        &self.config.member
    }

    /// Stops reading, lets the sends in flight finish and commit, releases the leases.
    pub async fn stop(self) {
        // Workers stop reading at the token and let their sends in flight finish (a send
        // waiting to retry ends at once, uncommitted); what they handled is committed on the
        // way out. So a clean stop leaves nothing handled but uncommitted, nothing to handle
        // twice.
        self.shutdown.cancel();
        self.tasks.close();
        self.tasks.wait().await;
        // Leave the group at once: the other members' next heartbeat counts one member
        // fewer and they take over our share now, not after our heartbeat goes stale.
        Membership::leave(
            &self.log.connection(),
            self.log.keys(),
            &self.config.group,
            &self.config.member,
        )
        .await;
    }

    /// Resolves when the consumer stopped (after `shutdown` was cancelled).
    pub async fn wait(&self) {
        self.tasks.wait().await;
    }
}

/// Joins `config.group` and starts working. Returns once the member is registered; its
/// workers take partitions as leases allow (a dead member's after its lease expires).
/// Cancelling `shutdown` stops it like [`ConsumerHandle::stop`].
pub async fn start(
    log: Log,
    config: ConsumerConfig,
    handler: Arc<dyn Handler>,
    shutdown: CancellationToken,
) -> Result<ConsumerHandle> {
    // Register before any worker runs: the first heartbeat counts the members already
    // there, so this member starts with its fair share instead of assuming it is alone and
    // grabbing every free partition. It also fails here, to the caller, if Redis is down.
    let membership = Arc::new(Membership::new(log.config().partitions));
    let conn = log.connection();
    membership
        .heartbeat(
            &conn,
            log.keys(),
            &config.group,
            &config.member,
            config.lease_ttl,
        )
        .await?;
    let stats = Arc::new(Stats::default());
    let shared = Arc::new(Shared {
        log: log.clone(),
        config: config.clone(),
        handler,
        membership: membership.clone(),
        stats: stats.clone(),
        shutdown: shutdown.clone(),
    });
    let tasks = TaskTracker::new();
    tasks.spawn(heartbeat::run(shared.clone()));
    // A worker for every partition, held or not: the reservations in the share decide how
    // many of them hold a lease at a time, and the others stand by to take over one a
    // member gives back or a dead member's lease lets go. One task per partition also
    // keeps a slow handler on one partition from holding up the others.
    for partition in log.partitions() {
        tasks.spawn(worker::run(shared.clone(), partition));
    }
    // Closed now so that `wait` resolves once every task has ended.
    tasks.close();
    Ok(ConsumerHandle {
        shutdown,
        tasks,
        membership,
        stats,
        log,
        config,
    })
}
