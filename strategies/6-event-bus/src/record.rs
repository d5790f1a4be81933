//! What a consumer gets: an event and where it sits.

use crate::event::{Event, Position};

/// One event as read by a consumer group.
#[derive(Debug, Clone)]
pub struct Record {
    pub partition: u32,
    pub position: Position,
    /// The event as stored. Kept so that an event the consumer cannot decode can still be
    /// parked in the dead letters exactly as it was.
    pub raw: String,
    /// `None` when `raw` is not a valid event (it is dead-lettered, never retried).
    pub event: Option<Event>,
}

impl Record {
    pub(crate) fn decode(partition: u32, position: Position, raw: String) -> Record {
        let event = serde_json::from_str(&raw).ok();
        Record {
            partition,
            position,
            raw,
            event,
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
