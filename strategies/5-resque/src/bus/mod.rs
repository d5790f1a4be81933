//! QueueBus on this Resque: publish an *event* once, and every application subscribed to it
//! gets a Resque job of its own. The wire is node-queue-bus's (and resque-bus's and
//! py-queue-bus's), so any of them may publish, subscribe, drive or ride on the same Redis.
//!
//! ```text
//!  publish ──RPUSH──► queue:bus_incoming   QueueBus::Worker, proxy QueueBus::Driver
//!                        │ a worker on bus_incoming drives it (driver.rs):
//!                        │ SMEMBERS bus_apps, HGETALL bus_app:<app>, match (matcher.rs)
//!                        ▼ MULTI: one rider job per match, EXEC
//!          queue:<app>_<priority>          QueueBus::Worker, proxy = the subscription's class
//!                        │ that app's worker rides it (rider.rs): its handler runs
//!  publish_at ─► delayed:<ts> ─scheduler─► bus_incoming (proxy QueueBus::Publisher) ─► publish
//!  heartbeat trigger ─► bus_incoming (proxy QueueBus::Heartbeat) ─► heartbeat_minutes events
//! ```
//!
//! * [`envelope`]: the job (`QueueBus::Worker`, one JSON-string argument) and its proxies.
//! * [`matcher`]: the one matching semantics (a table in its doc).
//! * [`subscription`]: a subscription record, and the app-key rule.
//! * [`subscriptions`]: subscribe, unsubscribe, and reading them all.
//! * [`publish`]: publish, `publish_at`, `publish_in`.
//! * [`driver`]: the fan-out.
//! * [`rider`]: the `QueueBus::Worker` job and the handlers ([`Riders`]).
//! * [`heartbeat`]: the lock and the minute events.

pub mod driver;
pub mod envelope;
pub mod heartbeat;
pub mod matcher;
pub mod publish;
pub mod rider;
pub mod subscription;
pub mod subscriptions;

pub use envelope::{INCOMING_QUEUE, WORKER_CLASS};
pub use matcher::regex_filter;
pub use rider::{worker_job, Riders};
pub use subscription::Subscription;

use crate::client::Queue;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A bus on one Resque queue client (and so one Redis and namespace). Cheap to clone.
#[derive(Clone)]
pub struct Bus {
    queue: Queue,
    /// `bus_app_hostname` of what this process publishes.
    hostname: String,
    /// Compiled subscriptions by their exact bytes: the driver reads every record for every
    /// event, and compiling its regexes again each time would cost more than the fan-out.
    compiled: Arc<Mutex<Compiled>>,
}

/// Field and record bytes, and what they compiled to.
type Compiled = HashMap<(String, String), Result<Subscription, String>>;

/// More distinct records than this and the cache starts afresh (records that changed
/// would otherwise stay in it for good).
const MAX_COMPILED: usize = 10_000;

impl Bus {
    pub fn new(queue: Queue) -> Bus {
        Bus {
            queue,
            hostname: crate::wire::hostname(),
            compiled: Arc::default(),
        }
    }

    pub fn queue(&self) -> &Queue {
        &self.queue
    }

    fn parse_cached(&self, field: &str, raw: &str) -> Result<Subscription, String> {
        let key = (field.to_owned(), raw.to_owned());
        let mut compiled = self.compiled.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sub) = compiled.get(&key) {
            return sub.clone();
        }
        if compiled.len() >= MAX_COMPILED {
            compiled.clear();
        }
        let sub = Subscription::parse(field, raw);
        compiled.insert(key, sub.clone());
        sub
    }
}
