//! [`StreamEngine`]: the same log with what Redis builds in. One STREAM per partition;
//! Redis assigns entry IDs (`XADD *`), keeps each group's position and its pending entries
//! (`XREADGROUP`, `XACK`), hands a dead member's entries over (`XAUTOCLAIM`) and blocks
//! idle readers (`XREADGROUP BLOCK`). Leases and dead letters are shared with the list
//! engine, so both behave alike and the benchmarks compare like with like.
//!
//! ```text
//! XADD {events:P}:stream * event {...}           -> 1764250000000-0
//! XREADGROUP GROUP mailer m1 COUNT 10 BLOCK 1000 STREAMS {events:P}:stream >
//! XACK {events:P}:stream mailer 1764250000000-0  (after the handler succeeded)
//! XAUTOCLAIM {events:P}:stream mailer m2 0 0-0   (a new lease holder takes what m1 left)
//! ```
//!
//! This file is the engine's log-wide side (append, range, replay, retention, dead
//! letters); [`cursor`] is a group member reading one partition; `group.rs` creates a
//! partition's consumer group, `entry.rs` reads the entries Redis returns (as bytes) and
//! `entry_id.rs` reads entry IDs. Entry IDs never change,
//! so retention cannot invalidate a position.

pub mod cursor;
mod entry;
mod entry_id;
mod group;

use crate::connection::RedisConn;
use crate::dead_letter::{self, DeadLetter};
use crate::engine::{Engine, EngineCursor, GroupPosition, Placed};
use crate::error::{LogError, Result};
use crate::event::Position;
use crate::keys::Keys;
use crate::options::Delivery;
use crate::replay::{ReplayTarget, Replayed};
use cursor::StreamCursor;
use group::ensure_group;
use kit::BoxFuture;
use redis::AsyncCommands;

/// The Streams engine of one log: a connection shared by its calls, and the log's keys.
pub struct StreamEngine {
    conn: RedisConn,
    keys: Keys,
}

impl StreamEngine {
    pub fn new(conn: RedisConn, keys: Keys) -> StreamEngine {
        StreamEngine { conn, keys }
    }
}

impl Engine for StreamEngine {
    /// `XADD ... *` per event, pipelined in one round trip; Redis picks the IDs. The ID is
    /// the position, and its millisecond part is the stamp: Redis never gives a later entry
    /// a smaller ID.
    fn append<'a>(
        &'a self,
        partition: u32,
        events: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<Placed>>> {
        Box::pin(async move {
            let stream = self.keys.stream(partition);
            let mut pipe = redis::pipe();
            for event in events {
                pipe.cmd("XADD")
                    .arg(&stream)
                    .arg("*")
                    .arg("event")
                    .arg(event);
            }
            let ids: Vec<String> = pipe.query_async(&mut self.conn.clone()).await?;
            Ok(ids
                .into_iter()
                .map(|id| Placed {
                    published_at: entry_id::millis(&id),
                    position: Position::StreamId(id),
                })
                .collect())
        })
    }

    /// How many entries a partition retains, as `0..XLEN`: entry IDs are times, not a count
    /// from 0, so the range of a stream is its length.
    fn range(&self, partition: u32) -> BoxFuture<'_, Result<(u64, u64)>> {
        Box::pin(async move {
            let len: u64 = self.conn.clone().xlen(self.keys.stream(partition)).await?;
            Ok((0, len))
        })
    }

    /// `XGROUP SETID`: Redis keeps the group's position, so a replay is one command. The
    /// previous position is not reported (`None`).
    fn replay<'a>(
        &'a self,
        group: &'a str,
        partition: u32,
        target: &'a ReplayTarget,
    ) -> BoxFuture<'a, Result<Replayed>> {
        Box::pin(async move {
            // The group's next entry is the first at or after `next`...
            let next = match target {
                ReplayTarget::Start => "0-0".to_string(),
                ReplayTarget::Position(Position::StreamId(id)) => id.clone(),
                ReplayTarget::Position(Position::Offset(o)) => {
                    return Err(LogError::Invalid(format!(
                        "`{o}` is an offset; the Streams backend takes entry IDs (MS-SEQ)"
                    )))
                }
                ReplayTarget::Time(ms) => format!("{ms}-0"),
            };
            // ...but SETID takes the last *delivered* ID: the one just before.
            let last_delivered = entry_id::before(&next)?;
            let stream = self.keys.stream(partition);
            let mut conn = self.conn.clone();
            if !ensure_group(&mut conn, &stream, group, &last_delivered).await? {
                let () = redis::cmd("XGROUP")
                    .arg("SETID")
                    .arg(&stream)
                    .arg(group)
                    .arg(&last_delivered)
                    .query_async(&mut conn)
                    .await?;
            }
            Ok(Replayed {
                partition,
                previous: None,
                now: Position::StreamId(next),
            })
        })
    }

    /// `XTRIM` by time (`MINID`) and by count (`MAXLEN`); returns how many were dropped.
    fn trim(&self, partition: u32, cutoff_ms: u64, keep: u64) -> BoxFuture<'_, Result<u64>> {
        Box::pin(async move {
            let stream = self.keys.stream(partition);
            let mut conn = self.conn.clone();
            let mut dropped = 0;
            if cutoff_ms > 0 {
                let n: u64 = redis::cmd("XTRIM")
                    .arg(&stream)
                    .arg("MINID")
                    .arg(format!("{cutoff_ms}-0"))
                    .query_async(&mut conn)
                    .await?;
                dropped += n;
            }
            if keep > 0 {
                let n: u64 = redis::cmd("XTRIM")
                    .arg(&stream)
                    .arg("MAXLEN")
                    .arg(keep)
                    .query_async(&mut conn)
                    .await?;
                dropped += n;
            }
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

    /// `XINFO GROUPS`: Redis keeps each group's last-delivered ID, its pending entries
    /// and (Redis 7) its lag. A partition nobody wrote to has no stream and no groups.
    fn positions(&self, partition: u32) -> BoxFuture<'_, Result<Vec<GroupPosition>>> {
        Box::pin(async move {
            let groups: redis::RedisResult<Vec<std::collections::HashMap<String, redis::Value>>> =
                redis::cmd("XINFO")
                    .arg("GROUPS")
                    .arg(self.keys.stream(partition))
                    .query_async(&mut self.conn.clone())
                    .await;
            let groups = match groups {
                Ok(groups) => groups,
                Err(e) if e.to_string().contains("no such key") => return Ok(Vec::new()),
                Err(e) => return Err(e.into()),
            };
            let field = |info: &std::collections::HashMap<String, redis::Value>, name: &str| {
                info.get(name)
                    .and_then(|v| redis::from_redis_value_ref::<String>(v).ok())
            };
            Ok(groups
                .iter()
                .map(|info| GroupPosition {
                    group: field(info, "name").unwrap_or_default(),
                    position: Position::StreamId(
                        field(info, "last-delivered-id").unwrap_or_else(|| "0-0".into()),
                    ),
                    lag: field(info, "lag").and_then(|lag| lag.parse().ok()),
                    pending: field(info, "pending")
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(0),
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
        Box::new(StreamCursor::new(
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
