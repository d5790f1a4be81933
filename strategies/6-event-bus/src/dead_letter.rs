//! Dead letters: events a group gave up on after `--max-attempts` (or at once, when the
//! failure is permanent or the event cannot be decoded). They are parked, not dropped:
//! `{events:P}:dead:GROUP` is a LIST of the JSON below, oldest first, one list per
//! partition and group, for an operator (or a replay tool) to look at. Both engines park
//! them in that same list, so reading them back is one function for both.

use crate::connection::RedisConn;
use crate::error::Result;
use crate::event::Position;
use crate::keys::Keys;
use crate::record::Record;
use redis::AsyncCommands;
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
    /// The event as stored (a JSON string if it was not valid JSON; bytes that are not
    /// UTF-8 escaped in it, `\xff`).
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
            event: serde_json::from_slice(&record.raw)
                .unwrap_or_else(|_| Value::String(record.raw_text().into_owned())),
        }
    }
}

/// Every dead letter of `group` in `partition`, oldest first. An entry that is not a dead
/// letter's JSON (written by hand, say) is passed over rather than failing the whole list.
pub(crate) async fn read(
    mut conn: RedisConn,
    keys: &Keys,
    group: &str,
    partition: u32,
) -> Result<Vec<DeadLetter>> {
    let raw: Vec<String> = conn.lrange(keys.dead(partition, group), 0, -1).await?;
    Ok(raw
        .iter()
        .filter_map(|json| serde_json::from_str(json).ok())
        .collect())
}

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
