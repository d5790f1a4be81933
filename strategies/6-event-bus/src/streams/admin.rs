//! Operator actions on the Streams engine: replay is `XGROUP SETID`, retention is `XTRIM`.
//! Entry IDs never change, so retention cannot invalidate a position.

use crate::connection::RedisConn;
use crate::error::{LogError, Result};
use crate::event::Position;
use crate::keys::Keys;
use crate::replay::{ReplayTarget, Replayed};
use crate::streams::entry_id;
use crate::streams::group::ensure_group;
use redis::AsyncCommands;

pub async fn replay(
    mut conn: RedisConn,
    keys: &Keys,
    group: &str,
    partition: u32,
    target: &ReplayTarget,
) -> Result<Replayed> {
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
    let stream = keys.stream(partition);
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
}

/// `XTRIM` by time (`MINID`) and by count (`MAXLEN`); returns how many were dropped.
pub async fn trim(
    mut conn: RedisConn,
    keys: &Keys,
    partition: u32,
    cutoff_ms: u64,
    keep: u64,
) -> Result<u64> {
    let stream = keys.stream(partition);
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
}

/// How many entries a partition retains, as `0..XLEN`: entry IDs are times, not a count
/// from 0, so the range of a stream is its length.
pub async fn range(mut conn: RedisConn, keys: &Keys, partition: u32) -> Result<(u64, u64)> {
    let len: u64 = conn.xlen(keys.stream(partition)).await?;
    Ok((0, len))
}
