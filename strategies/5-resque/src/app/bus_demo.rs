//! The demo on the bus (`--bus`): the web role publishes an `email_requested` event instead
//! of enqueueing `sendEmail`; application `offload_mailer` subscribes to it and sends the
//! mail; each `--bus-app NAME` subscribes one more application that only logs the event,
//! to show the fan-out (one rider job per application per event).

use super::send_email;
use mailer::{Email, Mailer};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use strategy_5::bus::{Bus, Riders, INCOMING_QUEUE};
use strategy_5::JobResult;

/// The event the web role publishes, with attributes `to`, `subject`, `text`.
pub const EVENT: &str = "email_requested";
/// The application that sends the mail.
pub const MAILER_APP: &str = "offload_mailer";
/// Its handler (node's "job name"), the `class` of its subscription.
const MAILER_CLASS: &str = "sendEmail";
/// The handler of every `--bus-app`.
const AUDIT_CLASS: &str = "auditEvent";
const PRIORITY: &str = "default";

/// Subscribes the mailer and each audit app (again at every start: the write merges).
/// Returns the queues a worker must take, riders first and `bus_incoming` last, so that
/// events already driven are ridden before more are driven.
pub async fn subscribe(bus: &Bus, audit_apps: &[String]) -> anyhow::Result<Vec<String>> {
    let matcher = Map::from_iter([("bus_event_type".to_owned(), Value::from(EVENT))]);
    let mut queues = vec![
        bus.subscribe(MAILER_APP, PRIORITY, MAILER_CLASS, &matcher)
            .await?,
    ];
    for app in audit_apps {
        let queue = bus
            .subscribe(app, PRIORITY, AUDIT_CLASS, &matcher)
            .await
            .map_err(|e| anyhow::anyhow!("--bus-app {app:?}: {e}"))?;
        if !queues.contains(&queue) {
            queues.push(queue);
        }
    }
    queues.push(INCOMING_QUEUE.to_owned());
    Ok(queues)
}

/// The handlers: the mailer sends, the audit apps log.
pub fn riders(mailer: Mailer) -> Riders {
    Riders::new()
        .with(MAILER_CLASS, move |attributes| {
            let mailer = mailer.clone();
            async move { send_email::send(&mailer, &Value::Object(attributes)).await }
        })
        .with(AUDIT_CLASS, |attributes| async move { audit(&attributes) })
}

fn audit(attributes: &Map<String, Value>) -> JobResult {
    let field = |name: &str| attributes.get(name).and_then(Value::as_str).unwrap_or("?");
    tracing::info!(
        "bus event app={} type={} id={} to={}",
        field("bus_rider_app_key"),
        field("bus_event_type"),
        field("bus_id"),
        field("to"),
    );
    Ok(json!({ "logged": field("bus_id") }))
}

/// The mail a `failed` entry holds, if retrying it can still send one: a `sendEmail` job
/// (`args[0]` the email), the mailer's rider, or an event that was never driven (its
/// retry drives it again). An audit app's failure sends nothing and is not a parked mail.
pub fn parked_email(entry: &Value) -> Option<Email> {
    let argument = &entry["payload"]["args"][0];
    let Some(text) = argument.as_str() else {
        return Email::deserialize(argument).ok();
    };
    let attributes: Value = serde_json::from_str(text).ok()?;
    let proxy = attributes["bus_class_proxy"].as_str()?;
    let sends = match proxy.trim_start_matches("::") {
        MAILER_CLASS => attributes["bus_rider_app_key"] == MAILER_APP,
        "QueueBus::Driver" | "QueueBus::Publisher" => attributes["bus_event_type"] == EVENT,
        _ => false,
    };
    sends
        .then(|| Email::deserialize(&attributes).ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(argument: Value) -> Value {
        json!({ "payload": { "class": "x", "args": [argument] } })
    }

    #[test]
    fn parked_mails_are_the_ones_a_retry_would_send() {
        let mail = json!({"to": "a@example.com", "subject": "s", "text": "t"});
        assert!(parked_email(&entry(mail.clone())).is_some());
        let with = |extra: Value| {
            let mut attributes = mail.clone();
            attributes
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            entry(Value::from(attributes.to_string()))
        };
        let rider =
            with(json!({"bus_rider_app_key": "offload_mailer", "bus_class_proxy": "sendEmail"}));
        assert_eq!(parked_email(&rider).unwrap().to, "a@example.com");
        let undriven =
            with(json!({"bus_event_type": EVENT, "bus_class_proxy": "QueueBus::Driver"}));
        assert!(parked_email(&undriven).is_some());
        let audit =
            with(json!({"bus_rider_app_key": "offload_audit", "bus_class_proxy": "auditEvent"}));
        assert!(parked_email(&audit).is_none());
        let other_event =
            with(json!({"bus_event_type": "x", "bus_class_proxy": "QueueBus::Driver"}));
        assert!(parked_email(&other_event).is_none());
        assert!(parked_email(&entry(Value::from("{oops"))).is_none());
    }
}
