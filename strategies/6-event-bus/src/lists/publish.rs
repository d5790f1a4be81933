//! Appending to a partition list (see `lua/append.lua`).

use crate::connection::RedisConn;
use crate::error::Result;
use crate::keys::Keys;
use crate::scripts;

/// Appends `events` (unstamped JSON objects) to `partition`; returns the first offset and
/// the stamp Redis gave them. One round trip however many events.
pub async fn append(
    conn: &mut RedisConn,
    keys: &Keys,
    partition: u32,
    events: &[String],
) -> Result<(u64, u64)> {
    let mut invocation = scripts::APPEND.prepare_invoke();
    invocation
        .key(keys.log(partition))
        .key(keys.meta(partition))
        .key(keys.wake(partition));
    for event in events {
        invocation.arg(event);
    }
    Ok(invocation.invoke_async(conn).await?)
}
