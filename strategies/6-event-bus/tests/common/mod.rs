//! Helpers shared by the integration tests: a private Redis per test, a log on it, and a
//! handler that records what it was given.
#![allow(dead_code)]

use kit::BoxFuture;
use kit::RedisServer;
use serde_json::json;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use strategy_6::consumer::{self, Backoff};
use strategy_6::{
    Backend, Connector, ConsumerConfig, ConsumerHandle, Event, Handler, HandlerError, Log,
    LogConfig, NewEvent,
};
use tokio_util::sync::CancellationToken;

/// Generous: CI is a loaded 2-core machine.
pub const DEADLINE: Duration = Duration::from_secs(30);

pub async fn log_on(server: &RedisServer, backend: Backend) -> Log {
    log_with(Connector::Single(server.url()), backend).await
}

pub async fn log_with(connector: Connector, backend: Backend) -> Log {
    Log::connect(
        connector,
        LogConfig {
            backend,
            ..LogConfig::default()
        },
    )
    .await
    .expect("connect to redis")
}

/// A consumer config fit for tests: quick retries. The lease stays at its default (3 s,
/// renewed every second): these tests never wait for one to expire, and a shorter one can
/// lapse when a loaded CI machine stalls the renewal, which shows up as a duplicate.
pub fn config(group: &str) -> ConsumerConfig {
    ConsumerConfig {
        backoff: Backoff {
            base: Duration::from_millis(10),
            max: Duration::from_millis(50),
        },
        ..ConsumerConfig::new(group)
    }
}

pub async fn start(log: &Log, config: ConsumerConfig, handler: Arc<Recorder>) -> ConsumerHandle {
    consumer::start(log.clone(), config, handler, CancellationToken::new())
        .await
        .expect("start a consumer")
}

/// `n` events with keys `user0..user{keys}`, numbered in `payload.seq`.
pub fn events(n: usize, keys: usize) -> Vec<NewEvent> {
    (0..n)
        .map(|i| {
            NewEvent::new(
                "emailEvent",
                format!("user{}@example.com", i % keys),
                json!({ "seq": i }),
            )
        })
        .collect()
}

/// Records every event it handles; fails (transiently) on the keys it is told to.
#[derive(Default)]
pub struct Recorder {
    pub seen: Mutex<Vec<Event>>,
    pub failing_keys: Mutex<HashSet<String>>,
    pub attempts: Mutex<Vec<String>>,
    /// Handling takes this long (to catch a consumer mid-batch).
    pub delay: Option<Duration>,
    /// The keys being handled right now, one entry per event in the handler.
    pub in_flight: Mutex<Vec<String>>,
    /// The most events that were in the handler at once.
    pub most_in_flight: Mutex<usize>,
    /// Keys whose event entered the handler while another of the same key was still in it.
    pub overlapping_keys: Mutex<Vec<String>>,
}

impl Recorder {
    pub fn new() -> Arc<Recorder> {
        Arc::new(Recorder::default())
    }

    pub fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    pub fn ids(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|e| e.id.clone())
            .collect()
    }

    pub fn fail_key(&self, key: &str) {
        self.failing_keys.lock().unwrap().insert(key.to_string());
    }
}

impl Handler for Recorder {
    fn name(&self) -> &str {
        "recorder"
    }

    fn handle<'a>(&'a self, event: &'a Event) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            {
                let mut in_flight = self.in_flight.lock().unwrap();
                if in_flight.contains(&event.key) {
                    self.overlapping_keys
                        .lock()
                        .unwrap()
                        .push(event.key.clone());
                }
                in_flight.push(event.key.clone());
                let mut most = self.most_in_flight.lock().unwrap();
                *most = (*most).max(in_flight.len());
            }
            if let Some(delay) = self.delay {
                tokio::time::sleep(delay).await;
            }
            {
                let mut in_flight = self.in_flight.lock().unwrap();
                let mine = in_flight.iter().position(|key| *key == event.key);
                in_flight.swap_remove(mine.expect("entered above"));
            }
            self.attempts.lock().unwrap().push(event.id.clone());
            if self.failing_keys.lock().unwrap().contains(&event.key) {
                return Err(HandlerError::Transient("told to fail".into()));
            }
            self.seen.lock().unwrap().push(event.clone());
            Ok(())
        })
    }
}

/// True once `condition` holds, false after [`DEADLINE`] (testkit's loop).
pub async fn wait_until(mut condition: impl FnMut() -> bool) -> bool {
    wait_until_async(|| std::future::ready(condition())).await
}

/// [`wait_until`] for a condition that needs Redis (or anything else async) to answer.
pub async fn wait_until_async<F, Fut>(condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    testkit::eventually(DEADLINE, condition).await
}

/// Generates one `#[tokio::test]` per backend for an `async fn(Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod lists {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(strategy_6::Backend::Lists).await
                }
            )*
        }
        mod streams {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(strategy_6::Backend::Streams).await
                }
            )*
        }
    };
}
