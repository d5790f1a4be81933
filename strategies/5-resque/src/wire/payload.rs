//! A payload as it came off a queue: bytes.
//!
//! Every Resque client writes UTF-8 JSON, but a queue is a Redis list and any client can
//! push any bytes onto it (`printf '\xff' | redis-cli -x rpush resque:queue:q`). So the
//! worker reads bytes, never text: a reply that had to be text would fail to convert *after*
//! Redis had already handed the job over, and the job would be gone with the error. The
//! exact bytes are kept because recording the outcome finds the job by them (`LREM` from
//! the processing list); a person is shown them as text, with what is not UTF-8 escaped.

use std::borrow::Cow;
use std::fmt;

/// The bytes of a popped job, exactly as Redis held them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload(Vec<u8>);

impl Payload {
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The payload as text, if it is UTF-8 (as every Resque client writes it).
    pub fn text(&self) -> Result<&str, std::str::Utf8Error> {
        std::str::from_utf8(&self.0)
    }

    /// For a person: the text itself, or, for bytes that are not UTF-8, the bytes escaped
    /// (`\xff\xfe`), so that a log line or a failed entry shows what was there.
    pub fn readable(&self) -> Cow<'_, str> {
        match self.text() {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => Cow::Owned(self.0.escape_ascii().to_string()),
        }
    }
}

impl fmt::Display for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.readable())
    }
}

impl From<Vec<u8>> for Payload {
    fn from(bytes: Vec<u8>) -> Payload {
        Payload(bytes)
    }
}

impl From<String> for Payload {
    fn from(text: String) -> Payload {
        Payload(text.into_bytes())
    }
}

impl From<&str> for Payload {
    fn from(text: &str) -> Payload {
        Payload(text.as_bytes().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_stays_text_and_other_bytes_are_escaped() {
        let job = Payload::from(r#"{"class":"é"}"#);
        assert_eq!(job.readable(), r#"{"class":"é"}"#);
        let bytes = Payload::from(vec![0xff, 0xfe, b'a']);
        assert!(bytes.text().is_err());
        assert_eq!(bytes.to_string(), r"\xff\xfea");
    }
}
