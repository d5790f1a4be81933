//! What an operator sees of the log, and the one repair it can make by hand: the view the
//! web's `/dashboard` draws (Kafka UI's consumer-lag page, in Redis).
//!
//! * [`Log::partition_views`]: per partition, the retained range (retention moves its
//!   start), each group's place, lag and pending entries (from the engine, so both backends
//!   answer), and who holds the group's lease there and for how much longer.
//! * [`Log::members`]: a group's live members and their last heartbeat.
//! * [`Log::retry_dead_letter`]: publishes a dead letter's event again, as a new event, and
//!   takes the letter off its list. Every group sees the new event (it is appended to the
//!   log, which every group reads); to give one group back its own events, replay it
//!   ([`Log::replay`]) instead.

use crate::dead_letter::DeadLetter;
use crate::engine::GroupPosition;
use crate::error::{LogError, Result};
use crate::event::{Appended, NewEvent};
use crate::log::Log;
use redis::AsyncCommands;
use serde::Serialize;

/// One partition as an operator sees it.
#[derive(Debug, Clone, Serialize)]
pub struct PartitionView {
    pub partition: u32,
    /// The retained range `first..end` (see [`Log::range`]).
    pub first: u64,
    pub end: u64,
    pub groups: Vec<GroupView>,
}

/// One group in one partition.
#[derive(Debug, Clone, Serialize)]
pub struct GroupView {
    #[serde(flatten)]
    pub position: GroupPosition,
    /// The member holding the partition for this group, if any.
    pub lease_holder: Option<String>,
    /// How long until that lease expires unless renewed, in ms.
    pub lease_expires_in_ms: Option<i64>,
    pub dead_letters: usize,
}

impl Log {
    /// Every partition, with every group that has a place in it; `groups` are shown even
    /// where they have none yet (a group that never read).
    pub async fn partition_views(&self, groups: &[&str]) -> Result<Vec<PartitionView>> {
        let mut views = Vec::new();
        for partition in self.partitions() {
            let (first, end) = self.range(partition).await?;
            let mut positions = self.positions(partition).await?;
            for group in groups {
                if !positions.iter().any(|p| p.group == *group) {
                    positions.push(GroupPosition {
                        group: group.to_string(),
                        position: crate::event::Position::Offset(first),
                        lag: Some(end - first),
                        pending: 0,
                    });
                }
            }
            positions.sort_by(|a, b| a.group.cmp(&b.group));
            let mut group_views = Vec::new();
            for position in positions {
                let mut conn = self.connection();
                let lease = self.keys().lease(partition, &position.group);
                let holder: Option<String> = conn.get(&lease).await?;
                let ttl: i64 = conn.pttl(&lease).await?;
                let dead: usize = conn
                    .llen(self.keys().dead(partition, &position.group))
                    .await?;
                group_views.push(GroupView {
                    lease_expires_in_ms: holder.as_ref().map(|_| ttl),
                    lease_holder: holder,
                    dead_letters: dead,
                    position,
                });
            }
            views.push(PartitionView {
                partition,
                first,
                end,
                groups: group_views,
            });
        }
        Ok(views)
    }

    /// The live members of `group` and their last heartbeat (ms since the epoch).
    pub async fn members(&self, group: &str) -> Result<Vec<(String, u64)>> {
        let members: Vec<(String, f64)> = self
            .connection()
            .zrange_withscores(self.keys().members(group), 0, -1)
            .await?;
        Ok(members.into_iter().map(|(m, at)| (m, at as u64)).collect())
    }

    /// Publishes the event of `group`'s dead letter at `index` in `partition` again and
    /// removes the letter. `position` is the letter's event position as the operator saw
    /// it: if the letter at `index` is another one (the list changed), nothing is done.
    /// `Ok(None)`: there is no such letter there.
    pub async fn retry_dead_letter(
        &self,
        group: &str,
        partition: u32,
        index: usize,
        position: &str,
    ) -> Result<Option<Appended>> {
        if partition >= self.config().partitions {
            return Err(LogError::Invalid(format!(
                "there is no partition {partition}"
            )));
        }
        let key = self.keys().dead(partition, group);
        let mut conn = self.connection();
        let raw: Option<String> = conn.lindex(&key, index as isize).await?;
        let Some(raw) = raw else { return Ok(None) };
        let letter: DeadLetter = serde_json::from_str(&raw)
            .map_err(|e| LogError::Invalid(format!("that dead letter is not one: {e}")))?;
        if letter.position.to_string() != position {
            return Ok(None);
        }
        let event = &letter.event;
        let (Some(kind), Some(key_of)) = (event["type"].as_str(), event["key"].as_str()) else {
            return Err(LogError::Invalid(
                "that dead letter's event has no type and key to publish again".into(),
            ));
        };
        let new = NewEvent::new(kind, key_of, event["payload"].clone());
        // Publish first: if Redis goes away in between, the letter stays and the event may
        // be there twice, rather than gone.
        let appended = self.publish(new).await?;
        let _: usize = conn.lrem(&key, 1, &raw).await?;
        Ok(Some(appended))
    }
}
