//! [`Log`]: the producer side and the operator actions, the same calls over either engine.
//!
//! `Log` cuts the log into partitions and fans calls out over them; what a partition is in
//! Redis is its [`Engine`]'s business. [`Log::connect`] picks the engine from the
//! configured [`Backend`] (`engine_for`); nothing else in the crate branches on it.

use crate::connection::{Connector, RedisConn};
use crate::cursor::Cursor;
use crate::dead_letter::DeadLetter;
use crate::engine::{Engine, Placed};
use crate::error::{LogError, Result};
use crate::event::{partition_for, Appended, NewEvent, Unstamped};
use crate::keys::Keys;
use crate::lists::ListEngine;
use crate::options::{Backend, Delivery, LogConfig};
use crate::replay::{ReplayTarget, Replayed};
use crate::scripts;
use crate::streams::StreamEngine;
use crate::stuck::{self, Stuck};
use futures_util::future::try_join_all;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Most events sent to Redis in one call (Lua's `unpack` stops at about 8000 arguments).
const MAX_PER_CALL: usize = 1000;

/// A handle on one event log in Redis. Cheap to clone; clones share the connection.
#[derive(Clone)]
pub struct Log {
    conn: RedisConn,
    connector: Connector,
    keys: Keys,
    config: LogConfig,
    engine: Arc<dyn Engine>,
}

impl Log {
    /// Connects, and checks that this process cuts the log like every other one: the
    /// first process records its partition count and backend in Redis, and a later one
    /// that disagrees gets [`LogError::Mismatch`] instead of silently missing events.
    pub async fn connect(connector: Connector, config: LogConfig) -> Result<Log> {
        if config.partitions == 0 {
            // Producers would still write to partition 0 that no consumer reads.
            return Err(LogError::Invalid(
                "a log needs at least one partition".into(),
            ));
        }
        let mut conn = connector.connect().await?;
        let keys = Keys::new(config.prefix.clone());
        check_settings(&mut conn, &keys, &config).await?;
        let engine = engine_for(config.backend, conn.clone(), keys.clone());
        Ok(Log {
            conn,
            keys,
            connector,
            config,
            engine,
        })
    }

    pub fn config(&self) -> &LogConfig {
        &self.config
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    pub fn connector(&self) -> &Connector {
        &self.connector
    }

    /// The shared connection, for callers that need a raw command (tests, tools).
    pub fn connection(&self) -> RedisConn {
        self.conn.clone()
    }

    pub fn partition_for(&self, key: &str) -> u32 {
        partition_for(key, self.config.partitions)
    }

    /// Appends one event to the partition of its key. When this returns, the event is in
    /// Redis with its final position: every group will see it.
    pub async fn publish(&self, event: NewEvent) -> Result<Appended> {
        let mut appended = self.publish_batch(vec![event]).await?;
        Ok(appended.remove(0))
    }

    /// Appends many events with one call per partition (the partitions in parallel).
    /// The answer is in the order of `events`.
    pub async fn publish_batch(&self, events: Vec<NewEvent>) -> Result<Vec<Appended>> {
        let mut by_partition: BTreeMap<u32, Vec<(usize, String, String)>> = BTreeMap::new();
        for (index, event) in events.iter().enumerate() {
            let id = uuid::Uuid::new_v4().to_string();
            let json = serde_json::to_string(&Unstamped {
                id: &id,
                kind: &event.kind,
                key: &event.key,
                payload: &event.payload,
            })
            .expect("an event serializes");
            by_partition
                .entry(self.partition_for(&event.key))
                .or_default()
                .push((index, id, json));
        }
        let calls = by_partition
            .into_iter()
            .map(|(partition, batch)| async move {
                let jsons: Vec<String> = batch.iter().map(|(_, _, json)| json.clone()).collect();
                let mut placed: Vec<Placed> = Vec::with_capacity(jsons.len());
                // Chunks keep each call well below Lua's limit on unpacked arguments; they go one
                // after the other, so the partition keeps the caller's order.
                for chunk in jsons.chunks(MAX_PER_CALL) {
                    placed.extend(self.engine.append(partition, chunk).await?);
                }
                Ok::<_, LogError>(
                    batch
                        .into_iter()
                        .zip(placed)
                        .map(|((index, id, _), placed)| {
                            (
                                index,
                                Appended {
                                    partition,
                                    position: placed.position,
                                    id,
                                    published_at: placed.published_at,
                                },
                            )
                        })
                        .collect::<Vec<_>>(),
                )
            });
        let mut all: Vec<(usize, Appended)> =
            try_join_all(calls).await?.into_iter().flatten().collect();
        all.sort_by_key(|(index, _)| *index);
        Ok(all.into_iter().map(|(_, appended)| appended).collect())
    }

    /// A reader of one partition for one member of `group`. The member must hold the
    /// partition's lease (see [`crate::lease`]) for reads and commits to succeed.
    pub async fn cursor(
        &self,
        group: &str,
        partition: u32,
        member: &str,
        delivery: Delivery,
    ) -> Result<Cursor> {
        let blocking = self.connector.connect_blocking().await?;
        let engine = self
            .engine
            .cursor(group, partition, member, delivery, blocking);
        Ok(Cursor::new(partition, engine))
    }

    /// Moves `group` to `target` in every partition (or only `partition`). The group's
    /// consumers pick the new position up at their next read or commit.
    pub async fn replay(
        &self,
        group: &str,
        target: &ReplayTarget,
        partition: Option<u32>,
    ) -> Result<Vec<Replayed>> {
        if let Some(p) = partition.filter(|p| *p >= self.config.partitions) {
            return Err(LogError::Invalid(format!(
                "there is no partition {p}: the log has {}, numbered from 0",
                self.config.partitions
            )));
        }
        let mut done = Vec::new();
        for p in self
            .partitions()
            .filter(|p| partition.is_none_or(|only| only == *p))
        {
            done.push(self.engine.replay(group, p, target).await?);
        }
        Ok(done)
    }

    /// Retention: drops events published before `cutoff_ms` (0 = no time bound) and all but
    /// the newest `keep` per partition (0 = no count bound). Positions stay valid.
    /// Returns how many events were dropped.
    pub async fn trim(&self, cutoff_ms: u64, keep: u64) -> Result<u64> {
        let mut dropped = 0;
        for p in self.partitions() {
            dropped += self.engine.trim(p, cutoff_ms, keep).await?;
        }
        Ok(dropped)
    }

    /// Every dead letter of `group`, partition by partition, oldest first. They live in
    /// `{PREFIX:P}:dead:GROUP` (LIST of JSON).
    pub async fn dead_letters(&self, group: &str) -> Result<Vec<DeadLetter>> {
        let mut letters = Vec::new();
        for p in self.partitions() {
            letters.extend(self.engine.dead_letters(group, p).await?);
        }
        Ok(letters)
    }

    /// Every partition a group's consumer reported it cannot read, partition by partition:
    /// what the web's `/healthz` shows (see [`crate::stuck`]).
    pub async fn stuck(&self) -> Result<Vec<Stuck>> {
        let mut all = Vec::new();
        for p in self.partitions() {
            all.extend(stuck::read(self.conn.clone(), &self.keys, p).await?);
        }
        Ok(all)
    }

    /// The retained range `first..end` of a partition, as offsets (list backend) or as a
    /// count of entries from 0 (Streams backend: `0..XLEN`).
    pub async fn range(&self, partition: u32) -> Result<(u64, u64)> {
        self.engine.range(partition).await
    }

    /// Each group's place in `partition` (see [`crate::inspect`] for the whole view).
    pub async fn positions(&self, partition: u32) -> Result<Vec<crate::engine::GroupPosition>> {
        self.engine.positions(partition).await
    }

    /// `PING`: is Redis there?
    pub async fn ping(&self) -> Result<()> {
        let mut conn = self.conn.clone();
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        Ok(())
    }

    pub fn partitions(&self) -> impl Iterator<Item = u32> {
        0..self.config.partitions
    }
}

/// The one place that turns the configured [`Backend`] into code: every other call goes
/// through the [`Engine`] trait.
fn engine_for(backend: Backend, conn: RedisConn, keys: Keys) -> Arc<dyn Engine> {
    match backend {
        Backend::Lists => Arc::new(ListEngine::new(conn, keys)),
        Backend::Streams => Arc::new(StreamEngine::new(conn, keys)),
    }
}

async fn check_settings(conn: &mut RedisConn, keys: &Keys, config: &LogConfig) -> Result<()> {
    let (partitions, backend): (u32, String) = scripts::SETTINGS
        .key(keys.settings())
        .arg(config.partitions)
        .arg(config.backend.name())
        .invoke_async(conn)
        .await?;
    if partitions == config.partitions && backend == config.backend.name() {
        return Ok(());
    }
    Err(LogError::Mismatch(format!(
        "the log `{prefix}` in this Redis has {partitions} partitions on the {backend} backend, \
         but this process was started with {} on the {} backend: start it with \
         --partitions {partitions} --backend {backend}, or use another --prefix",
        config.partitions,
        config.backend.name(),
        prefix = config.prefix,
    )))
}
