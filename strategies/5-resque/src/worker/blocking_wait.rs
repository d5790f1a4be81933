//! The idle wait: when every queue is empty, the worker blocks in Redis until a job is
//! pushed, instead of sleeping and asking again (node-resque sleeps 5 s between polls, so
//! a job waits up to 5 s for an idle worker; here it starts within a round trip).
//!
//! The wait runs on a connection of its own. The shared connection is multiplexed: a
//! blocked `BLPOP` on it would hold up every command queued behind it (the enqueues, the
//! pings), and redis-rs would fail it after its 500 ms response timeout anyway
//! ([`crate::connect`]).

use super::options::WorkerOptions;
use super::outcome::TakenJob;
use crate::client::Queue;
use crate::connect;
use redis::aio::MultiplexedConnection;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The worker's own connection for blocking pops, and its id in Redis: `CLIENT UNBLOCK`
/// names a blocked connection by that id, from another connection.
pub(crate) struct BlockingConnection {
    /// Opened without a response timeout: a `BLPOP` may rightly wait for many seconds.
    con: MultiplexedConnection,
    /// Asked once, when the connection opens; a new connection gets a new id.
    client_id: i64,
}

impl BlockingConnection {
    pub(crate) async fn open(client: &redis::Client) -> redis::RedisResult<BlockingConnection> {
        let mut con = connect::blocking(client).await?;
        let client_id: i64 = redis::cmd("CLIENT").arg("ID").query_async(&mut con).await?;
        Ok(BlockingConnection { con, client_id })
    }

    /// Blocks until a job arrives on one of `queues`, the wait times out
    /// (`block_timeout`), or `stop` is cancelled. `None`: no job.
    pub(crate) async fn wait_for_job(
        &mut self,
        queue: &Queue,
        options: &WorkerOptions,
        queues: &[String],
        stop: &CancellationToken,
    ) -> redis::RedisResult<Option<TakenJob>> {
        let keys = queue.keys();
        // A bounded wait, not `0` (forever): a `*` worker must look for new queues now and
        // then, and a dead connection shows up as an error instead of a silent hang.
        let timeout = options.block_timeout.as_secs_f64();
        let con = &mut self.con;
        // The pop, as a future not yet polled: both arms below poll the same one, so the
        // reply of the one BLPOP sent is always read, whichever arm reads it.
        let wait = async {
            if options.reliable {
                // workshop 5.1: solution begin
                // BLMOVE takes the job into this worker's processing list in the same step
                // that pops it, so it is never only in this process's memory. But BLMOVE
                // watches one list: the first queue. With several queues the wait is short,
                // so lower-priority queues are re-checked by the next work.lua pass.
                let first = &queues[0];
                let wait = if queues.len() == 1 { timeout } else { 0.1 };
                // LEFT to RIGHT: taken from the head, as LPOP does, and appended to the
                // processing list, which a recovery moves back head first (requeue.lua).
                // Bytes, not text: see `wire::payload`.
                let payload: Option<Vec<u8>> = redis::cmd("BLMOVE")
                    .arg(keys.queue(first))
                    .arg(keys.processing(first, &options.name))
                    .arg("LEFT")
                    .arg("RIGHT")
                    .arg(wait)
                    .query_async(con)
                    .await?;
                // workshop 5.1: solution end
                // workshop 5.1: starter
                // let first = &queues[0];
                // let wait = if queues.len() == 1 { timeout } else { 0.1 };
                // let popped: Option<(String, Vec<u8>)> = redis::cmd("BLPOP")
                //     .arg(keys.queue(first))
                //     .arg(wait)
                //     .query_async(con)
                //     .await?;
                // let payload = popped.map(|(_key, payload)| payload);
                // workshop 5.1: starter end
                Ok(payload.map(|payload| TakenJob {
                    queue: first.clone(),
                    payload: payload.into(),
                }))
            } else {
                // One BLPOP over all the queues: Redis serves the first non-empty key in the
                // order given, so priority holds while waiting too.
                let mut cmd = redis::cmd("BLPOP");
                for q in queues {
                    cmd.arg(keys.queue(q));
                }
                let popped: Option<(String, Vec<u8>)> = cmd.arg(timeout).query_async(con).await?;
                // BLPOP answers with the key; the worker speaks in queue names.
                let prefix = keys.queue("");
                Ok(popped.map(|(key, payload)| TakenJob {
                    queue: key.strip_prefix(&prefix).unwrap_or(&key).to_owned(),
                    payload: payload.into(),
                }))
            }
        };
        // Pinned so it can be polled by reference, and so survive the first `select!`.
        tokio::pin!(wait);
        tokio::select! {
            // `biased`: a reply that is ready wins over a stop that is too, so a job Redis
            // already handed over is taken, not left unread.
            biased;
            result = &mut wait => result,
            _ = stop.cancelled() => {
                // Stopping must not wait out the block timeout, and it must not just drop the
                // wait either: Redis may already have popped a job whose reply is on its way,
                // and dropping the reply would drop the job. So ask Redis to end the wait
                // (CLIENT UNBLOCK, sent on the shared connection); the pop then answers
                // "nothing" or the job it took, which is run, never dropped. Repeated, because
                // the UNBLOCK may reach Redis before the BLPOP it is meant to end.
                loop {
                    let _: redis::RedisResult<i64> = redis::cmd("CLIENT")
                        .arg("UNBLOCK")
                        .arg(self.client_id)
                        .query_async(&mut queue.connection())
                        .await;
                    tokio::select! {
                        biased;
                        result = &mut wait => return result,
                        _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                    }
                }
            }
        }
    }
}
