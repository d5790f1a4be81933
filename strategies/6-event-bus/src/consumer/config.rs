//! [`ConsumerConfig`]: how one member of a group behaves, and its default settings.

use crate::consumer::retry::Backoff;
use crate::options::Delivery;
use std::time::Duration;

/// How a consumer behaves.
#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    pub group: String,
    /// This member's id in the group; unique per process.
    pub member: String,
    pub delivery: Delivery,
    /// Most events read per round trip.
    pub batch_size: usize,
    /// Most events read and not committed yet, per partition: sends in flight, events
    /// waiting for their key's turn, and finished ones behind an unfinished one.
    pub max_in_flight: usize,
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
            max_in_flight: 64,
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
