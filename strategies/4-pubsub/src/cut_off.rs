//! Why Redis closed a subscriber's connection, as far as the subscriber can tell.
//!
//! From the subscriber's side, every way of losing the subscription looks the same: the
//! connection closes. Yet one of them is a loss nobody else sees. Redis buffers what it
//! publishes to a subscriber until the subscriber reads it, and a subscriber that reads too
//! slowly (frozen, starved of CPU) is cut off past `client-output-buffer-limit pubsub`
//! (32 MiB, or 8 MiB for 60 s, by default): everything in that buffer was counted in
//! PUBLISH's receivers, and is gone.
//!
//! A connection of its own tells that case from a restart: Redis's `run_id` names the
//! process. Read after subscribing and again once the connection closed, the same `run_id`
//! means the same Redis is still up and closed this subscriber itself. A CLIENT KILL looks
//! the same from here, and is named as the other cause.

use std::time::Duration;

/// How long a question on the side connection may take; Redis may be down.
const ASK_TIMEOUT: Duration = Duration::from_secs(1);

/// The Redis process a subscriber listens to.
pub struct RedisProcess {
    run_id: String,
    /// `CONFIG GET client-output-buffer-limit`, its `pubsub` part: `33554432 8388608 60`.
    /// `None` when this user may not read the configuration.
    pubsub_limit: Option<String>,
}

impl RedisProcess {
    /// Asks Redis which process it is, on a connection of its own (a subscribed connection
    /// can run nothing but (P)SUBSCRIBE and PING). `None` if Redis does not answer.
    pub async fn ask(client: &redis::Client) -> Option<RedisProcess> {
        tokio::time::timeout(ASK_TIMEOUT, async {
            let mut redis = client.get_multiplexed_async_connection().await.ok()?;
            let info: String = redis::cmd("INFO")
                .arg("server")
                .query_async(&mut redis)
                .await
                .ok()?;
            let run_id = info
                .lines()
                .find_map(|line| line.strip_prefix("run_id:"))?
                .trim()
                .to_string();
            let limits: Option<Vec<String>> = redis::cmd("CONFIG")
                .arg(&["GET", "client-output-buffer-limit"])
                .query_async(&mut redis)
                .await
                .ok();
            let pubsub_limit = limits.and_then(|l| pubsub_part(l.get(1)?));
            Some(RedisProcess {
                run_id,
                pubsub_limit,
            })
        })
        .await
        .ok()
        .flatten()
    }
}

/// Why a subscription to `before` (asked when it began) ended with a closed connection.
pub async fn why_closed(client: &redis::Client, before: Option<&RedisProcess>) -> String {
    match (before, RedisProcess::ask(client).await) {
        (_, None) => "the connection was closed, and Redis does not answer".to_string(),
        (Some(before), Some(now)) if before.run_id == now.run_id => {
            let limit = now.pubsub_limit.as_deref().unwrap_or("(not readable)");
            format!(
                "Redis dropped this subscriber: client-output-buffer-limit pubsub {limit} \
                 (hard bytes, soft bytes, soft seconds) cuts off a subscriber that reads too \
                 slowly, and what Redis had buffered for it is lost; Redis is still up (or \
                 someone ran CLIENT KILL, which looks the same from here)"
            )
        }
        (Some(_), Some(_)) => "Redis restarted (its run_id changed)".to_string(),
        (None, Some(_)) => "the connection was closed".to_string(),
    }
}

/// `33554432 8388608 60` out of `normal 0 0 0 slave ... pubsub 33554432 8388608 60`.
fn pubsub_part(limits: &str) -> Option<String> {
    let words: Vec<&str> = limits.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "pubsub")?;
    Some(words.get(at + 1..at + 4)?.join(" "))
}

#[cfg(test)]
mod tests {
    use super::pubsub_part;

    #[test]
    fn the_pubsub_part_of_the_limits() {
        let limits = "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60";
        assert_eq!(pubsub_part(limits).as_deref(), Some("33554432 8388608 60"));
        assert_eq!(pubsub_part("normal 0 0 0"), None);
    }
}
