//! What a stream entry ID (`MS-SEQ`) says: when Redis appended the entry, and which ID
//! comes just before it (what `XGROUP SETID` needs to make a group read an entry next).

use crate::error::{LogError, Result};

/// The millisecond part of an entry ID: when Redis appended it.
pub(crate) fn millis(id: &str) -> u64 {
    id.split('-')
        .next()
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(0)
}

/// The greatest ID smaller than `id` (`0` for the smallest).
pub(crate) fn before(id: &str) -> Result<String> {
    let invalid = || LogError::Invalid(format!("`{id}` is not a stream ID (MS-SEQ)"));
    let (ms, seq) = id.split_once('-').ok_or_else(invalid)?;
    let (ms, seq): (u64, u64) = (
        ms.parse().map_err(|_| invalid())?,
        seq.parse().map_err(|_| invalid())?,
    );
    Ok(match (ms, seq) {
        (0, 0) => "0".to_string(),
        (ms, 0) => format!("{}-{}", ms - 1, u64::MAX),
        (ms, seq) => format!("{ms}-{}", seq - 1),
    })
}

#[cfg(test)]
mod tests {
    use super::before as id_before;

    #[test]
    fn the_id_before() {
        assert_eq!(id_before("5-3").unwrap(), "5-2");
        assert_eq!(id_before("5-0").unwrap(), format!("4-{}", u64::MAX));
        assert_eq!(id_before("0-0").unwrap(), "0");
    }
}
