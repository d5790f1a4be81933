//! The one job class of the bus, `QueueBus::Worker`, and what it does by `bus_class_proxy`:
//! drive an event, publish a due delayed one, beat the heartbeat, or ride: run the handler
//! a subscriber registered under the subscription's `class`.
//!
//! It is an ordinary [`JobDef`], so a bus job gets everything a Resque job gets: the failed
//! list, the Retry plugin, reliable fetch, the scheduler's dead-worker cleanup. A rider
//! whose handler fails leaves its own entry in `failed`, on its own app's queue; the other
//! apps' riders are other jobs and never see it.

use super::envelope::{self, Proxy};
use super::Bus;
use crate::wire::JobError;
use crate::worker::{JobDef, JobResult};
use futures_util::future::BoxFuture;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// A subscriber's handler: it gets the event's attributes (with the `bus_rider_*` fields
/// and `bus_executed_at`), as node's and Python's handlers do.
pub type Handler = Arc<dyn Fn(Map<String, Value>) -> BoxFuture<'static, JobResult> + Send + Sync>;

/// The handlers this process runs, by subscription `class` (what node calls a job name).
#[derive(Clone, Default)]
pub struct Riders {
    handlers: HashMap<String, Handler>,
}

impl Riders {
    pub fn new() -> Riders {
        Riders::default()
    }

    pub fn with<F, Fut>(mut self, class: &str, handler: F) -> Riders
    where
        F: Fn(Map<String, Value>) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = JobResult> + Send + 'static,
    {
        self.handlers.insert(
            class.to_owned(),
            Arc::new(move |attributes| Box::pin(handler(attributes))),
        );
        self
    }

    /// Runs the handler for `class`. Ruby's DSL subscriptions all say `QueueBus::Rider` and
    /// name the handler by `bus_rider_sub_key`, so that is looked up next. No handler is a
    /// failure, in `failed` for a person to see (Ruby and Python drop such a job silently).
    async fn ride(&self, class: &str, mut attributes: Map<String, Value>) -> JobResult {
        let sub_key = attributes
            .get("bus_rider_sub_key")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let handler = self
            .handlers
            .get(class)
            .or_else(|| (class == "QueueBus::Rider").then(|| self.handlers.get(&sub_key))?)
            .ok_or_else(|| {
                let app = attributes.get("bus_rider_app_key").and_then(Value::as_str);
                JobError::named(
                    "BusError",
                    format!(
                        "no handler for bus_class_proxy {class:?} (app {}, subscription {sub_key:?}) in this worker",
                        app.unwrap_or("?")
                    ),
                )
                // A retry would find no handler either.
                .permanent()
            })?
            .clone();
        attributes.insert(
            "bus_executed_at".into(),
            chrono::Utc::now().timestamp().into(),
        );
        handler(attributes).await
    }
}

/// The `QueueBus::Worker` job definition: register it under [`envelope::WORKER_CLASS`] and
/// work `bus_incoming` (to drive) and the apps' queues (to ride).
pub fn worker_job(bus: Bus, riders: Riders) -> JobDef {
    let bus = Arc::new(bus);
    let riders = Arc::new(riders);
    JobDef::new(move |args: Vec<Value>| {
        let (bus, riders) = (bus.clone(), riders.clone());
        async move {
            let attributes = envelope::from_args(&args)?;
            match Proxy::of(&attributes)? {
                Proxy::Driver => bus.drive(&attributes).await,
                Proxy::Publisher => bus
                    .publish_due(attributes)
                    .await
                    .map_err(|e| JobError::named("BusError", format!("publishing: {e}"))),
                Proxy::Heartbeat => bus
                    .heartbeat(chrono::Utc::now().timestamp())
                    .await
                    .map(Value::from)
                    .map_err(|e| JobError::named("BusError", format!("heartbeat: {e}"))),
                Proxy::Handler(class) => riders.ride(&class, attributes).await,
            }
        }
    })
}
