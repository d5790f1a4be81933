//! Publishing an event: its attributes become one `QueueBus::Worker` job on `bus_incoming`
//! (`SADD queues` + `RPUSH`, the queue's ordinary enqueue). A driver then fans it out.
//!
//! ```text
//!  {"bus_event_type":"email_requested","bus_published_at":1796161943,"bus_id":"1796161943-<uuid>",
//!   "bus_app_hostname":"vm", ..the caller's attributes.., "bus_class_proxy":"QueueBus::Driver"}
//! ```
//!
//! The caller's attributes are merged over the bus's own (any of them may be given,
//! `bus_id` included), as every implementation does. `bus_locale` and `bus_timezone` are
//! not written: node and Python take them from `LANG` and the system (`en_US`, `C`), and
//! a Rails subscriber that enforces its locales raises on such a value.

use super::envelope::{self, DRIVER, INCOMING_QUEUE, PUBLISHER, WORKER_CLASS};
use super::Bus;
use crate::client::{delayed::to_seconds, Result};
use serde_json::{Map, Value};

impl Bus {
    /// Publishes `event_type` now. Returns the attributes as they were pushed.
    pub async fn publish(
        &self,
        event_type: &str,
        attributes: &Map<String, Value>,
    ) -> Result<Map<String, Value>> {
        let now = chrono::Utc::now().timestamp();
        let mut event = self.metadata(event_type, Some(now), attributes);
        envelope::set_proxy(&mut event, DRIVER);
        self.queue
            .enqueue(INCOMING_QUEUE, WORKER_CLASS, envelope::to_args(&event))
            .await?;
        Ok(event)
    }

    /// Publishes `event_type` at `ts_ms` (Unix ms), through the delayed queue that our
    /// scheduler, resque-scheduler and node-resque's all promote: the job lands on
    /// `bus_incoming` then as a `QueueBus::Publisher`, which publishes it again (keeping its
    /// `bus_id`). `bus_delayed_until` is the second of the bucket it waits in (node floors
    /// one and rounds the other, so they can differ by a second).
    pub async fn publish_at(
        &self,
        ts_ms: i64,
        event_type: &str,
        attributes: &Map<String, Value>,
    ) -> Result<Map<String, Value>> {
        let due = to_seconds(ts_ms);
        let mut event = self.metadata(event_type, None, attributes);
        envelope::set_proxy(&mut event, PUBLISHER);
        event
            .entry("bus_delayed_until")
            .or_insert_with(|| due.into());
        // Two identical delayed jobs in one second are one event published twice: the
        // bus_id in each makes them differ, so the duplicate check never refuses one.
        self.queue
            .enqueue_at(
                due * 1000,
                INCOMING_QUEUE,
                WORKER_CLASS,
                envelope::to_args(&event),
                false,
            )
            .await?;
        Ok(event)
    }

    /// [`Bus::publish_at`] `delay_ms` from now.
    pub async fn publish_in(
        &self,
        delay_ms: u64,
        event_type: &str,
        attributes: &Map<String, Value>,
    ) -> Result<Map<String, Value>> {
        let at = chrono::Utc::now().timestamp_millis() + delay_ms as i64;
        self.publish_at(at, event_type, attributes).await
    }

    /// A due delayed event (`QueueBus::Publisher`): published now, as Ruby's and node's
    /// Publisher do: same attributes and `bus_id`, a fresh `bus_published_at`.
    pub(crate) async fn publish_due(&self, mut delayed: Map<String, Value>) -> Result<Value> {
        delayed.shift_remove("bus_class_proxy");
        let event_type = delayed
            .get("bus_event_type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let event = self.publish(&event_type, &delayed).await?;
        Ok(event["bus_id"].clone())
    }

    /// The bus's own fields, in node-queue-bus's order, then the caller's over them.
    fn metadata(
        &self,
        event_type: &str,
        published_at: Option<i64>,
        attributes: &Map<String, Value>,
    ) -> Map<String, Value> {
        let now = chrono::Utc::now().timestamp();
        let mut event = Map::new();
        event.insert("bus_event_type".into(), event_type.into());
        if let Some(at) = published_at {
            event.insert("bus_published_at".into(), at.into());
        }
        event.insert(
            "bus_id".into(),
            format!("{now}-{}", uuid::Uuid::new_v4()).into(),
        );
        event.insert("bus_app_hostname".into(), self.hostname.clone().into());
        for (name, value) in attributes {
            event.insert(name.clone(), value.clone());
        }
        event
    }
}
