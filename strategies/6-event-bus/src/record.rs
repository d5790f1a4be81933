//! What a consumer gets: an event and where it sits.

use crate::event::{Event, Position};
use std::borrow::Cow;

/// One event as read by a consumer group.
#[derive(Debug, Clone)]
pub struct Record {
    pub partition: u32,
    pub position: Position,
    /// The entry's bytes as stored. Bytes, not a `String`: anything can write to a Redis key
    /// (a tool, another program), and an entry that is not UTF-8 must still reach the
    /// consumer, to be parked in the dead letters as it was, rather than fail the read of
    /// its whole batch.
    pub raw: Vec<u8>,
    /// `None` when `raw` is not a valid event (it is dead-lettered, never retried).
    pub event: Option<Event>,
}

impl Record {
    pub(crate) fn decode(partition: u32, position: Position, raw: Vec<u8>) -> Record {
        let event = serde_json::from_slice(&raw).ok();
        Record {
            partition,
            position,
            raw,
            event,
        }
    }

    /// The event, or why the stored bytes are not one (the dead letter's `error`).
    pub fn decoded(&self) -> Result<&Event, &'static str> {
        match (&self.event, std::str::from_utf8(&self.raw)) {
            (Some(event), _) => Ok(event),
            (None, Err(_)) => Err("the stored event is not UTF-8"),
            (None, Ok(_)) => Err("the stored event is not valid event JSON"),
        }
    }

    /// `raw` as text: as stored when it is UTF-8, else every byte that is not printable
    /// ASCII escaped (`\xff`), so that nothing of it is lost on the way to a JSON string.
    pub fn raw_text(&self) -> Cow<'_, str> {
        match std::str::from_utf8(&self.raw) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => Cow::Owned(self.raw.escape_ascii().to_string()),
        }
    }

    /// The list backend's offset (the Streams backend has IDs instead).
    pub fn offset(&self) -> Option<u64> {
        match self.position {
            Position::Offset(o) => Some(o),
            Position::StreamId(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(raw: &[u8]) -> Record {
        Record::decode(0, Position::Offset(0), raw.to_vec())
    }

    #[test]
    fn bytes_that_are_not_an_event_say_why_and_keep_every_byte() {
        assert_eq!(
            record(b"\xff\xfe").decoded().unwrap_err(),
            "the stored event is not UTF-8"
        );
        assert_eq!(record(b"\xff\xfe").raw_text(), "\\xff\\xfe");
        assert_eq!(
            record(b"hello").decoded().unwrap_err(),
            "the stored event is not valid event JSON"
        );
        assert_eq!(record(b"hello").raw_text(), "hello");
    }
}
