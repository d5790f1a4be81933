//! The consumer runtime: one member of a consumer group, working the partitions it leases.
//!
//! ```text
//! Consumer::start ─┬─ heartbeat task: counts live members -> fair share of partitions
//!                  └─ one worker per partition:
//!                       lease free and below share? take it ── lease renewed in background
//!                       loop: next_batch (blocks when idle) -> handle each (retry, backoff,
//!                             dead-letter) -> commit -> above share? give it back
//! ```

pub mod handler;
pub mod retry;
mod worker;

use crate::error::Result;
use crate::lease::Membership;
use crate::log::Log;
use crate::options::Delivery;
pub use handler::{Handler, HandlerError};
pub use retry::Backoff;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How a consumer behaves.
#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    pub group: String,
    /// This member's id in the group; unique per process.
    pub member: String,
    pub delivery: Delivery,
    /// Most events read per round trip.
    pub batch_size: usize,
    /// Handler runs per event before it is dead-lettered (transient failures).
    pub max_attempts: u32,
    pub backoff: Backoff,
    /// A member that stops renewing loses its partitions after this long.
    pub lease_ttl: Duration,
    /// How long an idle read blocks before the worker looks around (shutdown, share).
    pub block: Duration,
}

impl ConsumerConfig {
    pub fn new(group: impl Into<String>) -> ConsumerConfig {
        ConsumerConfig {
            group: group.into(),
            member: new_member_id(),
            delivery: Delivery::AtLeastOnce,
            batch_size: 10,
            max_attempts: 5,
            backoff: Backoff {
                base: Duration::from_millis(100),
                max: Duration::from_secs(5),
            },
            lease_ttl: Duration::from_secs(3),
            block: Duration::from_secs(1),
        }
    }
}

/// `PID-RANDOM`: readable in `ZRANGE` and lease keys, unique across restarts.
pub fn new_member_id() -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{}-{}", std::process::id(), &random[..8])
}

/// Counters of what a consumer did.
#[derive(Debug, Default)]
pub struct Stats {
    pub handled: AtomicU64,
    pub dead_lettered: AtomicU64,
}

/// A running consumer. [`ConsumerHandle::stop`] finishes the batches in flight, commits,
/// and gives the partitions back.
pub struct ConsumerHandle {
    shutdown: CancellationToken,
    tasks: TaskTracker,
    membership: Arc<Membership>,
    stats: Arc<Stats>,
    log: Log,
    config: ConsumerConfig,
}

/// Everything a partition worker shares with the others.
pub(crate) struct Shared {
    pub log: Log,
    pub config: ConsumerConfig,
    pub handler: Arc<dyn Handler>,
    pub membership: Arc<Membership>,
    pub stats: Arc<Stats>,
    pub shutdown: CancellationToken,
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

    /// Stops reading, lets in-flight batches finish and commit, releases the leases.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.tasks.close();
        self.tasks.wait().await;
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
    tasks.spawn(heartbeat(shared.clone()));
    for partition in log.partitions() {
        tasks.spawn(worker::run(shared.clone(), partition));
    }
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

async fn heartbeat(shared: Arc<Shared>) {
    let config = &shared.config;
    let mut members = 0;
    loop {
        tokio::select! {
            _ = shared.shutdown.cancelled() => return,
            _ = tokio::time::sleep(config.lease_ttl / 3) => {}
        }
        match shared
            .membership
            .heartbeat(
                &shared.log.connection(),
                shared.log.keys(),
                &config.group,
                &config.member,
                config.lease_ttl,
            )
            .await
        {
            Ok(now) if now != members => {
                tracing::info!(
                    group = %config.group,
                    members = now,
                    share = shared.membership.share(),
                    "consumer group has {now} live member(s)"
                );
                members = now;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "consumer heartbeat failed"),
        }
    }
}
