//! What the tasks of one consumer share: the log, the settings, the handler, the member's
//! share of partitions, its counters, and the signal to stop.

use crate::consumer::config::ConsumerConfig;
use crate::consumer::handler::Handler;
use crate::lease::Membership;
use crate::log::Log;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Counters of what a consumer did.
#[derive(Debug, Default)]
pub struct Stats {
    pub handled: AtomicU64,
    pub dead_lettered: AtomicU64,
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
