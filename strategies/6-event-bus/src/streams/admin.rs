//! Operator actions on the Streams backend: replay is `XGROUP SETID`, retention is `XTRIM`.
//! Entry IDs never change, so retention cannot invalidate a position.

use crate::connection::RedisConn;
use crate::error::{LogError, Result};
use crate::event::Position;
use crate::keys::Keys;
use crate::replay::{ReplayTarget, Replayed};
use crate::streams::cursor::ensure_group;

pub async fn replay(
    conn: &mut RedisConn,
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
    let last_delivered = id_before(&next)?;
    let stream = keys.stream(partition);
    if !ensure_group(conn, &stream, group, &last_delivered).await? {
        let () = redis::cmd("XGROUP")
            .arg("SETID")
            .arg(&stream)
            .arg(group)
            .arg(&last_delivered)
            .query_async(conn)
            .await?;
    }
    Ok(Replayed {
        partition,
        previous: None,
        now: Position::StreamId(next),
    })
}

/// The greatest ID smaller than `id` (`0` for the smallest).
fn id_before(id: &str) -> Result<String> {
    let invalid = || LogError::Invalid(format!("`{id}` is not a stream ID (MS-SEQ)"));
    let (ms, seq) = id.split_once('-').ok_or_else(invalid)?;
    let (ms, seq): (u64, u64) = (
        ms.parse().map_err(|_| invalid())?,
        seq.parse().map_err(|_| invalid())?,
    );
    Ok(match (ms, seq) {
        (0, 0) => "0".to_string(),
        (ms, 0) => format!("{}-{}", ms - 1, u64::MAX),
        (ms, seq) => format!("{ms}-{}", seq - 1),
    })
}

/// `XTRIM` by time (`MINID`) and by count (`MAXLEN`); returns how many were dropped.
pub async fn trim(
    conn: &mut RedisConn,
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
            .query_async(conn)
            .await?;
        dropped += n;
    }
    if keep > 0 {
        let n: u64 = redis::cmd("XTRIM")
            .arg(&stream)
            .arg("MAXLEN")
            .arg(keep)
            .query_async(conn)
            .await?;
        dropped += n;
    }
    Ok(dropped)
}

#[cfg(test)]
mod tests {
    use super::id_before;

    #[test]
    fn the_id_before() {
        assert_eq!(id_before("5-3").unwrap(), "5-2");
        assert_eq!(id_before("5-0").unwrap(), format!("4-{}", u64::MAX));
        assert_eq!(id_before("0-0").unwrap(), "0");
    }
}
