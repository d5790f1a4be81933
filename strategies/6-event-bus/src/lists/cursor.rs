//! A group member reading one partition of the list engine.
//!
//! Reads go through `read.lua` (fenced by the lease), commits through `commit.lua`
//! (compare-and-set on the offset). When a read comes back empty, the cursor blocks on the
//! partition's wake stream, which `append.lua` bumps on every publish: pick-up takes one
//! round trip after the append, not a 5 s sleep.
//!
//! The group's place in the partition is one number in Redis, `{P}:offsets[GROUP]`: the
//! next offset to read. Nothing else is in flight, so a member that dies leaves nothing to
//! clean up; whoever holds the lease next reads from that number again.

use crate::connection::RedisConn;
use crate::dead_letter::DeadLetter;
use crate::engine::EngineCursor;
use crate::error::{LogError, Result};
use crate::event::Position;
use crate::keys::Keys;
use crate::options::Delivery;
use crate::record::Record;
use crate::scripts;
use kit::BoxFuture;
use redis::streams::StreamReadReply;
use std::time::Duration;

/// read.lua's answer: the offset of the first event, how many events retention dropped
/// before the group read them, and the events, as bytes.
type ReadReply = (u64, u64, Vec<Vec<u8>>);

pub struct ListCursor {
    conn: RedisConn,
    blocking: RedisConn,
    keys: Keys,
    group: String,
    partition: u32,
    member: String,
    delivery: Delivery,
    /// The offset stored for the group, as this cursor last read or committed it (what
    /// commit.lua compares against). `None` until the first read: a commit before any read has
    /// nothing to compare with, and is refused rather than guessed.
    stored: Option<u64>,
    /// At-least-once, the offset after the last event read: where the next read starts
    /// while what was read before is still in flight, uncommitted. `None`: read from the
    /// stored offset (at the start, after a replay, after an error).
    read_to: Option<u64>,
    /// The last wake-up entry seen: blocking from it cannot miss an append that happened
    /// between an empty read and the block.
    last_wake: String,
}

impl ListCursor {
    pub fn new(
        conn: RedisConn,
        blocking: RedisConn,
        keys: Keys,
        group: &str,
        partition: u32,
        member: &str,
        delivery: Delivery,
    ) -> ListCursor {
        ListCursor {
            conn,
            blocking,
            keys,
            group: group.to_string(),
            partition,
            member: member.to_string(),
            delivery,
            stored: None,
            read_to: None,
            last_wake: "0-0".into(),
        }
    }

    /// Where to read from while events read before are not committed yet (at-least-once).
    /// `None` once everything read is committed: then the read starts from the stored
    /// offset, and so follows a replay that moved it while the partition was idle.
    fn read_ahead_from(&self) -> Option<u64> {
        self.read_to.filter(|to| Some(*to) != self.stored)
    }

    /// read.lua's KEYS and ARGV, shared by the plain call and the pipelined one.
    fn read_keys_and_args(&self, max: usize) -> ([String; 4], [String; 5]) {
        // The delivery mode is decided inside the read: at-most-once moves the offset in
        // the same atomic call that hands out the events (the original's read-and-advance),
        // so from here on a crash loses them; at-least-once leaves it for the commit.
        let advance = self.delivery == Delivery::AtMostOnce;
        // The lease key goes in too: read.lua refuses (NOTHOLDER) a member that no longer
        // holds the partition, so a member back from a long pause cannot read on as if it
        // still owned it.
        let keys = [
            self.keys.log(self.partition),
            self.keys.meta(self.partition),
            self.keys.offsets(self.partition),
            self.keys.lease(self.partition, &self.group),
        ];
        let args = [
            self.group.clone(),
            self.member.clone(),
            max.to_string(),
            (if advance { "1" } else { "0" }).to_string(),
            // At-least-once with events in flight, read on after them: the stored offset
            // still points at the first of them until the commit moves it.
            self.read_ahead_from()
                .map(|o| o.to_string())
                .unwrap_or_default(),
        ];
        (keys, args)
    }

    /// `EVALSHA read.lua` as a plain command, for pipelining. (`redis::Script` retries with
    /// `EVAL` when Redis lacks the script, which a pipeline cannot do: see `next_batch`.)
    fn read_cmd(&self, max: usize) -> redis::Cmd {
        let (keys, args) = self.read_keys_and_args(max);
        let mut cmd = redis::cmd("EVALSHA");
        cmd.arg(scripts::READ.get_hash())
            .arg(keys.len())
            .arg(&keys)
            .arg(&args);
        cmd
    }

    /// read.lua on its own (`redis::Script` loads it first if Redis does not know it).
    async fn read(&mut self, max: usize) -> Result<Vec<Record>> {
        let (keys, args) = self.read_keys_and_args(max);
        let mut invocation = scripts::READ.prepare_invoke();
        invocation.key(&keys).arg(&args);
        let batch: ReadReply = invocation
            .invoke_async(&mut self.conn)
            .await
            .map_err(|e| LogError::from_script(e, self.partition))?;
        Ok(self.records(batch))
    }

    /// Turns read.lua's answer into records, and remembers what is now stored. The events
    /// come as bytes, whatever they hold: one that is not UTF-8 would otherwise fail the
    /// whole reply, so the partition would stall on it (at-least-once) or lose its whole
    /// batch, which read.lua already moved past (at-most-once).
    fn records(&mut self, (offset, skipped, events): ReadReply) -> Vec<Record> {
        // Retention trimmed events this group had not read: read.lua moved it to the oldest
        // one left. Say so loudly, since those events are gone for this group.
        if skipped > 0 {
            tracing::warn!(
                "retention dropped {skipped} event(s) of partition {} that group {} had not read yet: skipping ahead to offset {offset}",
                self.partition,
                self.group
            );
        }
        // What Redis holds for the group now: at-most-once, read.lua already moved it past
        // the batch; at-least-once, it still points at the first event not committed.
        let end = offset + events.len() as u64;
        if self.delivery == Delivery::AtMostOnce {
            self.stored = Some(end);
        } else {
            // A read from the stored offset tells us what is stored; a read ahead does not
            // (commit.lua moves it, and we follow in `commit`).
            if self.read_ahead_from().is_none() {
                self.stored = Some(offset);
            }
            self.read_to = Some(end);
        }
        events
            .into_iter()
            .enumerate()
            .map(|(i, raw)| {
                Record::decode(self.partition, Position::Offset(offset + i as u64), raw)
            })
            .collect()
    }
}

impl EngineCursor for ListCursor {
    /// Up to `max` events from the group's offset; when there are none, waits up to `block`
    /// for a publish and tries once more.
    fn next_batch(&mut self, max: usize, block: Duration) -> BoxFuture<'_, Result<Vec<Record>>> {
        Box::pin(async move {
            let batch = self.read_or_wait(max, block).await;
            if batch.is_err() {
                // Whatever was read ahead is not ours to skip: the next read starts again
                // from what is committed (events in flight come again: duplicates, no loss).
                self.read_to = None;
            }
            batch
        })
    }

    /// Moves the group's offset past `handled` (at-least-once). `Ok(false)`: the offset was
    /// moved meanwhile (a replay), so the caller drops what it read and reads again.
    fn commit<'a>(&'a mut self, handled: &'a [Record]) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let committed = self.commit_prefix(handled).await;
            if !matches!(committed, Ok(true)) {
                // A replay moved the group, or Redis failed: read from what is stored.
                self.read_to = None;
            }
            committed
        })
    }

    /// Parks `record` in the dead letters and moves past it, in one atomic step. Events
    /// before it must have been committed first.
    fn dead_letter<'a>(
        &'a mut self,
        record: &'a Record,
        letter: &'a DeadLetter,
    ) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let parked = self.park(record, letter).await;
            if !matches!(parked, Ok(true)) {
                self.read_to = None;
            }
            parked
        })
    }
}

impl ListCursor {
    /// `next_batch`'s work: read, and if there is nothing, wait for an append.
    async fn read_or_wait(&mut self, max: usize, block: Duration) -> Result<Vec<Record>> {
        // Read first, block only when there is nothing: a busy partition never waits.
        let batch = self.read(max).await?;
        if !batch.is_empty() || block.is_zero() {
            return Ok(batch);
        }
        // Nothing to read: wait for the next append instead of sleeping. XREAD BLOCK on
        // the wake stream returns as soon as append.lua adds an entry after the last one
        // we saw. Blocking from `last_wake` rather than from `$` matters: an append that
        // landed between the empty read above and this XREAD is newer than `last_wake`,
        // so the XREAD returns at once instead of making that event wait a whole block.
        //
        // One round trip: the read is queued behind the blocking XREAD on the same
        // connection, so Redis runs it the moment the wake-up arrives (or the block
        // times out), without waiting for us to ask. That connection is this cursor's
        // own: a blocked connection answers nothing else, and the shared one gives up
        // on any answer after its response timeout, blocked or not (see `connection`).
        let mut pipe = redis::pipe();
        pipe.cmd("XREAD")
            .arg("BLOCK")
            .arg(block.as_millis().max(1) as u64)
            .arg("STREAMS")
            .arg(self.keys.wake(self.partition))
            .arg(&self.last_wake)
            .add_command(self.read_cmd(max));
        let (reply, batch): (Option<StreamReadReply>, ReadReply) = match pipe
            .query_async(&mut self.blocking)
            .await
        {
            Ok(replies) => replies,
            // A restarted Redis has forgotten the script: the plain path loads it
            // again.
            Err(e) if e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript) => {
                return self.read(max).await
            }
            Err(e) => return Err(LogError::from_script(e, self.partition)),
        };
        // Remember the newest wake-up, so the next block waits for a later one.
        if let Some(newest) = reply
            .and_then(|r| r.keys.into_iter().next())
            .and_then(|k| k.ids.into_iter().last())
        {
            self.last_wake = newest.id;
        }
        Ok(self.records(batch))
    }

    /// `commit`'s work: commit.lua, fenced and compared.
    async fn commit_prefix(&mut self, handled: &[Record]) -> Result<bool> {
        // `handled` is a prefix of what was read and not committed, in order, so moving
        // past its last event moves past all of them; an empty prefix costs no round trip.
        let Some(last) = handled.last().and_then(Record::offset) else {
            return Ok(true);
        };
        if self.delivery == Delivery::AtMostOnce {
            return Ok(true); // read.lua advanced already
        }
        let expected = self
            .stored
            .ok_or_else(|| LogError::Invalid("commit before any read".into()))?;
        // Fenced and compared: commit.lua refuses a member that lost the lease (its
        // batch belongs to the new owner now), and moves the offset only if it is still
        // `expected`. A plain HSET would undo a replay that happened while the batch
        // was being handled, and would let a stale member overwrite the new owner's
        // progress.
        let committed: bool = scripts::COMMIT
            .key(self.keys.offsets(self.partition))
            .key(self.keys.lease(self.partition, &self.group))
            .arg(&self.group)
            .arg(&self.member)
            .arg(expected)
            .arg(last + 1)
            .invoke_async(&mut self.conn)
            .await
            .map_err(|e| LogError::from_script(e, self.partition))?;
        if committed {
            self.stored = Some(last + 1);
        }
        Ok(committed)
    }

    /// `dead_letter`'s work: dead_letter.lua, park and move past in one step.
    async fn park(&mut self, record: &Record, letter: &DeadLetter) -> Result<bool> {
        let offset = record.offset().expect("list records have offsets");
        // At-most-once the offset is already past the whole batch: '' tells the script
        // to park the event and leave the offset alone. Setting it to just past this
        // event would hand the rest of the batch out a second time, breaking the one
        // promise that mode makes (nothing twice).
        let expected = match self.delivery {
            Delivery::AtLeastOnce => self
                .stored
                .map(|s| s.to_string())
                .ok_or_else(|| LogError::Invalid("dead letter before any read".into()))?,
            Delivery::AtMostOnce => String::new(),
        };
        // Park and move past in one script: a crash cannot park an event without
        // moving past it (parked twice) or move past it without parking it (lost).
        let parked: bool = scripts::DEAD_LETTER
            .key(self.keys.offsets(self.partition))
            .key(self.keys.lease(self.partition, &self.group))
            .key(self.keys.dead(self.partition, &self.group))
            .arg(&self.group)
            .arg(&self.member)
            .arg(expected)
            .arg(offset + 1)
            .arg(serde_json::to_string(letter).expect("a dead letter serializes"))
            .invoke_async(&mut self.conn)
            .await
            .map_err(|e| LogError::from_script(e, self.partition))?;
        if parked && self.delivery == Delivery::AtLeastOnce {
            self.stored = Some(offset + 1);
        }
        Ok(parked)
    }
}
