//! A group member reading one partition of the list engine.
//!
//! Reads go through `read.lua` (fenced by the lease), commits through `commit.lua`
//! (compare-and-set on the offset). When a read comes back empty, the cursor blocks on the
//! partition's wake stream, which `append.lua` bumps on every publish: pick-up takes one
//! round trip after the append, not a 5 s sleep.

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

pub struct ListCursor {
    conn: RedisConn,
    blocking: RedisConn,
    keys: Keys,
    group: String,
    partition: u32,
    member: String,
    delivery: Delivery,
    /// The offset stored for the group when the last batch was read (what commit.lua
    /// compares against).
    stored: Option<u64>,
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
            last_wake: "0-0".into(),
        }
    }

    /// read.lua's KEYS and ARGV, shared by the plain call and the pipelined one.
    fn read_keys_and_args(&self, max: usize) -> ([String; 4], [String; 4]) {
        let advance = self.delivery == Delivery::AtMostOnce;
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
        ];
        (keys, args)
    }

    /// `EVALSHA read.lua` as a plain command, for pipelining.
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
        let batch: (u64, u64, Vec<String>) = invocation
            .invoke_async(&mut self.conn)
            .await
            .map_err(|e| LogError::from_script(e, self.partition))?;
        Ok(self.records(batch))
    }

    /// Turns read.lua's answer into records, and remembers what is now stored.
    fn records(&mut self, (offset, skipped, events): (u64, u64, Vec<String>)) -> Vec<Record> {
        if skipped > 0 {
            tracing::warn!(
                group = %self.group,
                partition = self.partition,
                skipped,
                "retention dropped events this group had not read yet: skipping ahead to offset {offset}"
            );
        }
        self.stored = Some(if self.delivery == Delivery::AtMostOnce {
            offset + events.len() as u64
        } else {
            offset
        });
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
            let batch = self.read(max).await?;
            if !batch.is_empty() || block.is_zero() {
                return Ok(batch);
            }
            // One round trip: the read is queued behind the blocking XREAD on the same
            // connection, so Redis runs it the moment the wake-up arrives (or the block
            // times out), without waiting for us to ask.
            let mut pipe = redis::pipe();
            pipe.cmd("XREAD")
                .arg("BLOCK")
                .arg(block.as_millis().max(1) as u64)
                .arg("STREAMS")
                .arg(self.keys.wake(self.partition))
                .arg(&self.last_wake)
                .add_command(self.read_cmd(max));
            let (reply, batch): (Option<StreamReadReply>, (u64, u64, Vec<String>)) =
                match pipe.query_async(&mut self.blocking).await {
                    Ok(replies) => replies,
                    // A restarted Redis has forgotten the script: the plain path loads it
                    // again.
                    Err(e)
                        if e.kind()
                            == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript) =>
                    {
                        return self.read(max).await
                    }
                    Err(e) => return Err(LogError::from_script(e, self.partition)),
                };
            if let Some(newest) = reply
                .and_then(|r| r.keys.into_iter().next())
                .and_then(|k| k.ids.into_iter().last())
            {
                self.last_wake = newest.id;
            }
            Ok(self.records(batch))
        })
    }

    /// Moves the group's offset past `handled` (at-least-once). `Ok(false)`: the offset was
    /// moved meanwhile (a replay), so the caller drops the rest of its batch and reads again.
    fn commit<'a>(&'a mut self, handled: &'a [Record]) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let Some(last) = handled.last().and_then(Record::offset) else {
                return Ok(true);
            };
            if self.delivery == Delivery::AtMostOnce {
                return Ok(true); // read.lua advanced already
            }
            let expected = self
                .stored
                .ok_or_else(|| LogError::Invalid("commit before any read".into()))?;
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
        })
    }

    /// Parks `record` in the dead letters and moves past it, in one atomic step. Events
    /// before it in the batch must have been committed first.
    fn dead_letter<'a>(
        &'a mut self,
        record: &'a Record,
        letter: &'a DeadLetter,
    ) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let offset = record.offset().expect("list records have offsets");
            let expected = match self.delivery {
                Delivery::AtLeastOnce => self
                    .stored
                    .map(|s| s.to_string())
                    .ok_or_else(|| LogError::Invalid("dead letter before any read".into()))?,
                Delivery::AtMostOnce => String::new(),
            };
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
        })
    }
}
