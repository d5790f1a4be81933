//! A group member reading one partition of the Streams engine.
//!
//! After taking a partition's lease the member first claims what the previous holder
//! read but never acknowledged (`XAUTOCLAIM`, min idle 0: the lease says nobody else is
//! working on it), then reads new entries with `XREADGROUP ... >`, blocking when idle.
//!
//! Redis keeps every member that ever read the partition as a consumer of the group until
//! it is deleted, so once the claims are done the new holder deletes the previous holders'
//! names that hold nothing (`lua/prune_consumers.lua`); restarts do not pile them up.
//!
//! One difference from the list engine: `XREADGROUP` cannot check the lease, so a member
//! whose lease expired unnoticed (a long pause) may read one more batch. It still handles
//! and acknowledges it, and if it dies first, the entries wait in its pending list for
//! the partition's next change of hands: the price is a duplicate or a delay, not a loss.

use crate::connection::RedisConn;
use crate::corrupt;
use crate::dead_letter::DeadLetter;
use crate::engine::EngineCursor;
use crate::error::{LogError, Result};
use crate::event::Position;
use crate::keys::Keys;
use crate::options::Delivery;
use crate::record::Record;
use crate::scripts;
use crate::streams::entry::{self, Entry};
use crate::streams::entry_id;
use crate::streams::group::ensure_group;
use kit::BoxFuture;
use redis::AsyncCommands;
use std::time::Duration;

pub struct StreamCursor {
    conn: RedisConn,
    blocking: RedisConn,
    keys: Keys,
    group: String,
    partition: u32,
    member: String,
    delivery: Delivery,
    /// Whether the group is known to exist on the stream (it is created on first use, and
    /// again if Redis lost it).
    group_ready: bool,
    /// While `Some`, the XAUTOCLAIM cursor through the previous holders' pending entries.
    /// Starts `None` at-most-once: NOACK reads leave nothing pending to claim.
    claiming: Option<String>,
    /// Whether the previous holders' consumer names were deleted (once claiming is done).
    pruned: bool,
}

impl StreamCursor {
    pub fn new(
        conn: RedisConn,
        blocking: RedisConn,
        keys: Keys,
        group: &str,
        partition: u32,
        member: &str,
        delivery: Delivery,
    ) -> StreamCursor {
        StreamCursor {
            conn,
            blocking,
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

    /// The next page of what the previous holders read and never acknowledged, now ours.
    ///
    /// This is how the Streams engine keeps at-least-once across a crash: a member SIGKILLed
    /// mid-batch leaves its entries in the group's pending list, and `>` reads would never
    /// hand them out again. Min idle time 0, because the lease already says their reader is
    /// gone; waiting for them to look idle would only delay the takeover. Our own entries
    /// from before a reconnect are claimed back the same way.
    async fn claim_left_over(&mut self, start: String, max: usize) -> Result<Vec<Record>> {
        let reply: redis::Value = redis::cmd("XAUTOCLAIM")
            .arg(self.keys.stream(self.partition))
            .arg(&self.group)
            .arg(&self.member)
            .arg(0)
            .arg(&start)
            .arg("COUNT")
            .arg(max)
            .query_async(&mut self.conn)
            .await?;
        let (next, claimed) = entry::from_autoclaim(reply)?;
        // "0-0" means the scan went through the whole pending list; anything else is where
        // the next page starts.
        if next != "0-0" {
            self.claiming = Some(next);
        }
        Ok(self.records(claimed))
    }

    /// New entries for the group, blocking up to `block` when there are none.
    ///
    /// `>` asks for entries never delivered to this group, and Redis moves the group's
    /// last-delivered ID in the same call. At-least-once, each entry also goes into the
    /// group's pending list under our name until `XACK`: that list, not the position, is
    /// what protects a batch in flight.
    async fn read_new(&mut self, max: usize, block: Duration) -> Result<Vec<Record>> {
        let mut read = redis::cmd("XREADGROUP");
        read.arg("GROUP")
            .arg(&self.group)
            .arg(&self.member)
            .arg("COUNT")
            .arg(max);
        // Redis parks the call until an entry arrives (or the block ends): pick-up one
        // round trip after the XADD, with no wake-up stream of our own to keep.
        if !block.is_zero() {
            read.arg("BLOCK").arg(block.as_millis().max(1) as u64);
        }
        if self.delivery == Delivery::AtMostOnce {
            // No pending entry list: read is delivered, like the original's read-and-advance.
            read.arg("NOACK");
        }
        read.arg("STREAMS")
            .arg(self.keys.stream(self.partition))
            .arg(">");
        // A blocked connection answers nothing else, and the shared one gives up after its
        // response timeout: blocking reads go on this cursor's own connection.
        let target = if block.is_zero() {
            &mut self.conn
        } else {
            &mut self.blocking
        };
        let reply: redis::Value = match read.query_async(target).await {
            Ok(reply) => reply,
            Err(e) => {
                if e.code() == Some("NOGROUP") {
                    // Redis lost the group (restarted without persistence): recreate it.
                    self.group_ready = false;
                }
                return Err(e.into());
            }
        };
        Ok(self.records(entry::from_read(reply)?))
    }

    /// Entries as records. The stored JSON has no `published_at` (XADD does not rewrite
    /// it, unlike append.lua): the entry ID's time is the stamp.
    fn records(&self, entries: Vec<Entry>) -> Vec<Record> {
        entries
            .into_iter()
            .map(|entry| {
                let id = entry.id.clone();
                let mut record = Record::decode(
                    self.partition,
                    Position::StreamId(id.clone()),
                    entry.into_event(),
                );
                if let Some(event) = record.event.as_mut() {
                    event.published_at = entry_id::millis(&id);
                }
                record
            })
            .collect()
    }

    /// `XACK` the handled entries (at-least-once; with NOACK there is nothing to ack).
    ///
    /// Always `true`: XACK cannot tell whether a replay moved the group, and need not. A
    /// replay moves the group's last-delivered ID, which the next `>` read follows; the
    /// batch in hand is acknowledged either way. Not fenced by the lease either (see the
    /// file's doc): a stale member's XACK ends entries it did handle.
    async fn acknowledge(&mut self, handled: &[Record]) -> Result<bool> {
        if handled.is_empty() || self.delivery == Delivery::AtMostOnce {
            return Ok(true);
        }
        let ids: Vec<String> = handled.iter().map(|r| r.position.to_string()).collect();
        let _acked: u64 = self
            .conn
            .xack(self.keys.stream(self.partition), &self.group, &ids)
            .await?;
        Ok(true)
    }

    /// After an error, what this cursor read and did not acknowledge (events in flight the
    /// caller dropped) is still pending under our name, and `>` would never hand it out
    /// again: claim the pending list again first, as a new holder does. Duplicates, no loss.
    fn back_to_pending(&mut self) {
        if self.delivery == Delivery::AtLeastOnce {
            self.claiming = Some("0-0".to_string());
        }
    }

    /// The next batch: the group created if needed, what the previous holders left, new
    /// entries. See `next_batch` for what a WRONGTYPE on the way means.
    async fn next_entries(&mut self, max: usize, block: Duration) -> Result<Vec<Record>> {
        // 1. The group must exist before XREADGROUP. Created at "0", so a new group
        //    starts at the oldest retained entry and sees the history, as a new group
        //    of the list engine starts at `base`.
        if !self.group_ready {
            let stream = self.keys.stream(self.partition);
            ensure_group(&mut self.conn, &stream, &self.group, "0").await?;
            self.group_ready = true;
        }
        // 2. What the previous holders left pending comes before anything new: those
        //    entries are older, and the partition's order puts them first.
        if let Some(start) = self.claiming.take() {
            let claimed = self.claim_left_over(start, max).await?;
            if !claimed.is_empty() {
                return Ok(claimed);
            }
        }
        // 3. Once per cursor: forget the previous holders' names. Every member that ever
        //    read this partition stays a consumer of the group in Redis until deleted;
        //    the script deletes only those with nothing pending, so no entry is dropped.
        if !self.pruned {
            let _deleted: u64 = scripts::PRUNE_CONSUMERS
                .key(self.keys.stream(self.partition))
                .arg(&self.group)
                .arg(&self.member)
                .invoke_async(&mut self.conn)
                .await?;
            self.pruned = true;
        }
        // 4. New entries, blocking while there are none.
        self.read_new(max, block).await
    }
}

impl EngineCursor for StreamCursor {
    fn next_batch(&mut self, max: usize, block: Duration) -> BoxFuture<'_, Result<Vec<Record>>> {
        Box::pin(async move {
            let read = self.next_entries(max, block).await;
            if read.is_err() {
                self.back_to_pending();
            }
            match read {
                // Something else overwrote the stream key (`SET {events:1}:stream x`): say
                // which key holds what, and create the group again at the next batch, once
                // the key is repaired.
                Err(LogError::Redis(error)) if error.code() == Some("WRONGTYPE") => {
                    self.group_ready = false;
                    let stream = self.keys.stream(self.partition);
                    Err(corrupt::explain(&mut self.conn, error, &stream, "stream").await)
                }
                read => read,
            }
        })
    }

    fn commit<'a>(&'a mut self, handled: &'a [Record]) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let acked = self.acknowledge(handled).await;
            if acked.is_err() {
                self.back_to_pending();
            }
            acked
        })
    }

    /// Parks `record` in the dead letters, then acknowledges it. Two commands, not one
    /// atomic step: a crash in between parks it twice, never loses it.
    fn dead_letter<'a>(
        &'a mut self,
        record: &'a Record,
        letter: &'a DeadLetter,
    ) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let json = serde_json::to_string(letter).expect("a dead letter serializes");
            let dead = self.keys.dead(self.partition, &self.group);
            let parked: redis::RedisResult<u64> = self.conn.rpush(&dead, json).await;
            if let Err(error) = parked {
                return Err(corrupt::explain(&mut self.conn, error, &dead, "list").await);
            }
            self.acknowledge(std::slice::from_ref(record)).await
        })
    }
}
