//! Appending to a partition list (see `lua/append.lua`).

use crate::connection::RedisConn;
use crate::engine::Placed;
use crate::error::Result;
use crate::event::Position;
use crate::keys::Keys;
use crate::scripts;

/// Appends `events` (unstamped JSON objects) to `partition`; returns where each landed, in
/// order. One round trip however many events: the script answers with the first offset and
/// the one stamp it gave them all, and the others follow from it.
pub async fn append(
    mut conn: RedisConn,
    keys: &Keys,
    partition: u32,
    events: &[String],
) -> Result<Vec<Placed>> {
    let mut invocation = scripts::APPEND.prepare_invoke();
    invocation
        .key(keys.log(partition))
        .key(keys.meta(partition))
        .key(keys.wake(partition));
    for event in events {
        invocation.arg(event);
    }
    let (first, stamp): (u64, u64) = invocation.invoke_async(&mut conn).await?;
    Ok((first..first + events.len() as u64)
        .map(|offset| Placed {
            position: Position::Offset(offset),
            published_at: stamp,
        })
        .collect())
}
