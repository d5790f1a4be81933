//! Operator actions on the list engine: replay (move a group's offset) and retention
//! (drop old events, keep offsets valid). See `lua/replay.lua` and `lua/trim.lua`.

use crate::connection::RedisConn;
use crate::error::{LogError, Result};
use crate::event::Position;
use crate::keys::Keys;
use crate::replay::{ReplayTarget, Replayed};
use crate::scripts;
use redis::AsyncCommands;

pub async fn replay(
    mut conn: RedisConn,
    keys: &Keys,
    group: &str,
    partition: u32,
    target: &ReplayTarget,
) -> Result<Replayed> {
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
        .key(keys.log(partition))
        .key(keys.meta(partition))
        .key(keys.offsets(partition))
        .arg(group)
        .arg(mode)
        .arg(value)
        .invoke_async(&mut conn)
        .await?;
    Ok(Replayed {
        partition,
        previous: u64::try_from(previous).ok().map(Position::Offset),
        now: Position::Offset(now),
    })
}

/// Drops events published before `cutoff_ms` and beyond the newest `keep` (0 = no bound);
/// returns how many were dropped.
pub async fn trim(
    mut conn: RedisConn,
    keys: &Keys,
    partition: u32,
    cutoff_ms: u64,
    keep: u64,
) -> Result<u64> {
    let (dropped, _base): (u64, u64) = scripts::TRIM
        .key(keys.log(partition))
        .key(keys.meta(partition))
        .arg(cutoff_ms)
        .arg(keep)
        .invoke_async(&mut conn)
        .await?;
    Ok(dropped)
}

/// The retained offsets of a partition: `base..end`.
pub async fn range(mut conn: RedisConn, keys: &Keys, partition: u32) -> Result<(u64, u64)> {
    let base: Option<u64> = conn.hget(keys.meta(partition), "base").await?;
    let len: u64 = conn.llen(keys.log(partition)).await?;
    let base = base.unwrap_or(0);
    Ok((base, base + len))
}
