//! A job on the wire: `{"class":..,"queue":..,"args":[..]}`, written byte for byte as
//! node-resque's `JSON.stringify` writes it, and read in any of the three shapes in use
//! (node-resque's, Ruby Resque's without `queue`, resque-scheduler's `class,args,queue`).

use super::payload::Payload;
use serde_json::{Map, Value};

/// A job read from Redis. `raw` keeps the exact bytes that were popped: byte-matching
/// commands (`LREM`, the failed entry's payload) need them, not a re-encoding.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub class: String,
    /// Absent in jobs written by Ruby Resque.
    pub queue: Option<String>,
    pub args: Vec<Value>,
    pub raw: String,
}

/// Why a popped payload is not a job.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("payload is not UTF-8: {0}")]
    NotUtf8(std::str::Utf8Error),
    #[error("payload is not JSON: {0}")]
    NotJson(String),
    #[error("payload has no \"class\" string")]
    NoClass,
}

/// node-resque's `Queue.encode`: class, queue, args, compact. serde_json writes strings,
/// integers and objects (in insertion order) as `JSON.stringify` does: no escaped `/`,
/// UTF-8 as is.
pub fn encode(queue: &str, class: &str, args: &[Value]) -> String {
    let mut out = String::with_capacity(48 + class.len() + queue.len());
    out.push_str("{\"class\":");
    out.push_str(&Value::from(class).to_string());
    out.push_str(",\"queue\":");
    out.push_str(&Value::from(queue).to_string());
    out.push_str(",\"args\":");
    out.push_str(&serde_json::to_string(args).expect("JSON values always serialize"));
    out.push('}');
    out
}

/// node-resque's `arrayify`: one non-array argument becomes a one-element list.
pub fn arrayify(args: Value) -> Vec<Value> {
    match args {
        Value::Array(list) => list,
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

impl Job {
    pub fn new(queue: &str, class: &str, args: Vec<Value>) -> Job {
        let raw = encode(queue, class, &args);
        Job {
            class: class.to_owned(),
            queue: Some(queue.to_owned()),
            args,
            raw,
        }
    }

    /// Reads a popped payload: text first (a queue may hold any bytes), then a job.
    pub fn from_payload(payload: &Payload) -> Result<Job, DecodeError> {
        Job::decode(payload.text().map_err(DecodeError::NotUtf8)?)
    }

    /// Reads any known shape. Extra keys are ignored; a missing or non-array `args` is
    /// taken the way node-resque would pass it to `perform`.
    pub fn decode(raw: &str) -> Result<Job, DecodeError> {
        let value: Value =
            serde_json::from_str(raw).map_err(|e| DecodeError::NotJson(e.to_string()))?;
        let Value::Object(mut map) = value else {
            return Err(DecodeError::NoClass);
        };
        let class = match map.remove("class") {
            Some(Value::String(class)) => class,
            _ => return Err(DecodeError::NoClass),
        };
        let queue = match map.remove("queue") {
            Some(Value::String(queue)) => Some(queue),
            _ => None,
        };
        let args = arrayify(map.remove("args").unwrap_or(Value::Null));
        Ok(Job {
            class,
            queue,
            args,
            raw: raw.to_owned(),
        })
    }

    /// The job as a JSON object (class, queue, args), for admin answers and events.
    pub fn to_value(&self) -> Value {
        let mut map = Map::new();
        map.insert("class".into(), self.class.clone().into());
        if let Some(queue) = &self.queue {
            map.insert("queue".into(), queue.clone().into());
        }
        map.insert("args".into(), Value::Array(self.args.clone()));
        Value::Object(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn encodes_like_json_stringify() {
        assert_eq!(
            encode("math", "add", &[json!(1), json!(2)]),
            r#"{"class":"add","queue":"math","args":[1,2]}"#
        );
        assert_eq!(
            encode(
                "emailQueue",
                "sendEmail",
                &[json!({"to":"a/b@x.é","subject":"s","text":"t"})]
            ),
            r#"{"class":"sendEmail","queue":"emailQueue","args":[{"to":"a/b@x.é","subject":"s","text":"t"}]}"#
        );
        assert_eq!(
            encode("q", "f", &[]),
            r#"{"class":"f","queue":"q","args":[]}"#
        );
    }

    #[test]
    fn decodes_all_three_shapes_and_extra_keys() {
        for raw in [
            r#"{"class":"add","queue":"math","args":[1,2]}"#,
            r#"{"class":"add","args":[1,2]}"#,
            r#"{"class":"add","args":[1,2],"queue":"math","jid":"x"}"#,
        ] {
            let job = Job::decode(raw).unwrap();
            assert_eq!(job.class, "add");
            assert_eq!(job.args, vec![json!(1), json!(2)]);
            assert_eq!(job.raw, raw);
        }
        assert!(matches!(Job::decode("{nope"), Err(DecodeError::NotJson(_))));
        assert_eq!(Job::decode(r#"{"args":[]}"#), Err(DecodeError::NoClass));
        assert_eq!(
            Job::decode(r#"{"class":"x","args":5}"#).unwrap().args,
            vec![json!(5)]
        );
    }
}
