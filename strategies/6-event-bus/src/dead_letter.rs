//! Dead letters: events a group gave up on after `--max-attempts` (or at once, when the
//! failure is permanent or the event cannot be decoded). They are parked, not dropped:
//! `{events:P}:dead:GROUP` is a LIST of the JSON below, oldest first, one list per
//! partition and group, for an operator (or a replay tool) to look at.

use crate::event::Position;
use crate::record::Record;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One parked event and why it was parked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub group: String,
    pub partition: u32,
    #[serde(rename = "offset")]
    pub position: Position,
    /// How many times the handler ran on it.
    pub attempts: u32,
    /// The last error.
    pub error: String,
    /// When it was parked, ms since the epoch (consumer clock).
    pub failed_at: u64,
    /// The event as stored (a JSON string if it was not valid JSON).
    pub event: Value,
}

impl DeadLetter {
    pub(crate) fn new(group: &str, record: &Record, attempts: u32, error: &str) -> DeadLetter {
        DeadLetter {
            group: group.to_string(),
            partition: record.partition,
            position: record.position.clone(),
            attempts,
            error: error.to_string(),
            failed_at: now_ms(),
            event: serde_json::from_str(&record.raw).unwrap_or(Value::String(record.raw.clone())),
        }
    }
}

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
