//! Promoting delayed jobs: every `delayed:TS` that is due moves onto its queue.
//!
//! node-resque moves delayed jobs one `LPOP` at a time and enqueues each afterwards: a crash
//! between the two loses the job. Here the whole move is one Lua call (`promote.lua`), which
//! pushes each item with its bytes unchanged and runs no enqueue plugins (node-resque runs
//! them only when its scheduler is given the job definitions).

use crate::client::Queue;
use crate::scripts;
use crate::wire;
use redis::AsyncCommands;

/// Most delayed timestamps one promotion call moves (bounds how long Redis is busy).
const TIMESTAMPS_PER_CALL: usize = 100;

/// Moves every due delayed job onto its queue; returns how many moved.
pub async fn promote_due(queue: &Queue) -> redis::RedisResult<u64> {
    let mut total = 0;
    // A Lua call blocks every other client while it runs, so each call moves a bounded
    // batch, and the loop goes on while due timestamps are left.
    loop {
        let moved: u64 = scripts::PROMOTE
            .key(queue.keys().delayed_schedule())
            .arg(chrono::Utc::now().timestamp())
            .arg(queue.keys().prefix())
            .arg(TIMESTAMPS_PER_CALL)
            .arg(wire::js_date(chrono::Utc::now()))
            .invoke_async(&mut queue.connection())
            .await?;
        total += moved;
        let left: usize = queue
            .connection()
            .zcount(
                queue.keys().delayed_schedule(),
                "-inf",
                chrono::Utc::now().timestamp(),
            )
            .await?;
        if left == 0 {
            return Ok(total);
        }
    }
}
