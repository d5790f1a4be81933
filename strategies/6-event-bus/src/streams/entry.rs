//! Stream entries as Redis returns them, with fields that may hold any bytes.
//!
//! redis-rs's `StreamReadReply` wants every field name as a `String`: one entry whose name
//! is not UTF-8 (written by another program, `XADD ... "\xff" x`) fails the whole reply, so
//! the partition stalls on it (at-least-once: its entries wait, pending, for a claim that
//! fails the same way) or loses the batch (at-most-once: XREADGROUP already delivered it).
//! Read as bytes, such an entry reaches the consumer and is parked like any entry that is
//! not an event.

use redis::{from_redis_value, RedisResult, Value};

/// One entry: its ID and its field-value pairs, as bytes.
pub(crate) struct Entry {
    pub id: String,
    fields: Vec<Vec<u8>>,
}

impl Entry {
    /// What the entry stores as its event: the `event` field this log writes. An entry
    /// without one (not written by this log) is given whole, `field value ...`, so that
    /// what it held is parked with it.
    pub fn into_event(self) -> Vec<u8> {
        let mut pairs = self.fields.chunks(2);
        if let Some(pair) = pairs.find(|pair| pair[0] == b"event") {
            return pair.get(1).cloned().unwrap_or_default();
        }
        self.fields.join(&b' ')
    }
}

/// XREADGROUP's reply for one stream: `[[stream, [[id, [field, value, ...]], ...]]]`, or
/// nil when the block ended with nothing new.
pub(crate) fn from_read(reply: Value) -> RedisResult<Vec<Entry>> {
    let streams: Option<Vec<(String, Value)>> = from_redis_value(reply)?;
    match streams.and_then(|s| s.into_iter().next()) {
        Some((_stream, entries)) => from_entries(entries),
        None => Ok(Vec::new()),
    }
}

/// XAUTOCLAIM's reply: `[next start, [[id, [field, value, ...]], ...], [deleted ids]]`.
/// Returns where the next page starts (`0-0` when the scan is through) and the entries.
pub(crate) fn from_autoclaim(reply: Value) -> RedisResult<(String, Vec<Entry>)> {
    let mut parts = from_redis_value::<Vec<Value>>(reply)?.into_iter();
    let next: String = from_redis_value(parts.next().unwrap_or(Value::Nil))?;
    let entries = from_entries(parts.next().unwrap_or(Value::Nil))?;
    Ok((next, entries))
}

fn from_entries(entries: Value) -> RedisResult<Vec<Entry>> {
    let entries: Vec<Value> = from_redis_value(entries)?;
    entries
        .into_iter()
        .map(|entry| {
            let (id, fields): (String, Vec<Vec<u8>>) = from_redis_value(entry)?;
            Ok(Entry { id, fields })
        })
        .collect()
}
