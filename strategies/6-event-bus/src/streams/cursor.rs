//! A group member reading one partition of the Streams backend.
//!
//! After taking a partition's lease the member first claims what the previous holder
//! read but never acknowledged (`XAUTOCLAIM`, min idle 0: the lease says nobody else is
//! working on it), then reads new entries with `XREADGROUP ... >`, blocking when idle.
//!
//! Redis keeps every member that ever read the partition as a consumer of the group until
//! it is deleted, so once the claims are done the new holder deletes the previous holders'
//! names that hold nothing (`lua/prune_consumers.lua`); restarts do not pile them up.
//!
//! One difference from the list backend: `XREADGROUP` cannot check the lease, so a member
//! whose lease expired unnoticed (a long pause) may read one more batch. It still handles
//! and acknowledges it, and if it dies first, the entries wait in its pending list for
//! the partition's next change of hands: the price is a duplicate or a delay, not a loss.

use crate::connection::RedisConn;
use crate::dead_letter::DeadLetter;
use crate::error::Result;
use crate::event::Position;
use crate::keys::Keys;
use crate::options::Delivery;
use crate::record::Record;
use crate::scripts;
use crate::streams::id_millis;
use redis::streams::{StreamAutoClaimReply, StreamId, StreamReadReply};
use redis::AsyncCommands;
use std::time::Duration;

pub struct StreamCursor {
    keys: Keys,
    group: String,
    partition: u32,
    member: String,
    delivery: Delivery,
    group_ready: bool,
    /// While `Some`, the XAUTOCLAIM cursor through the previous holders' pending entries.
    claiming: Option<String>,
    /// Whether the previous holders' consumer names were deleted (once claiming is done).
    pruned: bool,
}

impl StreamCursor {
    pub fn new(
        keys: Keys,
        group: &str,
        partition: u32,
        member: &str,
        delivery: Delivery,
    ) -> StreamCursor {
        StreamCursor {
            keys,
            group: group.to_string(),
            partition,
            member: member.to_string(),
            delivery,
            group_ready: false,
            claiming: (delivery == Delivery::AtLeastOnce).then(|| "0-0".to_string()),
            pruned: false,
        }
    }

    pub async fn next_batch(
        &mut self,
        conn: &mut RedisConn,
        blocking: &mut RedisConn,
        max: usize,
        block: Duration,
    ) -> Result<Vec<Record>> {
        let stream = self.keys.stream(self.partition);
        if !self.group_ready {
            ensure_group(conn, &stream, &self.group, "0").await?;
            self.group_ready = true;
        }
        if let Some(start) = self.claiming.take() {
            let reply: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
                .arg(&stream)
                .arg(&self.group)
                .arg(&self.member)
                .arg(0)
                .arg(&start)
                .arg("COUNT")
                .arg(max)
                .query_async(conn)
                .await?;
            if reply.next_stream_id != "0-0" {
                self.claiming = Some(reply.next_stream_id);
            }
            if !reply.claimed.is_empty() {
                return Ok(self.records(reply.claimed));
            }
        }
        if !self.pruned {
            // Every member that ever read this partition stays a consumer of the group in
            // Redis until deleted; with nothing pending left, the previous holders can go.
            let _deleted: u64 = scripts::PRUNE_CONSUMERS
                .key(&stream)
                .arg(&self.group)
                .arg(&self.member)
                .invoke_async(conn)
                .await?;
            self.pruned = true;
        }
        let mut read = redis::cmd("XREADGROUP");
        read.arg("GROUP")
            .arg(&self.group)
            .arg(&self.member)
            .arg("COUNT")
            .arg(max);
        if !block.is_zero() {
            read.arg("BLOCK").arg(block.as_millis().max(1) as u64);
        }
        if self.delivery == Delivery::AtMostOnce {
            // No pending entry list: read is delivered, like the original's read-and-advance.
            read.arg("NOACK");
        }
        read.arg("STREAMS").arg(&stream).arg(">");
        let target = if block.is_zero() { conn } else { blocking };
        let reply: Option<StreamReadReply> = match read.query_async(target).await {
            Ok(reply) => reply,
            Err(e) => {
                if e.code() == Some("NOGROUP") {
                    // Redis lost the group (restarted without persistence): recreate it.
                    self.group_ready = false;
                }
                return Err(e.into());
            }
        };
        let entries = reply
            .and_then(|r| r.keys.into_iter().next())
            .map(|k| k.ids)
            .unwrap_or_default();
        Ok(self.records(entries))
    }

    fn records(&self, entries: Vec<StreamId>) -> Vec<Record> {
        entries
            .into_iter()
            .map(|entry| {
                let raw: String = entry.get("event").unwrap_or_default();
                let mut record =
                    Record::decode(self.partition, Position::StreamId(entry.id.clone()), raw);
                if let Some(event) = record.event.as_mut() {
                    event.published_at = id_millis(&entry.id);
                }
                record
            })
            .collect()
    }

    /// `XACK` the handled entries (at-least-once; with NOACK there is nothing to ack).
    pub async fn commit(&mut self, conn: &mut RedisConn, handled: &[Record]) -> Result<bool> {
        if handled.is_empty() || self.delivery == Delivery::AtMostOnce {
            return Ok(true);
        }
        let ids: Vec<String> = handled.iter().map(|r| r.position.to_string()).collect();
        let _acked: u64 = conn
            .xack(self.keys.stream(self.partition), &self.group, &ids)
            .await?;
        Ok(true)
    }

    /// Parks `record` in the dead letters, then acknowledges it. Two commands, not one
    /// atomic step: a crash in between parks it twice, never loses it.
    pub async fn dead_letter(
        &mut self,
        conn: &mut RedisConn,
        record: &Record,
        letter: &DeadLetter,
    ) -> Result<bool> {
        let json = serde_json::to_string(letter).expect("a dead letter serializes");
        let _: u64 = conn
            .rpush(self.keys.dead(self.partition, &self.group), json)
            .await?;
        self.commit(conn, std::slice::from_ref(record)).await
    }
}

/// Creates the group at `start` unless it exists.
pub(crate) async fn ensure_group(
    conn: &mut RedisConn,
    stream: &str,
    group: &str,
    start: &str,
) -> Result<bool> {
    let created: redis::RedisResult<()> = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(stream)
        .arg(group)
        .arg(start)
        .arg("MKSTREAM")
        .query_async(conn)
        .await;
    match created {
        Ok(()) => Ok(true),
        Err(e) if e.code() == Some("BUSYGROUP") => Ok(false),
        Err(e) => Err(e.into()),
    }
}
