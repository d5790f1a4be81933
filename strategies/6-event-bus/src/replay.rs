//! Where a replay moves a group: `--to start|OFFSET|STREAM-ID|TIME`.

use crate::event::Position;
use std::str::FromStr;

/// The target of a replay, applied to every partition (or one, when asked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayTarget {
    /// The oldest retained event.
    Start,
    /// This offset (list backend) or entry ID (Streams backend), inclusive.
    Position(Position),
    /// The first event published at or after this time (ms since the epoch).
    Time(u64),
}

/// What a replay did to one partition.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Replayed {
    pub partition: u32,
    /// Where the group stood (list backend only; `None` for a group that had not read yet).
    pub previous: Option<Position>,
    /// Where it stands now: it reads next the first event at or after this position.
    pub now: Position,
}

impl FromStr for ReplayTarget {
    type Err = String;

    /// `start`, an offset (`42`), a stream entry ID (`1764250000000-0`), or an RFC 3339
    /// time (`2026-11-27T10:00:00Z`).
    fn from_str(s: &str) -> Result<ReplayTarget, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("start") {
            return Ok(ReplayTarget::Start);
        }
        if let Ok(offset) = s.parse::<u64>() {
            return Ok(ReplayTarget::Position(Position::Offset(offset)));
        }
        if let Some((ms, seq)) = s.split_once('-') {
            if ms.parse::<u64>().is_ok() && seq.parse::<u64>().is_ok() {
                return Ok(ReplayTarget::Position(Position::StreamId(s.to_string())));
            }
        }
        match chrono::DateTime::parse_from_rfc3339(s) {
            Ok(time) => Ok(ReplayTarget::Time(time.timestamp_millis().max(0) as u64)),
            Err(_) => Err(format!(
                "`{s}` is not `start`, an offset, a stream ID (MS-SEQ) or an RFC 3339 time"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        assert_eq!("start".parse(), Ok(ReplayTarget::Start));
        assert_eq!(
            "42".parse(),
            Ok(ReplayTarget::Position(Position::Offset(42)))
        );
        assert_eq!(
            "17-3".parse(),
            Ok(ReplayTarget::Position(Position::StreamId("17-3".into())))
        );
        assert_eq!("1970-01-01T00:00:01Z".parse(), Ok(ReplayTarget::Time(1000)));
        assert!("yesterday".parse::<ReplayTarget>().is_err());
    }
}
