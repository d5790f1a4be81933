//! The working-on key, `worker:NAME:QUEUES`: what a worker is running right now, as
//! node-resque writes it. resque-web shows it, and a dead worker's key is how its lost job is
//! found (it becomes a `Worker Timeout` failed entry).
//!
//! `work.lua` writes the same value in Lua for the jobs it takes; this is the Rust form, for a
//! job taken by the blocking pop.

use super::payload::Payload;
use serde_json::Value;

/// node-resque's working-on value, with the payload embedded as popped when it is JSON (as
/// a string, escaped where it is not UTF-8, when it is not).
pub fn working_on(run_at: &str, queue: &str, worker: &str, payload: &Payload) -> String {
    let body = match payload.text() {
        Ok(raw) if serde_json::from_str::<Value>(raw).is_ok() => raw.to_owned(),
        _ => Value::from(payload.readable()).to_string(),
    };
    format!(
        "{{\"run_at\":{},\"queue\":{},\"worker\":{},\"payload\":{body}}}",
        Value::from(run_at),
        Value::from(queue),
        Value::from(worker)
    )
}
