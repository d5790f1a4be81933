//! A partition this member cannot read because of what Redis holds (a key something else
//! overwrote: see [`crate::corrupt`]). Retrying at once cannot help, and a warning on every
//! retry would bury the one line that matters. [`StuckReport`] says it once, loudly: which
//! key, what it holds, what to do. It records it for the web's `/healthz`
//! ([`crate::stuck`]), and when the partition reads again it says so and takes the record
//! away.

use crate::consumer::shared::Shared;
use crate::dead_letter::now_ms;
use crate::stuck::{self, Stuck};
use std::time::Duration;

/// How often a worker looks again at a partition it cannot read: soon enough that the
/// partition flows again within seconds of the repair, seldom enough to cost nothing.
pub(crate) const STUCK_RECHECK: Duration = Duration::from_secs(2);

/// What one worker last said about its partition.
pub(crate) struct StuckReport {
    partition: u32,
    state: State,
}

enum State {
    /// Nothing to report, and no record of ours in Redis.
    Clear,
    /// Maybe a record in Redis: a member that held the partition before us may have left
    /// one, or removing ours failed. The next good read removes it.
    MaybeRecorded,
    /// Reported (once); `recorded` says whether Redis has the record too.
    Stuck { reason: String, recorded: bool },
}

impl StuckReport {
    pub fn new(partition: u32) -> StuckReport {
        StuckReport {
            partition,
            state: State::MaybeRecorded,
        }
    }

    /// The worker took the partition's lease: whoever held it before may have recorded it
    /// as stuck.
    pub fn taken(&mut self) {
        if matches!(self.state, State::Clear) {
            self.state = State::MaybeRecorded;
        }
    }

    /// The partition cannot be read, because of `reason`. Logged the first time (and when
    /// the reason changes), recorded until Redis has it.
    pub async fn stuck(&mut self, shared: &Shared, reason: &str) {
        let (partition, group) = (self.partition, &shared.config.group);
        let already = match &self.state {
            State::Stuck {
                reason: said,
                recorded,
            } if said == reason => {
                if *recorded {
                    return;
                }
                true
            }
            _ => false,
        };
        if !already {
            tracing::error!(
                "consumer of group {group} cannot read partition {partition}: {reason}. \
                 Repair or remove that key, then set the group's place in the partition with \
                 `strategy-6 --role replay --group {group} --partition {partition} --to start` \
                 (or any other --to). Until then partition {partition} waits, looked at again every \
                 {} s, and the other partitions go on",
                STUCK_RECHECK.as_secs()
            );
        }
        let record = Stuck {
            partition,
            group: group.clone(),
            reason: reason.to_string(),
            member: shared.config.member.clone(),
            since: now_ms(),
        };
        let log = &shared.log;
        let recorded = match stuck::record(log.connection(), log.keys(), &record).await {
            Ok(()) => true,
            Err(e) => {
                tracing::debug!(partition, error = %e, "could not record a stuck partition; trying again");
                false
            }
        };
        self.state = State::Stuck {
            reason: reason.to_string(),
            recorded,
        };
    }

    /// A batch was read: if the partition was stuck, it is not any more.
    pub async fn readable(&mut self, shared: &Shared) {
        let (partition, group) = (self.partition, &shared.config.group);
        match &self.state {
            State::Clear => return,
            State::Stuck { .. } => {
                tracing::info!("consumer of group {group} reads partition {partition} again")
            }
            State::MaybeRecorded => {}
        }
        let log = &shared.log;
        self.state = match stuck::clear(log.connection(), log.keys(), group, partition).await {
            Ok(()) => State::Clear,
            Err(e) => {
                tracing::debug!(partition, error = %e, "could not clear a stuck partition; trying again");
                State::MaybeRecorded
            }
        };
    }
}
