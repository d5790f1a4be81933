//! Subscribing and unsubscribing an application, node-queue-bus's way: one `HSET` per
//! subscription into `bus_app:<app>` and `SADD bus_apps <app>`. That merges into what is
//! there, so every server may subscribe again at boot (Ruby instead replaces the whole
//! hash with a `RENAME`: two code bases must not share one app key).

use super::subscription::{self, Subscription};
use super::Bus;
use crate::client::{QueueError, Result};
use redis::AsyncCommands;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// One application's subscriptions as read: each field with its record, or why the record
/// is unusable.
pub type AppSubscriptions = BTreeMap<String, std::result::Result<Subscription, String>>;

/// Drops the app's key from `bus_apps` once its hash is empty, in one step: a subscribe
/// that comes in between is not lost (node and Python check and delete in two).
const FORGET_IF_EMPTY: &str = r"
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('SREM', KEYS[1], ARGV[1])
  return 1
end
return 0";

impl Bus {
    /// Subscribes `app` (normalized, see [`subscription::normalize`]) to events matching
    /// `matcher`, handled by `class` on queue `<app>_<priority>`. Returns that queue.
    /// A matcher this driver could not run is refused here, not found out by every event.
    pub async fn subscribe(
        &self,
        app: &str,
        priority: &str,
        class: &str,
        matcher: &Map<String, Value>,
    ) -> Result<String> {
        let app = subscription::normalize(app).map_err(QueueError::Invalid)?;
        let priority = subscription::normalize(priority).map_err(QueueError::Invalid)?;
        if class.is_empty() || matcher.is_empty() {
            return Err(QueueError::Invalid(
                "a subscription needs a class and a non-empty matcher".into(),
            ));
        }
        let (field, record) = subscription::record(&app, &priority, class, matcher);
        let parsed = Subscription::parse(&field, &record).map_err(QueueError::Invalid)?;
        let keys = self.queue.keys();
        let _: () = redis::pipe()
            .atomic()
            .hset(keys.bus_app(&app), &field, &record)
            .ignore()
            .sadd(keys.bus_apps(), &app)
            .ignore()
            .query_async(&mut self.queue.connection())
            .await?;
        Ok(parsed.queue_name)
    }

    /// Removes one subscription; the app leaves `bus_apps` with its last one.
    pub async fn unsubscribe(&self, app: &str, priority: &str, class: &str) -> Result<bool> {
        let app = subscription::normalize(app).map_err(QueueError::Invalid)?;
        let priority = subscription::normalize(priority).map_err(QueueError::Invalid)?;
        let keys = self.queue.keys();
        let field = format!("{app}_{priority}_{class}");
        let removed: usize = self
            .queue
            .connection()
            .hdel(keys.bus_app(&app), &field)
            .await?;
        let _: i64 = redis::Script::new(FORGET_IF_EMPTY)
            .key(keys.bus_apps())
            .key(keys.bus_app(&app))
            .arg(&app)
            .invoke_async(&mut self.queue.connection())
            .await?;
        Ok(removed > 0)
    }

    /// Removes every subscription of `app` (`SREM` + `DEL`, as all three do).
    pub async fn unsubscribe_all(&self, app: &str) -> Result<()> {
        let app = subscription::normalize(app).map_err(QueueError::Invalid)?;
        let keys = self.queue.keys();
        let _: () = redis::pipe()
            .atomic()
            .srem(keys.bus_apps(), &app)
            .ignore()
            .del(keys.bus_app(&app))
            .ignore()
            .query_async(&mut self.queue.connection())
            .await?;
        Ok(())
    }

    /// The members of `bus_apps`, as written (sorted).
    pub async fn apps(&self) -> Result<Vec<String>> {
        let mut apps: Vec<String> = self
            .queue
            .connection()
            .smembers(self.queue.keys().bus_apps())
            .await?;
        apps.sort();
        Ok(apps)
    }

    /// Every app's subscriptions, read the way the driver reads them: each member of
    /// `bus_apps` as it is written (node's `my-app` is read from `bus_app:my-app`, not, as
    /// Ruby does, from `bus_app:my_app`), all hashes in one round trip. An app whose key
    /// is not a hash shows as one unusable entry under the field `""`.
    pub async fn subscriptions(&self) -> Result<BTreeMap<String, AppSubscriptions>> {
        let apps = self.apps().await?;
        if apps.is_empty() {
            return Ok(BTreeMap::new());
        }
        let keys = self.queue.keys();
        let mut pipe = redis::pipe();
        for app in &apps {
            pipe.hgetall(keys.bus_app(app));
        }
        let mut con = self.queue.connection();
        type Hash = std::result::Result<BTreeMap<String, String>, String>;
        let hashes: Vec<Hash> = match pipe
            .query_async::<Vec<BTreeMap<String, String>>>(&mut con)
            .await
        {
            Ok(hashes) => hashes.into_iter().map(Ok).collect(),
            // One key of the wrong type (Redis answered, with an error) fails the whole
            // pipeline: read them one by one, so the other apps still get their events.
            Err(e) if !(e.is_io_error() || e.is_connection_dropped() || e.is_timeout()) => {
                let mut hashes = Vec::with_capacity(apps.len());
                for app in &apps {
                    let hash: redis::RedisResult<BTreeMap<String, String>> =
                        con.hgetall(keys.bus_app(app)).await;
                    hashes.push(
                        hash.map_err(|e| format!("{} is not a hash: {e}", keys.bus_app(app))),
                    );
                }
                hashes
            }
            Err(e) => return Err(e.into()),
        };
        Ok(apps
            .into_iter()
            .zip(hashes)
            .map(|(app, hash)| {
                let subs = match hash {
                    Ok(hash) => hash
                        .into_iter()
                        .map(|(field, raw)| {
                            let sub = self.parse_cached(&field, &raw);
                            (field, sub)
                        })
                        .collect(),
                    Err(why) => BTreeMap::from([(String::new(), Err(why))]),
                };
                (app, subs)
            })
            .collect())
    }
}
