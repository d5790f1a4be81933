//! The consumer reads on while sends are in flight: an event of one key never waits for a
//! slow event of another key of its partition, and events of one key still go one after
//! the other, in publish order. On both backends, against a real Redis.

mod common;

use common::*;
use kit::BoxFuture;
use kit::RedisServer;
use serde_json::json;
use std::sync::{Arc, Mutex};
use strategy_6::{consumer, Backend, Event, Handler, HandlerError, NewEvent};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

on_both_backends!(an_event_of_another_key_is_sent_while_a_slow_one_is_in_flight);

/// Holds every event of `slow_key` in the handler until `release`; lets the others through.
/// Records, in order, each event's entering (`+seq`) and leaving (`-seq`) the handler.
struct Gate {
    slow_key: String,
    release: Notify,
    released: Mutex<bool>,
    trace: Mutex<Vec<String>>,
}

impl Gate {
    fn trace(&self) -> Vec<String> {
        self.trace.lock().unwrap().clone()
    }

    fn open(&self) {
        *self.released.lock().unwrap() = true;
        self.release.notify_waiters();
    }
}

impl Handler for Gate {
    fn name(&self) -> &str {
        "gate"
    }

    fn handle<'a>(&'a self, event: &'a Event) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let seq = &event.payload["seq"];
            self.trace.lock().unwrap().push(format!("+{seq}"));
            if event.key == self.slow_key {
                loop {
                    let notified = self.release.notified();
                    if *self.released.lock().unwrap() {
                        break;
                    }
                    notified.await;
                }
            }
            self.trace.lock().unwrap().push(format!("-{seq}"));
            Ok(())
        })
    }
}

/// A slow send of key A is in flight; the next events of its partition are read and a
/// later event of key B is sent before A's ends (the old loop read nothing until the whole
/// batch, A included, was done). A's second event waits for its first.
async fn an_event_of_another_key_is_sent_while_a_slow_one_is_in_flight(backend: Backend) {
    let redis = RedisServer::start().unwrap();
    let log = log_on(&redis, backend).await;
    let a = "a@example.com";
    let partition = log.partition_for(a);
    let b = (0..)
        .map(|i| format!("b{i}@example.com"))
        .find(|key| log.partition_for(key) == partition)
        .unwrap();
    let event = |key: &str, seq: u64| NewEvent::new("emailEvent", key, json!({ "seq": seq }));

    let gate = Arc::new(Gate {
        slow_key: a.into(),
        release: Notify::new(),
        released: Mutex::new(false),
        trace: Mutex::new(Vec::new()),
    });
    let consumer = consumer::start(
        log.clone(),
        config("mailer"),
        gate.clone(),
        CancellationToken::new(),
    )
    .await
    .unwrap();

    // A's first event is in the handler, and stays there.
    log.publish(event(a, 1)).await.unwrap();
    assert!(
        wait_until(|| gate.trace() == ["+1"]).await,
        "{:?}",
        gate.trace()
    );
    // Published after A started, so read by a later read than A's.
    log.publish(event(a, 2)).await.unwrap();
    log.publish(event(&b, 3)).await.unwrap();
    assert!(
        wait_until(|| gate.trace() == ["+1", "+3", "-3"]).await,
        "B was not sent while A was in flight: {:?}",
        gate.trace()
    );

    gate.open();
    assert!(
        wait_until(|| gate.trace().len() == 6).await,
        "{:?}",
        gate.trace()
    );
    // A's second event entered only after its first left.
    assert_eq!(gate.trace(), ["+1", "+3", "-3", "-1", "+2", "-2"]);
    assert!(wait_until(|| consumer.handled() == 3).await);
    consumer.stop().await;

    // Everything was committed: a new member of the group finds nothing to send again.
    let again = Recorder::new();
    let second = start(&log, config("mailer"), again.clone()).await;
    assert!(wait_until(|| second.held() == log.config().partitions as usize).await);
    log.publish(event(&b, 4)).await.unwrap();
    assert!(wait_until(|| again.count() == 1).await, "{}", again.count());
    second.stop().await;
    assert_eq!(again.ids().len(), 1, "only the new event");
}
