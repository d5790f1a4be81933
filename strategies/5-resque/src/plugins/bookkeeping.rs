//! A plugin's Redis calls after a job has run are bookkeeping: the job's work is done (its
//! mail went out, or did not) whatever they do. So when Redis is away for a moment (a
//! restart, the seconds it spends loading its AOF after one), such a call is made again
//! until Redis answers, rather than given up: a JobLock left behind holds the same job back
//! for an hour, and a Retry count left behind counts the next failure wrong. What is never
//! made again is the job itself.
//!
//! A call Redis carried out but whose reply was lost (the connection broke just after) is
//! made twice; the calls made this way are deletions and counters, where that costs at
//! most one count.

use crate::client::QueueError;
use std::future::Future;
use std::time::{Duration, Instant};

/// The first pause before a call is made again; each next pause doubles, up to
/// `LONGEST_PAUSE`.
const FIRST_PAUSE: Duration = Duration::from_millis(100);
const LONGEST_PAUSE: Duration = Duration::from_secs(1);
/// After this long the error is returned: Redis is not coming back soon, and the worker's
/// own loop waits for it from there.
const GIVE_UP_AFTER: Duration = Duration::from_secs(30);

/// Makes `call` until it succeeds, fails for a reason other than Redis being away, or
/// 30 s (`GIVE_UP_AFTER`) have passed.
pub async fn until_redis_answers<T, E, F, Fut>(mut call: F) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: RedisAway,
{
    let started = Instant::now();
    let mut pause = FIRST_PAUSE;
    loop {
        match call().await {
            Err(e) if e.is_redis_away() && started.elapsed() < GIVE_UP_AFTER => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(LONGEST_PAUSE);
            }
            answer => return answer,
        }
    }
}

/// An error that means "Redis did not answer now" (the connection broke, Redis is loading
/// its data), as opposed to one that asking again cannot change (a key of the wrong type).
pub trait RedisAway {
    fn is_redis_away(&self) -> bool;
}

impl RedisAway for redis::RedisError {
    fn is_redis_away(&self) -> bool {
        self.is_io_error() || matches!(self.retry_method(), redis::RetryMethod::WaitAndRetry)
    }
}

impl RedisAway for QueueError {
    fn is_redis_away(&self) -> bool {
        matches!(self, QueueError::Redis(e) if e.is_redis_away())
    }
}
