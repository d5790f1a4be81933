//! [`ListEngine`]: the lesson of this crate. One Redis LIST per partition holds the
//! events; offsets, leases, dead letters and retention are a handful of Lua scripts
//! (`src/lua/*.lua`), each one atomic on one partition's hash slot.
//!
//! ```text
//! offset:        base      base+1    ...      base+len-1   (base+len = the end)
//! list index:    0         1         ...      len-1
//!                ▲ trim.lua drops from here and adds what it dropped to base
//!                          ▲ offsets[group] = next offset to read; commit.lua moves it
//! ```
//!
//! This file is the engine's log-wide side (append, range, replay, retention, dead
//! letters); [`cursor`] is a group member reading one partition.

pub mod cursor;

use crate::connection::RedisConn;
use crate::dead_letter::{self, DeadLetter};
use crate::engine::{Engine, EngineCursor, GroupPosition, Placed};
use crate::error::{LogError, Result};
use crate::event::Position;
use crate::keys::Keys;
use crate::options::Delivery;
use crate::replay::{ReplayTarget, Replayed};
use crate::scripts;
use cursor::ListCursor;
use kit::BoxFuture;
use redis::AsyncCommands;

/// The list engine of one log: a connection shared by its calls, and the log's keys.
pub struct ListEngine {
    conn: RedisConn,
    keys: Keys,
}

impl ListEngine {
    pub fn new(conn: RedisConn, keys: Keys) -> ListEngine {
        ListEngine { conn, keys }
    }
}

impl Engine for ListEngine {
    /// `append.lua`: one round trip however many events. The script answers with the first
    /// offset and the one stamp it gave them all; the others follow from it.
    fn append<'a>(
        &'a self,
        partition: u32,
        events: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<Placed>>> {
        Box::pin(async move {
            let mut invocation = scripts::APPEND.prepare_invoke();
            invocation
                .key(self.keys.log(partition))
                .key(self.keys.meta(partition))
                .key(self.keys.wake(partition));
            for event in events {
                invocation.arg(event);
            }
            let (first, stamp): (u64, u64) =
                invocation.invoke_async(&mut self.conn.clone()).await?;
            Ok((first..first + events.len() as u64)
                .map(|offset| Placed {
                    position: Position::Offset(offset),
                    published_at: stamp,
                })
                .collect())
        })
    }

    /// The retained offsets of a partition: `base..end`.
    fn range(&self, partition: u32) -> BoxFuture<'_, Result<(u64, u64)>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let base: Option<u64> = conn.hget(self.keys.meta(partition), "base").await?;
            let len: u64 = conn.llen(self.keys.log(partition)).await?;
            let base = base.unwrap_or(0);
            Ok((base, base + len))
        })
    }

    /// `replay.lua`: sets the group's offset (to the start, an offset, or the first event
    /// at or after a time) and says where it stood.
    fn replay<'a>(
        &'a self,
        group: &'a str,
        partition: u32,
        target: &'a ReplayTarget,
    ) -> BoxFuture<'a, Result<Replayed>> {
        Box::pin(async move {
            let (mode, value) = match target {
                ReplayTarget::Start => ("start", 0),
                ReplayTarget::Position(Position::Offset(o)) => ("offset", *o),
                ReplayTarget::Position(Position::StreamId(id)) => {
                    return Err(LogError::Invalid(format!(
                        "`{id}` is a stream ID; the list backend takes offsets (0, 1, 2, ...)"
                    )))
                }
                ReplayTarget::Time(ms) => ("time", *ms),
            };
            let (previous, now): (i64, u64) = scripts::REPLAY
                .key(self.keys.log(partition))
                .key(self.keys.meta(partition))
                .key(self.keys.offsets(partition))
                .arg(group)
                .arg(mode)
                .arg(value)
                .invoke_async(&mut self.conn.clone())
                .await?;
            Ok(Replayed {
                partition,
                previous: u64::try_from(previous).ok().map(Position::Offset),
                now: Position::Offset(now),
            })
        })
    }

    /// `trim.lua`: drops from the head of the list and adds as much to `base`, in one
    /// atomic step, so every offset keeps naming the same event.
    fn trim(&self, partition: u32, cutoff_ms: u64, keep: u64) -> BoxFuture<'_, Result<u64>> {
        Box::pin(async move {
            let (dropped, _base): (u64, u64) = scripts::TRIM
                .key(self.keys.log(partition))
                .key(self.keys.meta(partition))
                .arg(cutoff_ms)
                .arg(keep)
                .invoke_async(&mut self.conn.clone())
                .await?;
            Ok(dropped)
        })
    }

    fn dead_letters<'a>(
        &'a self,
        group: &'a str,
        partition: u32,
    ) -> BoxFuture<'a, Result<Vec<DeadLetter>>> {
        Box::pin(dead_letter::read(
            self.conn.clone(),
            &self.keys,
            group,
            partition,
        ))
    }

    /// `{P}:offsets` holds each group's next offset; its lag is what lies between that
    /// offset (or the oldest retained event, if retention passed it) and the end.
    fn positions(&self, partition: u32) -> BoxFuture<'_, Result<Vec<GroupPosition>>> {
        Box::pin(async move {
            let (first, end) = self.range(partition).await?;
            let offsets: Vec<(String, String)> = self
                .conn
                .clone()
                .hgetall(self.keys.offsets(partition))
                .await?;
            Ok(offsets
                .into_iter()
                .map(|(group, next)| {
                    let next = next.parse::<u64>().ok();
                    GroupPosition {
                        group,
                        position: Position::Offset(next.unwrap_or(0)),
                        lag: next.map(|next| end.saturating_sub(next.max(first))),
                        pending: 0,
                    }
                })
                .collect())
        })
    }

    fn cursor(
        &self,
        group: &str,
        partition: u32,
        member: &str,
        delivery: Delivery,
        blocking: RedisConn,
    ) -> Box<dyn EngineCursor> {
        Box::new(ListCursor::new(
            self.conn.clone(),
            blocking,
            self.keys.clone(),
            group,
            partition,
            member,
            delivery,
        ))
    }
}
