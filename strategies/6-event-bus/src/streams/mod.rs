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
//! Files: [`publish`] (`XADD`), [`cursor`] (claim, read, acknowledge), [`admin`] (replay,
//! retention, range); `group` creates a partition's consumer group, `entry_id` reads IDs.

pub mod admin;
pub mod cursor;
mod entry_id;
mod group;
pub mod publish;

use crate::connection::RedisConn;
use crate::dead_letter::{self, DeadLetter};
use crate::engine::{Engine, EngineCursor, Placed};
use crate::error::Result;
use crate::keys::Keys;
use crate::options::Delivery;
use crate::replay::{ReplayTarget, Replayed};
use cursor::StreamCursor;
use kit::BoxFuture;

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
    fn append<'a>(
        &'a self,
        partition: u32,
        events: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<Placed>>> {
        Box::pin(publish::append(
            self.conn.clone(),
            &self.keys,
            partition,
            events,
        ))
    }

    fn range(&self, partition: u32) -> BoxFuture<'_, Result<(u64, u64)>> {
        Box::pin(admin::range(self.conn.clone(), &self.keys, partition))
    }

    fn replay<'a>(
        &'a self,
        group: &'a str,
        partition: u32,
        target: &'a ReplayTarget,
    ) -> BoxFuture<'a, Result<Replayed>> {
        Box::pin(admin::replay(
            self.conn.clone(),
            &self.keys,
            group,
            partition,
            target,
        ))
    }

    fn trim(&self, partition: u32, cutoff_ms: u64, keep: u64) -> BoxFuture<'_, Result<u64>> {
        Box::pin(admin::trim(
            self.conn.clone(),
            &self.keys,
            partition,
            cutoff_ms,
            keep,
        ))
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
