//! [`Engine`]: the storage under a log, as one interface with two implementations.
//!
//! The lesson of this crate is that one guarantee (ordered partitions, an offset per group,
//! commit after success, dead letters, replay, retention) can sit on two storage models:
//!
//! | | `ListEngine` (`src/lists/`) | `StreamEngine` (`src/streams/`) |
//! |---|---|---|
//! | a partition is | a LIST, plus `base` in a HASH | a STREAM |
//! | a position is | an offset that `append.lua` computes | an entry ID that `XADD *` assigns |
//! | a group's place is | a field of `{P}:offsets`, moved by our Lua | the group's last-delivered ID in Redis |
//! | in flight | nothing: the stored offset is the place | the group's pending entries (`XACK` ends them) |
//! | a dead holder's batch | read again from the stored offset | claimed with `XAUTOCLAIM` |
//! | an idle reader waits on | the `{P}:wake` stream | `XREADGROUP BLOCK` |
//!
//! `Log` and `Cursor` only ever call these two traits; `Log::connect` is the one place that
//! branches on the configured `Backend`, to pick an engine. In the style of toyDB's storage
//! `Engine` trait: the reader sees the interface first, then each engine in its folder.
//!
//! Every method works on one partition, so each call keeps its keys in one hash slot and
//! runs on Redis Cluster too.
//!
//! Why boxed futures ([`BoxFuture`], as the consumers' `Handler` uses) and not
//! `async fn` in the trait: the engine is chosen at run time from the configuration, and
//! `Log` must stay one plain type that the binary, the tests and the benches can name, so it
//! holds an `Arc<dyn Engine>`. A trait with native `async fn` cannot be used as `dyn`; the
//! price of boxing is one allocation per call, nothing next to a Redis round trip.

use crate::connection::RedisConn;
use crate::dead_letter::DeadLetter;
use crate::error::Result;
use crate::event::Position;
use crate::options::Delivery;
use crate::record::Record;
use crate::replay::{ReplayTarget, Replayed};
use kit::BoxFuture;
use std::time::Duration;

/// Where one appended event landed, whichever the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    pub position: Position,
    /// Redis's clock when it appended the event, in ms since the epoch.
    pub published_at: u64,
}

/// Where one group stands in one partition, whichever the engine.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GroupPosition {
    pub group: String,
    /// What it reads next (lists: an offset) or what it was last given (streams: an entry ID).
    pub position: Position,
    /// Events retained after its position, not yet given to the group.
    pub lag: Option<u64>,
    /// Given to a member and not yet acknowledged (streams; lists keep nothing in flight).
    pub pending: u64,
}

/// The storage of a partitioned event log: what `Log` needs, one partition at a time.
pub trait Engine: Send + Sync {
    /// Appends `events` (JSON objects without `published_at`, in order) to `partition` in
    /// one round trip. Returns where each landed, in the same order.
    fn append<'a>(
        &'a self,
        partition: u32,
        events: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<Placed>>>;

    /// The retained part of `partition`: offsets `first..end` (lists), or a count of
    /// entries `0..XLEN` (streams, whose IDs are not numbered from 0).
    fn range(&self, partition: u32) -> BoxFuture<'_, Result<(u64, u64)>>;

    /// Moves `group` in `partition` so that it reads `target` next.
    fn replay<'a>(
        &'a self,
        group: &'a str,
        partition: u32,
        target: &'a ReplayTarget,
    ) -> BoxFuture<'a, Result<Replayed>>;

    /// Retention: drops the events of `partition` published before `cutoff_ms` and all but
    /// the newest `keep` (0 = no bound). Positions stay valid. Returns how many went.
    fn trim(&self, partition: u32, cutoff_ms: u64, keep: u64) -> BoxFuture<'_, Result<u64>>;

    /// What `group` parked in `partition`, oldest first.
    fn dead_letters<'a>(
        &'a self,
        group: &'a str,
        partition: u32,
    ) -> BoxFuture<'a, Result<Vec<DeadLetter>>>;

    /// Every group that has a place in `partition`, and that place: what an operator's
    /// view shows (see [`crate::inspect`]).
    fn positions(&self, partition: u32) -> BoxFuture<'_, Result<Vec<GroupPosition>>>;

    /// A reader of `partition` for `member` of `group`. `blocking` is a connection of its
    /// own for blocking reads (see [`crate::connection`] for why it cannot be shared).
    fn cursor(
        &self,
        group: &str,
        partition: u32,
        member: &str,
        delivery: Delivery,
        blocking: RedisConn,
    ) -> Box<dyn EngineCursor>;
}

/// One group member's reader of one partition: each engine's way to hand out batches and
/// to move the group past what was handled. The member must hold the partition's lease.
pub trait EngineCursor: Send {
    /// Up to `max` records after the last ones it returned (the caller reads on before it
    /// commits); if none are there, waits up to `block` for some.
    fn next_batch(&mut self, max: usize, block: Duration) -> BoxFuture<'_, Result<Vec<Record>>>;

    /// Moves the group past `handled` (the oldest of what was read and not committed, in
    /// order: the caller may have read further). `Ok(false)`: the group was moved meanwhile
    /// (a replay); the caller drops what it read. After an error or `Ok(false)`, the next
    /// batch starts again from what is committed.
    fn commit<'a>(&'a mut self, handled: &'a [Record]) -> BoxFuture<'a, Result<bool>>;

    /// Parks `record` in the group's dead letters and moves past it. The records read before
    /// it must be committed first. `Ok(false)` as for [`EngineCursor::commit`].
    fn dead_letter<'a>(
        &'a mut self,
        record: &'a Record,
        letter: &'a DeadLetter,
    ) -> BoxFuture<'a, Result<bool>>;
}
