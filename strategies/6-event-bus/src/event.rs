//! What the log holds: an [`Event`], where it landed ([`Position`]), and how a key picks
//! its partition.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One fact, appended once and never changed.
///
/// `published_at` is stamped by Redis (its clock, in milliseconds since the epoch), not by
/// the producer, and it never goes backwards within a partition: that is what lets a replay
/// "from 10:00" find its place by binary search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// Events with the same key go to the same partition, so they keep their order.
    pub key: String,
    #[serde(default)]
    pub published_at: u64,
    pub payload: Value,
}

/// An event before it is published: the log assigns the rest.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub kind: String,
    pub key: String,
    pub payload: Value,
}

impl NewEvent {
    pub fn new(kind: impl Into<String>, key: impl Into<String>, payload: Value) -> NewEvent {
        NewEvent {
            kind: kind.into(),
            key: key.into(),
            payload,
        }
    }
}

/// The JSON the producer sends: everything but `published_at`, which Redis adds.
#[derive(Serialize)]
pub(crate) struct Unstamped<'a> {
    pub id: &'a str,
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub key: &'a str,
    pub payload: &'a Value,
}

/// Where an event sits in its partition. The list backend counts offsets (0, 1, 2, ...);
/// the Streams backend uses the entry ID Redis gave it (`1764250000000-0`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Position {
    Offset(u64),
    StreamId(String),
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Position::Offset(o) => write!(f, "{o}"),
            Position::StreamId(id) => f.write_str(id),
        }
    }
}

impl Position {
    /// Sort key: stream IDs compare as (ms, seq) numbers, not as strings ("9-0" < "10-0").
    fn key(&self) -> (u64, u64) {
        match self {
            Position::Offset(o) => (*o, 0),
            Position::StreamId(id) => {
                let (ms, seq) = id.split_once('-').unwrap_or((id, "0"));
                (ms.parse().unwrap_or(0), seq.parse().unwrap_or(0))
            }
        }
    }
}

impl Ord for Position {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl PartialOrd for Position {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Where a publish landed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Appended {
    pub partition: u32,
    #[serde(rename = "offset")]
    pub position: Position,
    #[serde(skip)]
    pub id: String,
    #[serde(skip)]
    pub published_at: u64,
}

/// The partition for `key`: FNV-1a, because it is stable across processes, machines and
/// Rust versions (std's hasher promises none of that), and a producer and a consumer
/// written years apart must agree.
pub fn partition_for(key: &str, partitions: u32) -> u32 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash % u64::from(partitions.max(1))) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_key_always_lands_in_the_same_partition() {
        assert_eq!(
            partition_for("a@example.com", 4),
            partition_for("a@example.com", 4)
        );
        let used: std::collections::HashSet<u32> = (0..100)
            .map(|i| partition_for(&format!("user{i}@example.com"), 4))
            .collect();
        assert_eq!(used.len(), 4, "keys spread over every partition");
    }

    #[test]
    fn stream_ids_order_as_numbers() {
        let id = |s: &str| Position::StreamId(s.into());
        assert!(id("9-0") < id("10-0"));
        assert!(id("10-2") < id("10-10"));
    }

    #[test]
    fn positions_serialize_as_a_number_or_an_id() {
        assert_eq!(serde_json::to_string(&Position::Offset(7)).unwrap(), "7");
        assert_eq!(
            serde_json::to_string(&Position::StreamId("1-0".into())).unwrap(),
            "\"1-0\""
        );
    }
}
