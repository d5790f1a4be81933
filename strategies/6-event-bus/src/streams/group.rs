//! Creating a partition stream's consumer group, which both reading and replay may be the
//! first to need.

use crate::connection::RedisConn;
use crate::error::Result;

/// Creates `group` on `stream` (and the stream, if missing) with `start` as its last
/// delivered ID, unless the group exists. `Ok(true)`: it was created just now.
pub(crate) async fn ensure_group(
    conn: &mut RedisConn,
    stream: &str,
    group: &str,
    start: &str,
) -> Result<bool> {
    let created: redis::RedisResult<()> = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(stream)
        .arg(group)
        .arg(start)
        .arg("MKSTREAM")
        .query_async(conn)
        .await;
    match created {
        Ok(()) => Ok(true),
        Err(e) if e.code() == Some("BUSYGROUP") => Ok(false),
        Err(e) => Err(e.into()),
    }
}
