//! The heartbeat: one `heartbeat_minutes` event per minute, whoever triggers it and however
//! many drivers run. A trigger (`QueueBus::Heartbeat` on `bus_incoming`, pushed about once
//! a minute by one process) makes a driver run this:
//!
//! ```text
//!  SETNX bus:heartbeat:lock now+62   (else GET: still valid? stop. else GETSET: won? go on)
//!  GET bus:heartbeat:timestamp  ─► for each minute m after it, up to this one:
//!      publish heartbeat_minutes {epoch_*, minute, hour, day, month, year, yday, wday}
//!      SET bus:heartbeat:timestamp m
//!  DEL bus:heartbeat:lock
//! ```
//!
//! Every minute missed while no trigger came (the scheduler was down) is published when
//! the next one comes, up to a day back, as Ruby does; node publishes one minute per
//! trigger and so stays behind for good. Losing the lock race just ends the job (node's
//! callback is then never called). Times are the worker's local time, as in Ruby and node,
//! with Sunday as day 0 (Python's Monday = 0 is one off).

use super::envelope::{self, HEARTBEAT, INCOMING_QUEUE, WORKER_CLASS};
use super::Bus;
use crate::client::Result;
use chrono::{Datelike, TimeZone, Timelike};
use redis::AsyncCommands;
use serde_json::{json, Map, Value};

/// How long a heartbeat may hold the lock (the others' value).
const LOCK_SECONDS: i64 = 62;
/// The most minutes one heartbeat publishes.
const MAX_CATCH_UP_MINUTES: i64 = 24 * 60;

impl Bus {
    /// Pushes a heartbeat trigger, as node's `publishHeartbeat` (call it about once a
    /// minute from one process; the lock makes extra calls harmless).
    pub async fn trigger_heartbeat(&self) -> Result<()> {
        let mut trigger = Map::new();
        trigger.insert("bus_event_type".into(), HEARTBEAT.into());
        envelope::set_proxy(&mut trigger, HEARTBEAT);
        self.queue
            .enqueue(INCOMING_QUEUE, WORKER_CLASS, envelope::to_args(&trigger))
            .await?;
        Ok(())
    }

    /// Publishes the minutes due at `now` (Unix seconds); returns how many. 0 when another
    /// heartbeat holds the lock.
    pub async fn heartbeat(&self, now: i64) -> Result<u32> {
        let keys = self.queue.keys();
        let mut con = self.queue.connection();
        if !self.take_heartbeat_lock(now).await? {
            return Ok(0);
        }
        let published = self.publish_due_minutes(now).await;
        let _: () = con.del(keys.bus_heartbeat_lock()).await?;
        published
    }

    async fn take_heartbeat_lock(&self, now: i64) -> Result<bool> {
        let lock = self.queue.keys().bus_heartbeat_lock();
        let mut con = self.queue.connection();
        let expiry = now + LOCK_SECONDS;
        if con.set_nx(&lock, expiry).await? {
            return Ok(true);
        }
        // Held: by a live heartbeat until its expiry, after that by nobody. Of two that
        // find it expired, GETSET lets exactly one see the old expiry.
        let held_until: Option<i64> = con.get(&lock).await?;
        if held_until.is_some_and(|until| now <= until) {
            return Ok(false);
        }
        let previous: Option<i64> = con.getset(&lock, expiry).await?;
        Ok(previous.is_none_or(|until| until < now))
    }

    async fn publish_due_minutes(&self, now: i64) -> Result<u32> {
        let stamp = self.queue.keys().bus_heartbeat_timestamp();
        let mut con = self.queue.connection();
        let current = now.div_euclid(60);
        let last: Option<i64> = con.get(&stamp).await?;
        let first = match last {
            Some(last) => (last + 1).max(current - MAX_CATCH_UP_MINUTES + 1),
            None => current,
        };
        let mut published = 0;
        for minute in first..=current {
            self.publish("heartbeat_minutes", &minute_attributes(minute))
                .await?;
            // After each minute: a heartbeat that dies half way resumes after the last one.
            let _: () = con.set(&stamp, minute).await?;
            published += 1;
        }
        Ok(published)
    }
}

/// The attributes of one minute's event, Ruby's names and order, in local time.
pub fn minute_attributes(epoch_minute: i64) -> Map<String, Value> {
    minute_attributes_in(epoch_minute, &chrono::Local)
}

fn minute_attributes_in<Tz: TimeZone>(epoch_minute: i64, zone: &Tz) -> Map<String, Value> {
    let at = zone.from_utc_datetime(
        &chrono::DateTime::from_timestamp(epoch_minute * 60, 0)
            .unwrap_or_default()
            .naive_utc(),
    );
    let value = json!({
        "epoch_seconds": epoch_minute * 60,
        "epoch_minutes": epoch_minute,
        "epoch_hours": epoch_minute.div_euclid(60),
        "epoch_days": epoch_minute.div_euclid(1440),
        "minute": at.minute(),
        "hour": at.hour(),
        "day": at.day(),
        "month": at.month(),
        "year": at.year(),
        "yday": at.ordinal(),
        "wday": at.weekday().num_days_from_sunday(),
    });
    let Value::Object(map) = value else {
        unreachable!("json! of an object")
    };
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minute_fields_match_the_reference_run() {
        // 2026-12-01 21:53 UTC, a Tuesday: node published minute 53, hour 21, wday 2.
        let attrs = minute_attributes_in(29_936_033, &chrono::Utc);
        assert_eq!(attrs["epoch_seconds"], json!(1_796_161_980));
        assert_eq!(attrs["epoch_hours"], json!(498_933));
        assert_eq!(attrs["epoch_days"], json!(20_788));
        assert_eq!(attrs["minute"], json!(53));
        assert_eq!(attrs["hour"], json!(21));
        assert_eq!(attrs["day"], json!(1));
        assert_eq!(attrs["wday"], json!(2));
        assert_eq!(attrs["yday"], json!(335));
        let east = chrono::FixedOffset::east_opt(3600).unwrap();
        assert_eq!(minute_attributes_in(29_936_033, &east)["hour"], json!(22));
    }
}
