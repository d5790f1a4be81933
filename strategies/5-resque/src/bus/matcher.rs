//! Does an event match a subscription's `matcher`? One semantics, Ruby's (the original
//! queue-bus), with its crashes and silent misses taken out. The driver that pops an event
//! decides for every app, so this is what every subscription gets while we drive.
//!
//! Every entry must match (AND); an empty matcher matches nothing. An attribute is compared
//! by its text: a string as is, a number or a boolean as written in JSON (`5`, `true`), an
//! array or object as its JSON. A filter is one of:
//!
//! | filter                            | matches when the attribute...                        |
//! |-----------------------------------|------------------------------------------------------|
//! | `bus_special_value_key`           | is there (even `null`)                               |
//! | `bus_special_value_value`         | is there and not `null`                              |
//! | `bus_special_value_nil` / `_null` | is absent or `null`                                  |
//! | `bus_special_value_blank`         | is absent, `null`, or only whitespace                |
//! | `bus_special_value_present`       | has a non-whitespace text                            |
//! | `bus_special_value_empty`         | is there, not `null`, and its text is empty (`""`)   |
//! | `(?flags-flags:source)`           | its text contains a match of the regex (unanchored)  |
//! | anything else                     | its text equals it, or the whole text matches it as a regex |
//!
//! An absent or `null` attribute never matches a plain filter or a regex. Ruby's flags:
//! `i` ignores case, `m` lets `.` match a newline, `x` ignores whitespace; `^` and `$`
//! match at line ends, as in Ruby. A filter that is not a valid regex, or an unknown
//! `bus_special_value_*`, is an error the driver reports (it is never read as "no match").

use regex::{Regex, RegexBuilder};
use serde_json::{Map, Value};

const SPECIAL: &str = "bus_special_value_";

/// One compiled matcher: each attribute name with its filter.
#[derive(Debug, Clone)]
pub struct Matcher {
    entries: Vec<(String, Filter)>,
}

#[derive(Debug, Clone)]
enum Filter {
    Key,
    Value,
    Nil,
    Blank,
    Present,
    Empty,
    /// A `(?flags:..)` filter: found anywhere in the text.
    Regex(Regex),
    /// A plain filter: equal to the text, or matching all of it.
    Plain {
        text: String,
        whole: Regex,
    },
    /// A `null` filter (node can write one): Ruby reads it as `""`, which matches nothing.
    Never,
}

impl Matcher {
    /// Compiles a subscription's `matcher` object. Values may be strings, numbers or
    /// booleans (node and Python store what they were given); objects and arrays may not.
    pub fn compile(matcher: &Map<String, Value>) -> Result<Matcher, String> {
        let mut entries = Vec::with_capacity(matcher.len());
        for (attribute, filter) in matcher {
            let filter = match filter {
                Value::Null => Ok(Filter::Never),
                Value::String(text) => Filter::parse(text),
                Value::Number(_) | Value::Bool(_) => Filter::parse(&filter.to_string()),
                other => Err(format!("a filter must be a string, not {other}")),
            }
            .map_err(|why| format!("matcher {attribute:?}: {why}"))?;
            entries.push((attribute.clone(), filter));
        }
        Ok(Matcher { entries })
    }

    pub fn matches(&self, attributes: &Map<String, Value>) -> bool {
        !self.entries.is_empty()
            && self
                .entries
                .iter()
                .all(|(name, filter)| filter.matches(attributes.get(name)))
    }
}

impl Filter {
    fn parse(text: &str) -> Result<Filter, String> {
        if let Some(name) = text.strip_prefix(SPECIAL) {
            return Ok(match name {
                "key" => Filter::Key,
                "value" => Filter::Value,
                "nil" | "null" => Filter::Nil,
                "blank" => Filter::Blank,
                "present" => Filter::Present,
                "empty" => Filter::Empty,
                _ => return Err(format!("unknown special value {text:?}")),
            });
        }
        if let Some((flags, source)) = ruby_regex(text) {
            return Ok(Filter::Regex(build(source, flags)?));
        }
        // Ruby wraps a plain filter in `^...$`; the group keeps an alternation `a|b` whole.
        Ok(Filter::Plain {
            text: text.to_owned(),
            whole: build(&format!(r"\A(?:{text})\z"), "")?,
        })
    }

    fn matches(&self, value: Option<&Value>) -> bool {
        let absent = matches!(value, None | Some(Value::Null));
        match self {
            Filter::Key => value.is_some(),
            Filter::Value => !absent,
            Filter::Nil => absent,
            Filter::Blank => value.is_none_or(|v| text_of(v).trim().is_empty()),
            Filter::Present => value.is_some_and(|v| !text_of(v).trim().is_empty()),
            Filter::Empty => !absent && value.is_some_and(|v| text_of(v).is_empty()),
            Filter::Never => false,
            _ if absent => false,
            Filter::Regex(regex) => value.is_some_and(|v| regex.is_match(&text_of(v))),
            Filter::Plain { text, whole } => value.is_some_and(|v| {
                let value = text_of(v);
                value == *text || whole.is_match(&value)
            }),
        }
    }
}

/// Ruby's `to_s` of a JSON value: strings as they are, `null` empty, the rest as JSON.
fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `(?i-mx:source)` (Ruby's `Regexp#to_s`, node's `toRubyRegExp`): the flags turned on and
/// the source. Ruby itself only recognises `(?-mix:`; any flags are taken here.
fn ruby_regex(text: &str) -> Option<(&str, &str)> {
    let inner = text.strip_prefix("(?")?.strip_suffix(')')?;
    let (flags, source) = inner.split_once(':')?;
    let (on, off) = flags.split_once('-').unwrap_or((flags, ""));
    let is_flags = |s: &str| s.chars().all(|c| matches!(c, 'm' | 'i' | 'x'));
    (is_flags(on) && is_flags(off)).then_some((on, source))
}

/// Ruby's flags in the regex crate's words (`m` is Ruby's "dot matches newline", `s` here).
fn build(source: &str, ruby_flags: &str) -> Result<Regex, String> {
    RegexBuilder::new(source)
        .multi_line(true)
        .case_insensitive(ruby_flags.contains('i'))
        .dot_matches_new_line(ruby_flags.contains('m'))
        .ignore_whitespace(ruby_flags.contains('x'))
        .build()
        .map_err(|e| format!("not a regex this driver can run: {e}"))
}

/// A regex as a filter string, in the form every implementation reads back:
/// `regex_filter("^user_", "i")` is `(?i-mx:^user_)`.
pub fn regex_filter(source: &str, flags: &str) -> String {
    let on: String = "mix".chars().filter(|c| flags.contains(*c)).collect();
    let off: String = "mix".chars().filter(|c| !flags.contains(*c)).collect();
    if off.is_empty() {
        format!("(?{on}:{source})")
    } else {
        format!("(?{on}-{off}:{source})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn matches(filter: Value, event: Value) -> bool {
        let matcher = json!({ "f": filter });
        Matcher::compile(matcher.as_object().unwrap())
            .unwrap()
            .matches(event.as_object().unwrap())
    }

    /// Every special value against the event values of the reference's matrix: absent,
    /// null, "", "  ", "x", 5, false. Where node or Python disagree, the comment says so.
    #[test]
    fn special_values_follow_ruby() {
        let events = [
            json!({}),
            json!({ "f": null }),
            json!({ "f": "" }),
            json!({ "f": "  " }),
            json!({ "f": "x" }),
            json!({ "f": 5 }),
            json!({ "f": false }),
        ];
        // Per special value, the events above it matches (1) or not (0).
        let table = [
            // key: node says "not null" (null: no), Ruby "the key is there" (null: yes).
            ("key", [0, 1, 1, 1, 1, 1, 1]),
            // value: not null. node throws on 5 and false; here they are values.
            ("value", [0, 0, 1, 1, 1, 1, 1]),
            // nil: node/Python only absent; Ruby and here, absent or null.
            ("nil", [1, 1, 0, 0, 0, 0, 0]),
            // null: Ruby has none (a literal); node/Python absent only; here the same as nil.
            ("null", [1, 1, 0, 0, 0, 0, 0]),
            ("blank", [1, 1, 1, 1, 0, 0, 0]),
            // present: node throws on 5 and false; here their text is non-blank.
            ("present", [0, 0, 0, 0, 1, 1, 1]),
            // empty: node/Python mean "null"; Ruby and here, the empty string.
            ("empty", [0, 0, 1, 0, 0, 0, 0]),
        ];
        for (name, expected) in table {
            for (event, want) in events.iter().zip(expected) {
                assert_eq!(
                    matches(json!(format!("bus_special_value_{name}")), event.clone()),
                    want == 1,
                    "{name} vs {event}"
                );
            }
        }
    }

    #[test]
    fn plain_filters_are_anchored_and_compare_text() {
        // Equal, or the whole text matches: node and Python also match a part.
        assert!(matches(json!("user_created"), json!({"f": "user_created"})));
        assert!(!matches(
            json!("user_created"),
            json!({"f": "user_created_v2"})
        ));
        assert!(!matches(
            json!("user_created"),
            json!({"f": "xuser_created"})
        ));
        // Regex metacharacters are live in a plain filter, as in every implementation.
        assert!(matches(json!("user_.*"), json!({"f": "user_created"})));
        assert!(matches(json!("a|b"), json!({"f": "b"})));
        assert!(
            !matches(json!("a|b"), json!({"f": "xb"})),
            "Ruby's ^a|b$ would"
        );
        // Numbers compare as text: node never matches 0 and throws on 5.
        assert!(matches(json!("0"), json!({"f": 0})));
        assert!(matches(json!("5"), json!({"f": 5})));
        assert!(
            matches(json!(5), json!({"f": 5})),
            "a number filter as node stores it"
        );
        assert!(matches(json!("false"), json!({"f": false})));
        // Absent or null never matches, not even `.*` (Ruby matches "" against it).
        assert!(!matches(json!(".*"), json!({})));
        assert!(!matches(json!(".*"), json!({"f": null})));
        assert!(matches(json!(".*"), json!({"f": ""})));
        assert!(!matches(json!(null), json!({"f": ""})));
    }

    #[test]
    fn ruby_regexes_are_unanchored_with_any_flags() {
        assert!(matches(
            json!("(?-mix:^user_)"),
            json!({"f": "user_created"})
        ));
        assert!(!matches(json!("(?-mix:^user_)"), json!({"f": "my_user_x"})));
        assert!(matches(json!("(?-mix:user)"), json!({"f": "my_user_x"})));
        // Flagged forms are regexes too (Ruby wraps them in ^...$ and misses these).
        assert!(matches(
            json!("(?i-mx:user)"),
            json!({"f": "my_USER_thing"})
        ));
        assert!(!matches(
            json!("(?-mix:user)"),
            json!({"f": "my_USER_thing"})
        ));
        // Ruby's m: dot matches newline (JS and Python read it as multi-line).
        assert!(matches(json!("(?m-ix:a.b)"), json!({"f": "a\nb"})));
        assert!(!matches(json!("(?-mix:a.b)"), json!({"f": "a\nb"})));
        // Ruby's x (node throws on it): whitespace in the source is ignored.
        assert!(matches(json!("(?x-mi:f o o)"), json!({"f": "foo"})));
        // ^ and $ are line anchors, as in Ruby.
        assert!(matches(json!("(?-mix:^b$)"), json!({"f": "a\nb"})));
        assert_eq!(regex_filter("^user_", "i"), "(?i-mx:^user_)");
        assert_eq!(regex_filter("^user_", ""), "(?-mix:^user_)");
        assert_eq!(regex_filter("a", "mix"), "(?mix:a)");
    }

    #[test]
    fn every_entry_must_match_and_empty_matches_nothing() {
        let matcher =
            json!({"bus_event_type": "user_created", "email": "bus_special_value_present"});
        let m = Matcher::compile(matcher.as_object().unwrap()).unwrap();
        assert!(m.matches(
            json!({"bus_event_type": "user_created", "email": "a@b"})
                .as_object()
                .unwrap()
        ));
        assert!(!m.matches(
            json!({"bus_event_type": "user_created"})
                .as_object()
                .unwrap()
        ));
        let empty = Matcher::compile(&Map::new()).unwrap();
        assert!(!empty.matches(json!({"a": 1}).as_object().unwrap()));
    }

    #[test]
    fn filters_that_cannot_run_are_errors_not_misses() {
        for bad in [
            json!("(?-mix:(?=look)ahead)"),
            json!("(unclosed"),
            json!("bus_special_value_maybe"),
            json!({"nested": 1}),
            json!([1]),
        ] {
            let matcher = json!({ "f": bad });
            let error = Matcher::compile(matcher.as_object().unwrap()).unwrap_err();
            assert!(error.starts_with("matcher \"f\""), "{error}");
        }
    }
}
