//! The one polling loop of the tests: ask until the answer is there, or a deadline passes.
//!
//! Tests against real processes cannot be told when something happened (a mail arrived, a
//! worker registered), so they ask again every few milliseconds. The deadline is there to end
//! a test that is stuck, never to make one pass: on a loaded CI machine make it generous
//! (10-30 s).

use std::future::Future;
use std::time::{Duration, Instant};

/// How long between two asks.
const INTERVAL: Duration = Duration::from_millis(20);

/// Asks `check` until it returns `Some`, and returns what it found; `None` once `timeout`
/// passed (after one last ask at the deadline).
pub async fn poll<T, F, Fut>(timeout: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(found) = check().await {
            return Some(found);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(INTERVAL).await;
    }
}

/// [`poll`], and panics naming `what` when the deadline passed.
pub async fn wait_until<T, F, Fut>(what: &str, timeout: Duration, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    match poll(timeout, check).await {
        Some(found) => found,
        None => panic!("timed out after {timeout:?} waiting until {what}"),
    }
}

/// [`poll`] for a yes/no question: true once `condition` holds, false at the deadline.
pub async fn eventually<F, Fut>(timeout: Duration, mut condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    poll(timeout, || {
        let holds = condition();
        async move { holds.await.then_some(()) }
    })
    .await
    .is_some()
}
