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
        // Strategy 6 parks an event it gave up on in its group's dead letters; its library
        // lists them (the strategy runs with its default log layout, so the default config).
        Parked::EventLogDeadLetters { group } => {
            let url = redis_url.ok_or_else(|| anyhow::anyhow!("the event log runs on Redis"))?;
            let connector = strategy_6::Connector::from_url(url, false);
            let log = strategy_6::Log::connect(connector, strategy_6::LogConfig::default()).await?;
            let letters = log.dead_letters(group).await?;
            Ok(letters.iter().filter_map(dead_letter_id).collect())
        }
    }
}

/// The request id of one dead letter: the email is the event's payload.
pub fn dead_letter_id(letter: &strategy_6::DeadLetter) -> Option<u64> {
    id_from_subject(letter.event["payload"]["subject"].as_str()?)
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

    #[test]
    fn reads_the_email_of_a_dead_letter() {
        let letter: strategy_6::DeadLetter = serde_json::from_str(
            r#"{"group":"mailer","partition":2,"offset":17,"attempts":5,"error":"451","failed_at":1,
                "event":{"id":"2-17","type":"emailEvent","key":"user9@example.com","published_at":1,
                         "payload":{"to":"user9@example.com","subject":"loadtest #9","text":"hi"}}}"#,
        )
        .unwrap();
        assert_eq!(dead_letter_id(&letter), Some(9));
    }
}
