//! Mail a strategy accepted, gave up on, and left where someone can see it.
//!
//! Parked is not lost: an operator can read the failed list and retry it. The harness counts
//! a mail as parked when the id in its subject appears in the strategy's failed list.

use crate::catalog::Parked;
use crate::load::id_from_subject;
use serde_json::Value;
use std::collections::HashSet;

/// Resque's list of failed jobs: one JSON entry per failure, the job under `payload`.
pub const RESQUE_FAILED: &str = "resque:failed";

/// The request ids in the strategy's failed list.
pub async fn parked_ids(source: Parked, redis_url: Option<&str>) -> anyhow::Result<HashSet<u64>> {
    match source {
        Parked::Nowhere => Ok(HashSet::new()),
        Parked::ResqueFailed => {
            let url = redis_url.ok_or_else(|| anyhow::anyhow!("Resque runs on Redis"))?;
            let client = redis::Client::open(url)?;
            let mut connection = client.get_multiplexed_async_connection().await?;
            let entries: Vec<String> = redis::cmd("LRANGE")
                .arg(RESQUE_FAILED)
                .arg(0)
                .arg(-1)
                .query_async(&mut connection)
                .await?;
            Ok(entries.iter().filter_map(|e| resque_failed_id(e)).collect())
        }
        // Strategy 6 parks a mail by moving its event to a dead-letter list that its own
        // library owns; the harness reads it through that library's listing function once the
        // strategy exposes one. Until then nothing is counted as parked for strategy 6, so any
        // mail of it that never arrived is reported as lost.
        Parked::EventLogDeadLetters => Ok(HashSet::new()),
    }
}

/// The request id of one `resque:failed` entry: the email is the job's first argument.
pub fn resque_failed_id(entry: &str) -> Option<u64> {
    let entry: Value = serde_json::from_str(entry).ok()?;
    let email = &entry["payload"]["args"][0];
    id_from_subject(email["subject"].as_str()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_email_of_a_failed_resque_job() {
        let entry = r#"{"worker":"host:1:mailer","queue":"mailer","payload":{"class":"SendEmail","queue":"mailer","args":[{"to":"user3@example.com","subject":"loadtest #3","text":"hi"}]},"exception":"SendError","error":"451","backtrace":[],"failed_at":"Fri Nov 27 2026 10:00:00 GMT+0000"}"#;
        assert_eq!(resque_failed_id(entry), Some(3));
        assert_eq!(resque_failed_id(r#"{"payload":{"args":[]}}"#), None);
        assert_eq!(resque_failed_id("not json"), None);
    }
}
