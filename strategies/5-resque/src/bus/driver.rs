//! The driver: an event taken from `bus_incoming` becomes one rider job per matching
//! subscription, on that subscription's queue.
//!
//! ```text
//!  SMEMBERS bus_apps ─► HGETALL bus_app:<app> for each (one round trip)
//!  match the event against every subscription (matcher.rs)
//!  MULTI  SADD queues <q> + RPUSH queue:<q> <rider job>  ...one pair per match...  EXEC
//! ```
//!
//! The fan-out is one transaction: a driver killed while driving has pushed the riders of
//! every match or of none. None: the event is lost for every app, seen as the driver's
//! `Worker Timeout` in `failed` (with `--reliable`, put back and driven again). All, but
//! killed before its outcome was recorded: with `--reliable` the event is driven again and
//! every app gets it twice; never one app twice and another not at all.

use super::envelope;
use super::subscription::Subscription;
use super::Bus;
use crate::wire::JobError;
use serde_json::{json, Map, Value};

/// The fields the driver writes on each rider job. An event that already carries them (a
/// handler that published again what it was given) does not override them: the rider
/// must run the subscription that matched now, not the one that matched before.
const RIDER_FIELDS: [&str; 6] = [
    "bus_driven_at",
    "bus_rider_queue",
    "bus_rider_app_key",
    "bus_rider_sub_key",
    "bus_rider_class_name",
    "bus_class_proxy",
];

impl Bus {
    /// Drives one event. Returns the queues it went to (node-resque's result for a driver
    /// job). A subscription that cannot be read or run (a foreign client wrote something
    /// this driver does not understand) does not stop the others: the event goes to every
    /// usable match, and then the job fails, permanently, naming what was skipped, so the
    /// `failed` list shows it once per event.
    pub(crate) async fn drive(&self, event: &Map<String, Value>) -> Result<Value, JobError> {
        // 1. The subscriptions as they are now: whoever subscribed since the event was
        //    published gets it; whoever unsubscribed does not. Not reading them is a plain
        //    failure (Redis away): nothing was pushed, so a retry cannot duplicate.
        let subscriptions = self
            .subscriptions()
            .await
            .map_err(|e| JobError::named("BusError", format!("reading subscriptions: {e}")))?;
        // 2. Match in memory. One subscription nobody can use must not cost the others
        //    their event: it is set aside, to be named at the end.
        let now = chrono::Utc::now().timestamp();
        let mut riders = Vec::new();
        let mut unusable = Vec::new();
        // workshop 5.3: solution begin
        // Every match gets its own rider: this is what makes it a bus and not a queue.
        for (app, subs) in &subscriptions {
            for (field, sub) in subs {
                match sub {
                    Ok(sub) if sub.matcher.matches(event) => {
                        riders.push((sub.queue_name.clone(), rider(event, app, sub, now)));
                    }
                    Ok(_) => {}
                    Err(why) => unusable.push(format!("{app}/{field}: {why}")),
                }
            }
        }
        // workshop 5.3: solution end
        // workshop 5.3: starter
        // // Like any Resque job, the event goes to one taker: the first subscription
        // // that matches.
        // 'first_match: for (app, subs) in &subscriptions {
        //     for (field, sub) in subs {
        //         match sub {
        //             Ok(sub) if sub.matcher.matches(event) => {
        //                 riders.push((sub.queue_name.clone(), rider(event, app, sub, now)));
        //                 break 'first_match;
        //             }
        //             Ok(_) => {}
        //             Err(why) => unusable.push(format!("{app}/{field}: {why}")),
        //         }
        //     }
        // }
        // workshop 5.3: starter end
        // 3. Every rider job in one MULTI: Redis runs all of them or none, so a driver that
        //    dies here leaves no event delivered to some apps and not to others.
        if !riders.is_empty() {
            let keys = self.queue.keys();
            let mut pipe = redis::pipe();
            pipe.atomic();
            for (queue, attributes) in &riders {
                pipe.sadd(keys.queues(), queue).ignore();
                pipe.rpush(keys.queue(queue), envelope::encode(queue, attributes))
                    .ignore();
            }
            let _: () = pipe
                .query_async(&mut self.queue.connection())
                .await
                .map_err(|e| JobError::named("BusError", format!("pushing riders: {e}")))?;
        }
        // 4. The job's outcome: the queues (node-resque's answer), or a permanent failure
        //    that names what was skipped; permanent, as Retry would drive the event again
        //    and give every app that got it a second copy.
        let queues: Vec<&str> = riders.iter().map(|(q, _)| q.as_str()).collect();
        if unusable.is_empty() {
            return Ok(json!(queues));
        }
        Err(JobError::named(
            "BusSubscriptionError",
            format!(
                "delivered to {queues:?}; skipped {} unusable subscription(s): {} \
                 (retrying this entry drives the event again, to every app)",
                unusable.len(),
                unusable.join("; ")
            ),
        )
        .permanent())
    }
}

/// A rider job's attributes: the driver's fields, then the event, then the proxy.
fn rider(
    event: &Map<String, Value>,
    app: &str,
    sub: &Subscription,
    now: i64,
) -> Map<String, Value> {
    let mut attributes = Map::new();
    attributes.insert("bus_driven_at".into(), now.into());
    attributes.insert("bus_rider_queue".into(), sub.queue_name.clone().into());
    attributes.insert("bus_rider_app_key".into(), app.into());
    attributes.insert("bus_rider_sub_key".into(), sub.key.clone().into());
    attributes.insert("bus_rider_class_name".into(), sub.class.clone().into());
    attributes.insert(
        "bus_event_type".into(),
        event.get("bus_event_type").cloned().unwrap_or(Value::Null),
    );
    for (name, value) in event {
        if !RIDER_FIELDS.contains(&name.as_str()) {
            attributes.insert(name.clone(), value.clone());
        }
    }
    envelope::set_proxy(&mut attributes, &sub.class);
    attributes
}
