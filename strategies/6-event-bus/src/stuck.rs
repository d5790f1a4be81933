//! Stuck partitions: what a group's consumer found it cannot read (see [`crate::corrupt`]),
//! recorded where the web's `GET /healthz` can show it. A stuck partition is not lost:
//! its events wait, in order, until an operator repairs the key; but nothing else would
//! tell, since the web keeps answering 200 to every event it appends.
//!
//! `{events:P}:stuck` is a HASH per partition, group -> the JSON below. Per partition, under
//! its hash tag, so that it sits in the slot of the keys it is about (Redis Cluster); keyed
//! by group, so that the web, which does not know the groups, reads every one of them with
//! one `HGETALL` per partition. The consumer that finds the partition readable again
//! removes its group's field; while no consumer of the group runs, the record stays, which
//! is still true: nobody reads that partition.

use crate::connection::RedisConn;
use crate::error::Result;
use crate::keys::Keys;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

/// One group's partition that its consumer cannot read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stuck {
    pub partition: u32,
    pub group: String,
    /// Which key holds what: `{events:2}:offsets field mailer holds "abc", not an offset`.
    pub reason: String,
    /// The member that found it.
    pub member: String,
    /// When it found it, ms since the epoch (consumer clock).
    pub since: u64,
}

/// Records `stuck`, replacing what its group had recorded for that partition.
pub(crate) async fn record(mut conn: RedisConn, keys: &Keys, stuck: &Stuck) -> Result<()> {
    let json = serde_json::to_string(stuck).expect("a stuck partition serializes");
    let _: u64 = conn
        .hset(keys.stuck(stuck.partition), &stuck.group, json)
        .await?;
    Ok(())
}

/// Forgets that `group` was stuck on `partition`.
pub(crate) async fn clear(
    mut conn: RedisConn,
    keys: &Keys,
    group: &str,
    partition: u32,
) -> Result<()> {
    let _: u64 = conn.hdel(keys.stuck(partition), group).await?;
    Ok(())
}

/// Every group recorded as stuck on `partition`. A field that is not a record's JSON
/// (written by hand, say) is passed over, as `dead_letter::read` does.
pub(crate) async fn read(mut conn: RedisConn, keys: &Keys, partition: u32) -> Result<Vec<Stuck>> {
    let fields: Vec<(String, String)> = conn.hgetall(keys.stuck(partition)).await?;
    Ok(fields
        .iter()
        .filter_map(|(_group, json)| serde_json::from_str(json).ok())
        .collect())
}
