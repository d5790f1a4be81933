//! Sharing a group's partitions among its members, Kafka-style: each partition is owned by
//! at most one member at a time, so events of one partition are handled in order and never
//! by two members at once.
//!
//! * A [`Lease`] is a key `{events:P}:lease:GROUP` holding the owner's member id with an
//!   expiry (`lua/lease.lua`). The owner renews it in the background; if the owner dies,
//!   it expires and another member takes the partition over. The read and commit scripts
//!   check it, so a member that lost its lease cannot commit over the new owner.
//! * [`Membership`] counts the live members of the group (`lua/heartbeat.lua`) so each
//!   takes its fair share, `ceil(partitions / members)`, and gives back what is above it:
//!   a second consumer that joins gets half the partitions, without a coordinator.

use crate::connection::RedisConn;
use crate::error::Result;
use crate::keys::Keys;
use crate::scripts;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A held lease on one partition for one group member, renewed every third of its time.
pub struct Lease {
    conn: RedisConn,
    key: String,
    member: String,
    lost: Arc<AtomicBool>,
    renewer: tokio::task::JoinHandle<()>,
}

impl Lease {
    /// Takes the lease if it is free (or already ours). `None`: another member holds it.
    pub async fn acquire(
        conn: &RedisConn,
        keys: &Keys,
        group: &str,
        partition: u32,
        member: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>> {
        let key = keys.lease(partition, group);
        if !take(&mut conn.clone(), &key, member, ttl).await? {
            return Ok(None);
        }
        let lost = Arc::new(AtomicBool::new(false));
        let renewer = tokio::spawn(renew(
            conn.clone(),
            key.clone(),
            member.to_string(),
            ttl,
            lost.clone(),
        ));
        Ok(Some(Lease {
            conn: conn.clone(),
            key,
            member: member.to_string(),
            lost,
            renewer,
        }))
    }

    /// True once a renewal found another member holding the lease.
    pub fn is_lost(&self) -> bool {
        self.lost.load(Ordering::Relaxed)
    }

    /// Gives the partition back at once (instead of letting the lease expire), so another
    /// member can take it without waiting.
    pub async fn release(self) {
        self.renewer.abort();
        let released: redis::RedisResult<i64> = scripts::RELEASE
            .key(&self.key)
            .arg(&self.member)
            .invoke_async(&mut self.conn.clone())
            .await;
        if let Err(e) = released {
            tracing::debug!(key = %self.key, error = %e, "could not release a lease; it will expire");
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

async fn take(conn: &mut RedisConn, key: &str, member: &str, ttl: Duration) -> Result<bool> {
    Ok(scripts::LEASE
        .key(key)
        .arg(member)
        .arg(ttl.as_millis() as u64)
        .invoke_async(conn)
        .await?)
}

async fn renew(
    mut conn: RedisConn,
    key: String,
    member: String,
    ttl: Duration,
    lost: Arc<AtomicBool>,
) {
    let mut tick = tokio::time::interval(ttl / 3);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await; // the first tick is immediate; the lease is fresh
    loop {
        tick.tick().await;
        match take(&mut conn, &key, &member, ttl).await {
            Ok(true) => {}
            Ok(false) => {
                lost.store(true, Ordering::Relaxed);
                return;
            }
            // Redis is away. Keep trying: if it comes back before the lease expires, nothing
            // happened; if not, the read and commit scripts will say so.
            Err(e) => tracing::warn!("could not renew the lease {key}: {e}"),
        }
    }
}

/// How many partitions this member should hold, and how many it does.
pub struct Membership {
    partitions: usize,
    share: AtomicUsize,
    held: AtomicUsize,
}

impl Membership {
    /// Until the first heartbeat, a member assumes it is alone.
    pub fn new(partitions: u32) -> Membership {
        Membership {
            partitions: partitions as usize,
            share: AtomicUsize::new(partitions as usize),
            held: AtomicUsize::new(0),
        }
    }

    /// Records a heartbeat and recomputes the fair share; returns the number of live members.
    pub async fn heartbeat(
        &self,
        conn: &RedisConn,
        keys: &Keys,
        group: &str,
        member: &str,
        ttl: Duration,
    ) -> Result<usize> {
        let members: usize = scripts::HEARTBEAT
            .key(keys.members(group))
            .arg(member)
            .arg(ttl.as_millis() as u64)
            .invoke_async(&mut conn.clone())
            .await?;
        let members = members.max(1);
        self.share
            .store(self.partitions.div_ceil(members), Ordering::Relaxed);
        Ok(members)
    }

    /// Forgets this member (on shutdown), so the others take its share at once.
    pub async fn leave(conn: &RedisConn, keys: &Keys, group: &str, member: &str) {
        let mut conn = conn.clone();
        let _: redis::RedisResult<i64> = redis::cmd("ZREM")
            .arg(keys.members(group))
            .arg(member)
            .query_async(&mut conn)
            .await;
    }

    pub fn share(&self) -> usize {
        self.share.load(Ordering::Relaxed)
    }

    pub fn held(&self) -> usize {
        self.held.load(Ordering::Relaxed)
    }

    /// Reserves room for one more partition, if below the share.
    pub fn try_reserve(&self) -> bool {
        let share = self.share();
        self.held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |h| {
                (h < share).then_some(h + 1)
            })
            .is_ok()
    }

    /// Frees one partition's room (after a lease was lost, released, or not obtained).
    pub fn unreserve(&self) {
        self.held.fetch_sub(1, Ordering::AcqRel);
    }

    /// Whether this member holds more partitions than its share: some worker should give
    /// one back (`try_shed` decides which).
    pub fn above_share(&self) -> bool {
        self.held() > self.share()
    }

    /// True if this member holds more than its share and the caller should give one back
    /// (the count is already decremented).
    pub fn try_shed(&self) -> bool {
        let share = self.share();
        self.held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |h| {
                (h > share).then(|| h - 1)
            })
            .is_ok()
    }
}
