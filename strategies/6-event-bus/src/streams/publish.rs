//! Appending to a partition stream: `XADD ... *`, Redis picks the ID.

use crate::connection::RedisConn;
use crate::engine::Placed;
use crate::error::Result;
use crate::event::Position;
use crate::keys::Keys;
use crate::streams::entry_id;

/// Appends `events` (unstamped JSON) to `partition` in one pipelined round trip; returns
/// where each landed, in order. The ID is the position, and its millisecond part is the
/// stamp: Redis never gives a later entry a smaller ID.
pub async fn append(
    mut conn: RedisConn,
    keys: &Keys,
    partition: u32,
    events: &[String],
) -> Result<Vec<Placed>> {
    let stream = keys.stream(partition);
    let mut pipe = redis::pipe();
    for event in events {
        pipe.cmd("XADD")
            .arg(&stream)
            .arg("*")
            .arg("event")
            .arg(event);
    }
    let ids: Vec<String> = pipe.query_async(&mut conn).await?;
    Ok(ids
        .into_iter()
        .map(|id| Placed {
            published_at: entry_id::millis(&id),
            position: Position::StreamId(id),
        })
        .collect())
}
