//! The job every QueueBus implementation pushes, in every queue: an ordinary Resque job of
//! class `QueueBus::Worker` whose one argument is a JSON *string* holding the attributes.
//!
//! ```text
//!  {"class":"QueueBus::Worker","queue":"bus_incoming","args":["{\"bus_event_type\":..,\"bus_class_proxy\":\"QueueBus::Driver\"}"]}
//! ```
//!
//! `bus_class_proxy` says what the job is: drive an event, publish a delayed one, beat the
//! heartbeat, or (any other name) run a subscriber's handler.

use crate::wire::{self, JobError};
use serde_json::{Map, Value};

/// The Resque class of every bus job (node's `busClassKey`, Python's `bus_class_key`).
pub const WORKER_CLASS: &str = "QueueBus::Worker";
/// Where publishers push events and drivers take them from.
pub const INCOMING_QUEUE: &str = "bus_incoming";

/// What a bus job is, by its `bus_class_proxy` (a leading `::` removed: Ruby writes
/// `::QueueBus::Heartbeat` and `::QueueBus::Rider`, which node and Python fail to recognise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proxy {
    /// An event to match against every subscription.
    Driver,
    /// A delayed event that is due: publish it now.
    Publisher,
    /// Publish the `heartbeat_minutes` events that are due.
    Heartbeat,
    /// A subscriber's handler, by the subscription's `class`.
    Handler(String),
}

pub const DRIVER: &str = "QueueBus::Driver";
pub const PUBLISHER: &str = "QueueBus::Publisher";
pub const HEARTBEAT: &str = "QueueBus::Heartbeat";

impl Proxy {
    pub fn of(attributes: &Map<String, Value>) -> Result<Proxy, JobError> {
        let name = attributes
            .get("bus_class_proxy")
            .and_then(Value::as_str)
            .ok_or_else(|| envelope_error("the attributes have no \"bus_class_proxy\" string"))?;
        Ok(match name.trim_start_matches("::") {
            DRIVER => Proxy::Driver,
            PUBLISHER => Proxy::Publisher,
            HEARTBEAT => Proxy::Heartbeat,
            other => Proxy::Handler(other.to_owned()),
        })
    }
}

/// The job's args: one JSON string (the double encoding every implementation expects).
pub fn to_args(attributes: &Map<String, Value>) -> Vec<Value> {
    vec![Value::String(
        serde_json::to_string(attributes).expect("JSON maps always serialize"),
    )]
}

/// The bytes of a bus job on `queue`, as node-queue-bus writes them.
pub fn encode(queue: &str, attributes: &Map<String, Value>) -> String {
    wire::encode(queue, WORKER_CLASS, &to_args(attributes))
}

/// Reads the attributes back. Any other shape (no argument, a number, a string that is not
/// a JSON object) was written by something that is not a bus: a permanent failure that
/// says what was found, so the job lands in `failed` once instead of being dropped (Python
/// drops it) or retried forever. A bare object (the pre-2015 format) is accepted too.
pub fn from_args(args: &[Value]) -> Result<Map<String, Value>, JobError> {
    match args {
        [Value::String(text)] => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(other) => Err(envelope_error(format!(
                "the argument's JSON is not an object: {}",
                shorten(&other.to_string())
            ))),
            Err(e) => Err(envelope_error(format!(
                "the argument is not JSON ({e}): {}",
                shorten(text)
            ))),
        },
        [Value::Object(map)] => Ok(map.clone()),
        [] => Err(envelope_error("no argument (one JSON string expected)")),
        [other] => Err(envelope_error(format!(
            "the argument is not a JSON string: {}",
            shorten(&other.to_string())
        ))),
        _ => Err(envelope_error(format!(
            "{} arguments (one JSON string expected)",
            args.len()
        ))),
    }
}

/// Sets `bus_class_proxy` as the last field, where every implementation writes it.
pub fn set_proxy(attributes: &mut Map<String, Value>, proxy: &str) {
    attributes.shift_remove("bus_class_proxy");
    attributes.insert("bus_class_proxy".into(), proxy.into());
}

fn envelope_error(why: impl Into<String>) -> JobError {
    JobError::named("BusEnvelopeError", why).permanent()
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(120) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_argument_is_a_json_string_and_reads_back() {
        let mut attrs = Map::new();
        attrs.insert("bus_event_type".into(), "user_created".into());
        attrs.insert("id".into(), 42.into());
        set_proxy(&mut attrs, DRIVER);
        assert_eq!(
            encode("bus_incoming", &attrs),
            r#"{"class":"QueueBus::Worker","queue":"bus_incoming","args":["{\"bus_event_type\":\"user_created\",\"id\":42,\"bus_class_proxy\":\"QueueBus::Driver\"}"]}"#
        );
        assert_eq!(from_args(&to_args(&attrs)).unwrap(), attrs);
        assert_eq!(Proxy::of(&attrs).unwrap(), Proxy::Driver);
    }

    #[test]
    fn ruby_double_colons_are_the_same_proxies() {
        let ruby = from_args(&[json!(r#"{"bus_class_proxy":"::QueueBus::Heartbeat"}"#)]).unwrap();
        assert_eq!(Proxy::of(&ruby).unwrap(), Proxy::Heartbeat);
        let rider = from_args(&[json!(r#"{"bus_class_proxy":"::QueueBus::Rider"}"#)]).unwrap();
        assert_eq!(
            Proxy::of(&rider).unwrap(),
            Proxy::Handler("QueueBus::Rider".into())
        );
    }

    #[test]
    fn anything_else_is_a_permanent_envelope_error() {
        for args in [
            vec![],
            vec![json!(5)],
            vec![json!("not json")],
            vec![json!("[1,2]")],
            vec![json!("{}"), json!("{}")],
        ] {
            let error = from_args(&args).unwrap_err();
            assert_eq!(error.exception, "BusEnvelopeError", "{args:?}");
            assert!(error.permanent);
        }
        let no_proxy = from_args(&[json!(r#"{"a":1}"#)]).unwrap();
        assert!(Proxy::of(&no_proxy)
            .unwrap_err()
            .error
            .contains("bus_class_proxy"));
    }
}
