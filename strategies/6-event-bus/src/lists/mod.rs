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
//! Files: [`publish`] (`append.lua`), [`cursor`] (`read.lua`, `commit.lua`,
//! `dead_letter.lua`, and the wake-up), [`admin`] (`replay.lua`, `trim.lua`, range).

pub mod admin;
pub mod cursor;
pub mod publish;

use crate::connection::RedisConn;
use crate::dead_letter::{self, DeadLetter};
use crate::engine::{Engine, EngineCursor, Placed};
use crate::error::Result;
use crate::keys::Keys;
use crate::options::Delivery;
use crate::replay::{ReplayTarget, Replayed};
use cursor::ListCursor;
use kit::BoxFuture;

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
