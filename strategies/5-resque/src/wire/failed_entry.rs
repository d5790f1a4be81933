//! Why a job failed, and the entry node-resque pushes on the `failed` list for it.
//!
//! The entry is written so that node-resque's `JSON.parse` + `JSON.stringify` gives back the
//! same bytes: its `removeFailed`/`retryAndRemoveFailed` find entries with a byte-exact `LREM`.

use super::payload::Payload;
use serde_json::Value;

/// A job's failure, in the terms of a JavaScript `Error`: `exception` is `err.name`, `error`
/// is `err.message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobError {
    pub exception: String,
    pub error: String,
    pub backtrace: Vec<String>,
    /// Trying again cannot help (an SMTP 5xx, an invalid address): the Retry plugin lets it
    /// fail at once. Not written to Redis; the wire entry stays node-resque's.
    pub permanent: bool,
}

impl JobError {
    /// An `Error` with this message (node-resque's most common shape).
    pub fn new(message: impl Into<String>) -> JobError {
        JobError::named("Error", message)
    }

    pub fn named(exception: impl Into<String>, message: impl Into<String>) -> JobError {
        JobError {
            exception: exception.into(),
            error: message.into(),
            backtrace: Vec::new(),
            permanent: false,
        }
    }

    /// Marks the failure as one a retry cannot fix.
    pub fn permanent(mut self) -> JobError {
        self.permanent = true;
        self
    }

    /// node-resque's wording for a class it has no job for.
    pub fn unknown_class(class: &str) -> JobError {
        JobError::new(format!("No job defined for class \"{class}\""))
    }
}

impl std::fmt::Display for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.exception, self.error)
    }
}

impl std::error::Error for JobError {}

/// The `failed` entry: worker, queue, payload, exception, error, backtrace, failed_at, in
/// node-resque's order. `worker` is the full worker id (`NAME:QUEUES`), as Ruby Resque
/// writes it, so resque-web links the failure to a worker it can find. The payload is embedded as it was popped when it is a JSON object,
/// so a payload written by another client keeps its bytes; anything else is kept as a
/// string (escaped where it is not UTF-8), so nothing is dropped.
pub fn failed_entry(
    worker: &str,
    queue: &str,
    payload: &Payload,
    error: &JobError,
    failed_at: &str,
) -> String {
    let payload = match payload.text() {
        Ok(raw) if serde_json::from_str::<Value>(raw).is_ok_and(|v| v.is_object()) => {
            raw.to_owned()
        }
        _ => Value::from(payload.readable()).to_string(),
    };
    // Always an array, as Ruby Resque writes it: resque-web joins its lines, and node-resque
    // reads `backtrace[1]` of an array or of its own `null` alike.
    let backtrace = serde_json::to_string(&error.backtrace).expect("strings serialize");
    format!(
        "{{\"worker\":{},\"queue\":{},\"payload\":{payload},\"exception\":{},\"error\":{},\"backtrace\":{backtrace},\"failed_at\":{}}}",
        Value::from(worker),
        Value::from(queue),
        Value::from(error.exception.as_str()),
        Value::from(error.error.as_str()),
        Value::from(failed_at),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_has_node_resque_key_order_and_round_trips() {
        let entry = failed_entry(
            "h:1:q",
            "q",
            &r#"{"class":"boom","queue":"q","args":["x"]}"#.into(),
            &JobError::new("kaboom"),
            "Fri Nov 27 2026 18:35:30 GMT+0000 (Coordinated Universal Time)",
        );
        assert_eq!(
            entry,
            r#"{"worker":"h:1:q","queue":"q","payload":{"class":"boom","queue":"q","args":["x"]},"exception":"Error","error":"kaboom","backtrace":[],"failed_at":"Fri Nov 27 2026 18:35:30 GMT+0000 (Coordinated Universal Time)"}"#
        );
        let parsed: Value = serde_json::from_str(&entry).unwrap();
        assert_eq!(parsed.to_string(), entry);
        let broken = failed_entry("h:1", "q", &"{oops".into(), &JobError::new("bad"), "t");
        assert!(broken.contains(r#""payload":"{oops""#));
        let bytes = failed_entry("h:1", "q", &vec![0xff].into(), &JobError::new("bad"), "t");
        assert!(bytes.contains(r#""payload":"\\xff""#), "{bytes}");
    }
}
