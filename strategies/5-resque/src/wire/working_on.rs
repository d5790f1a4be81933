//! The working-on key, `worker:NAME:QUEUES`: what a worker is running right now, as
//! node-resque writes it. resque-web shows it, and a dead worker's key is how its lost job is
//! found (it becomes a `Worker Timeout` failed entry).
//!
//! `work.lua` writes the same value in Lua for the jobs it takes; this is the Rust form, for a
//! job taken by the blocking pop.

use serde_json::Value;

/// node-resque's working-on value, with the payload embedded as popped.
pub fn working_on(run_at: &str, queue: &str, worker: &str, payload: &str) -> String {
    let body = if serde_json::from_str::<Value>(payload).is_ok() {
        payload.to_owned()
    } else {
        Value::from(payload).to_string()
    };
    format!(
        "{{\"run_at\":{},\"queue\":{},\"worker\":{},\"payload\":{body}}}",
        Value::from(run_at),
        Value::from(queue),
        Value::from(worker)
    )
}
