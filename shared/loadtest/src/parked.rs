//! Mail a strategy accepted, gave up on, and left where someone can see it.
//!
//! Parked is not lost: an operator can read the failed list and retry it. Every strategy's
//! web front answers `GET /parked` with the emails it keeps that way (strategy 5's `failed`
//! list, strategy 6's dead letters, nothing for 1 to 4), so the harness asks that route and
//! never reads a strategy's own keys. A mail counts as parked when the id in its subject is
//! listed there.

use crate::load::id_from_subject;
use kit::client::HttpClient;
use serde_json::Value;
use std::collections::HashSet;
use std::time::Duration;

/// The request ids the strategy reports as parked, from `GET /parked` at `url`.
pub async fn parked_ids(url: &str) -> anyhow::Result<HashSet<u64>> {
    let answer = HttpClient::new(Duration::from_secs(10)).get(url).await?;
    anyhow::ensure!(
        answer.status == 200,
        "GET /parked answered {}: {}",
        answer.status,
        answer.json
    );
    Ok(ids_in(&answer.json))
}

/// The request ids of the emails in a `GET /parked` answer.
pub fn ids_in(answer: &Value) -> HashSet<u64> {
    answer["parked"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|email| id_from_subject(email["subject"].as_str()?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_ids_of_parked_emails() {
        let answer = json!({"count": 3, "parked": [
            {"to": "user3@example.com", "subject": "loadtest #3", "text": "hi"},
            {"to": "user9@example.com", "subject": "loadtest #9", "text": "hi"},
            {"to": "x@example.com", "subject": "not one of ours", "text": "hi"},
        ]});
        assert_eq!(ids_in(&answer), HashSet::from([3, 9]));
        assert!(ids_in(&json!({"error": "redis down"})).is_empty());
    }
}
