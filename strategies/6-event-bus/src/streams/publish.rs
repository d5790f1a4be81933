//! Appending to a partition stream: `XADD ... *`, Redis picks the ID.

use crate::connection::RedisConn;
use crate::error::Result;
use crate::keys::Keys;

/// Appends `events` (unstamped JSON) to `partition` in one pipelined round trip; returns
/// their entry IDs in order.
pub async fn append(
    conn: &mut RedisConn,
    keys: &Keys,
    partition: u32,
    events: &[String],
) -> Result<Vec<String>> {
    let stream = keys.stream(partition);
    let mut pipe = redis::pipe();
    for event in events {
        pipe.cmd("XADD")
            .arg(&stream)
            .arg("*")
            .arg("event")
            .arg(event);
    }
    Ok(pipe.query_async(conn).await?)
}
