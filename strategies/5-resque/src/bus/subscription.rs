//! One subscription as it sits in `bus_app:<app>`: field = its key, value = its record,
//!
//! ```text
//!  {"queue_name":"my_app_default","key":"my_app_default_userCreatedJob","class":"userCreatedJob","matcher":{"bus_event_type":"user_created"}}
//! ```
//!
//! the four fields all three implementations write and read, and the app-key rule that
//! every one of them accepts.

use super::matcher::Matcher;
use serde_json::{json, Map, Value};

/// A subscription read from Redis, its matcher compiled.
#[derive(Debug, Clone)]
pub struct Subscription {
    /// The queue its rider jobs go to (`<app>_<priority>`), used as written.
    pub queue_name: String,
    /// `bus_rider_sub_key`: the record's `key` (Ruby, Python), else the hash field (node).
    pub key: String,
    /// `bus_class_proxy` of its rider jobs: the handler's name.
    pub class: String,
    pub matcher: Matcher,
    /// The record as read (for tools that show it).
    pub record: Value,
}

impl Subscription {
    /// Reads a record that any implementation (or anything else) wrote under `field`.
    /// What no driver could use is an error saying what is wrong, never a panic.
    pub fn parse(field: &str, raw: &str) -> Result<Subscription, String> {
        let record: Value =
            serde_json::from_str(raw).map_err(|e| format!("the record is not JSON: {e}"))?;
        let Some(fields) = record.as_object() else {
            return Err("the record is not a JSON object".into());
        };
        let text = |name: &str| match fields.get(name) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            _ => Err(format!("the record has no {name:?} string")),
        };
        let matcher = match fields.get("matcher") {
            Some(Value::Object(matcher)) => Matcher::compile(matcher)?,
            _ => return Err("the record has no \"matcher\" object".into()),
        };
        Ok(Subscription {
            queue_name: text("queue_name")?,
            key: text("key").unwrap_or_else(|_| field.to_owned()),
            class: text("class")?,
            matcher,
            record: record.clone(),
        })
    }
}

/// The record node-queue-bus writes for `subscribe(app, priority, class, matcher)`, with
/// every filter stored as a string (as Ruby does; node stores numbers as numbers, and its
/// own driver then throws on them). Returns the hash field and the record's JSON.
pub fn record(
    app: &str,
    priority: &str,
    class: &str,
    matcher: &Map<String, Value>,
) -> (String, String) {
    let queue_name = format!("{app}_{priority}");
    let key = format!("{queue_name}_{class}");
    let matcher: Map<String, Value> = matcher
        .iter()
        .map(|(name, filter)| {
            let text = match filter {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (name.clone(), Value::String(text))
        })
        .collect();
    let record = json!({"queue_name": queue_name, "key": key, "class": class, "matcher": matcher});
    (key, record.to_string())
}

/// An app key (or priority) every implementation reads the same way: lower case, and each
/// character outside `[a-z0-9_]` made `_` (Ruby's rule, which its driver applies to what it
/// reads: a node app `my-app` is looked up as `my_app` there). Ruby refuses a name that is
/// only underscores, and so does this.
pub fn normalize(name: &str) -> Result<String, String> {
    let normalized: String = name
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '_') => c,
            _ => '_',
        })
        .collect();
    if normalized.chars().all(|c| c == '_') {
        return Err(format!(
            "{name:?} has no letter or digit to name an application by"
        ));
    }
    Ok(normalized)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_node_queue_bus_bytes() {
        let matcher = json!({"bus_event_type": "user_created", "n": 5});
        let (field, raw) = record(
            "my_app",
            "default",
            "userCreatedJob",
            matcher.as_object().unwrap(),
        );
        assert_eq!(field, "my_app_default_userCreatedJob");
        assert_eq!(
            raw,
            r#"{"queue_name":"my_app_default","key":"my_app_default_userCreatedJob","class":"userCreatedJob","matcher":{"bus_event_type":"user_created","n":"5"}}"#
        );
        let sub = Subscription::parse(&field, &raw).unwrap();
        assert_eq!(sub.queue_name, "my_app_default");
        assert_eq!(sub.class, "userCreatedJob");
    }

    #[test]
    fn foreign_records_read_and_broken_ones_say_why() {
        // Python's spacing, Ruby's DSL record.
        let py = r#"{"queue_name": "py_app_high", "key": "py_app_high_regexJob", "class": "regexJob", "matcher": {"bus_event_type": "(?i-mx:^user_.*)"}}"#;
        assert_eq!(
            Subscription::parse("f", py).unwrap().key,
            "py_app_high_regexJob"
        );
        let ruby = r#"{"queue_name":"ruby_app_default","key":"user_created","class":"::QueueBus::Rider","matcher":{"bus_event_type":"user_created"}}"#;
        assert_eq!(
            Subscription::parse("user_created", ruby).unwrap().class,
            "::QueueBus::Rider"
        );
        for (raw, why) in [
            ("{oops", "not JSON"),
            ("[1]", "not a JSON object"),
            (r#"{"key":"k","class":"c","matcher":{}}"#, "queue_name"),
            (r#"{"queue_name":"q","key":"k","matcher":{}}"#, "class"),
            (r#"{"queue_name":"q","key":"k","class":"c"}"#, "matcher"),
            (
                r#"{"queue_name":"q","key":"k","class":"c","matcher":{"a":"(?-mix:(?<=x)y)"}}"#,
                "regex",
            ),
        ] {
            let error = Subscription::parse("f", raw).unwrap_err();
            assert!(error.contains(why), "{raw}: {error}");
        }
    }

    #[test]
    fn app_keys_are_what_every_implementation_reads_alike() {
        assert_eq!(normalize("My App").unwrap(), "my_app");
        assert_eq!(normalize("my-app.v2").unwrap(), "my_app_v2");
        assert_eq!(normalize("offload_mailer").unwrap(), "offload_mailer");
        assert!(normalize("__").is_err());
        assert!(normalize("").is_err());
        assert_eq!(normalize("Ünïcode app").unwrap(), "_n_code_app");
    }
}
