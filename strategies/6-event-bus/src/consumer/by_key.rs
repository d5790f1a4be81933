//! The window of one partition: what was read and is not committed yet, in offset order,
//! each event started as soon as its key allows.
//!
//! The order this log promises is per key (`hash(key) % N` picks the partition, so one
//! key's events share a partition and come in publish order). Nothing orders two events of
//! different keys, so making them wait for each other only caps the throughput (one send in
//! flight per partition, 4 partitions against a 50 ms mail server: 80 mails a second) and
//! the latency (a new event waits for the slowest send before it). So, as Confluent's
//! Parallel Consumer does with key ordering, an event starts the moment it is read unless
//! an earlier event of its key is still in flight; then it waits for exactly that one.
//!
//! ```text
//!  read (offset order):   a1  b1  a2  c1  b2
//!  started at once:       a1  b1      c1           a2 waits for a1, b2 for b1
//!  a1 finishes:           a2 starts
//!  the window:            a1✓ b1… a2… c1✓ b2       commit can move past a1 only:
//!                                                  b1 is still in flight
//! ```
//!
//! The window only handles; what a finished event means for the offset (commit it, park
//! it) is decided by the pipeline, walking the window's front in offset order, so a commit
//! never moves past an event that is not finished.

use crate::consumer::attempts::{self, Outcome};
use crate::consumer::shared::Shared;
use crate::lease::Lease;
use crate::record::Record;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use tokio::task::JoinSet;

/// What became of one event the window holds.
enum Slot {
    /// Read; an earlier event of its key is still in flight, so it waits for its turn.
    Waiting(Record),
    /// Its handler runs (as a task of `running`).
    Running,
    /// It ran through the handler (with its retries).
    Ran(Record, Outcome),
    /// Never run: an earlier event of its key was interrupted by shutdown, and running
    /// this one first would break the key's order.
    NotRun,
}

/// A finished event at the front of the window, for the pipeline to commit or park.
pub(crate) enum Front {
    Handled(Record),
    GaveUp(Record, u32, String),
}

/// What one partition has read and not committed yet.
#[derive(Default)]
pub(crate) struct Window {
    /// In offset order; `slots[0]` has the sequence number `first`.
    slots: VecDeque<Slot>,
    first: u64,
    /// Per key, the sequence numbers of its events in the window that have not finished,
    /// in order. The front one is running; the others wait for it.
    turns: HashMap<String, VecDeque<u64>>,
    /// The handlers in flight, each a task of its own: they go on while the pipeline waits
    /// on Redis (a blocking read, a commit). Dropping the window aborts them.
    running: JoinSet<(u64, Record, Outcome)>,
}

impl Window {
    /// Read and not committed: the events in flight, waiting, or finished behind one that
    /// is not. What `--max-in-flight` bounds, and what a SIGKILL may send twice.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Whether a handler is running now.
    pub(crate) fn is_running(&self) -> bool {
        !self.running.is_empty()
    }

    /// Takes `record` into the window, and starts it unless an earlier event of its key is
    /// still in flight. A record that is not an event has no key to keep in order: it
    /// starts at once.
    pub(crate) fn push(&mut self, shared: &Arc<Shared>, lease: &Lease, record: Record) {
        let seq = self.first + self.slots.len() as u64;
        let key = record.event.as_ref().map(|event| event.key.clone());
        let free = match key {
            Some(key) => {
                let turn = self.turns.entry(key).or_default();
                turn.push_back(seq);
                turn.len() == 1
            }
            None => true,
        };
        self.slots.push_back(Slot::Waiting(record));
        if free {
            self.start(shared, lease, seq);
        }
    }

    /// Waits for the next handler to finish and records it, with any others that finished
    /// by then (so that one commit covers them all). `false`: none was running.
    pub(crate) async fn next_finished(&mut self, shared: &Arc<Shared>, lease: &Lease) -> bool {
        let Some(joined) = self.running.join_next().await else {
            return false;
        };
        self.finished(shared, lease, joined);
        while let Some(joined) = self.running.try_join_next() {
            self.finished(shared, lease, joined);
        }
        true
    }

    /// The handler of one event ended: record its outcome and start the next event of its
    /// key, the one that was waiting for it.
    pub(crate) fn finished(
        &mut self,
        shared: &Arc<Shared>,
        lease: &Lease,
        joined: std::result::Result<(u64, Record, Outcome), tokio::task::JoinError>,
    ) {
        // A handler that panicked would leave a hole the commit can never move past:
        // fail loudly, as the same panic would have without the task.
        let (seq, record, outcome) = match joined {
            Ok(done) => done,
            Err(error) => std::panic::resume_unwind(error.into_panic()),
        };
        let interrupted = matches!(outcome, Outcome::Interrupted);
        let key = record.event.as_ref().map(|event| event.key.clone());
        self.slots[(seq - self.first) as usize] = Slot::Ran(record, outcome);
        let Some(key) = key else { return };
        let Some(turn) = self.turns.get_mut(&key) else {
            return;
        };
        turn.pop_front();
        if interrupted {
            // Shutdown cut this event off between two attempts. The key's later events must
            // not overtake it: they stay unhandled, for the next holder (at-least-once).
            for waiting in turn.drain(..) {
                self.slots[(waiting - self.first) as usize] = Slot::NotRun;
            }
        }
        match turn.front().copied() {
            Some(next) => self.start(shared, lease, next),
            None => {
                self.turns.remove(&key);
            }
        }
    }

    /// The finished event at the front, if it is one the offset can move past (handled, or
    /// given up on and to be parked). An event that never ran, or was interrupted, stays:
    /// nothing behind it may be committed.
    pub(crate) fn pop_front(&mut self) -> Option<Front> {
        if !matches!(
            self.slots.front(),
            Some(Slot::Ran(_, Outcome::Handled | Outcome::GiveUp(..)))
        ) {
            return None;
        }
        self.first += 1;
        match self.slots.pop_front() {
            Some(Slot::Ran(record, Outcome::Handled)) => Some(Front::Handled(record)),
            Some(Slot::Ran(record, Outcome::GiveUp(attempts, error))) => {
                Some(Front::GaveUp(record, attempts, error))
            }
            _ => unreachable!("the front was checked above"),
        }
    }

    /// Waits for the handlers in flight to end, starting nothing new: the way out after a
    /// Redis error, so that a send under way is not cut off halfway (at-most-once it would
    /// be lost; at-least-once it is handled again by whoever reads from the last commit).
    pub(crate) async fn let_running_finish(&mut self) {
        while self.running.join_next().await.is_some() {}
    }

    /// Puts the event at `seq` to work, in a task of its own.
    fn start(&mut self, shared: &Arc<Shared>, lease: &Lease, seq: u64) {
        // The lease may run out while earlier handlers work. Start nothing more: the new
        // owner reads from our last commit, and carrying on would send what it sends too.
        // The pipeline notices the lost lease at its next step and drops the window.
        if lease.is_lost() {
            return;
        }
        let slot = &mut self.slots[(seq - self.first) as usize];
        let Slot::Waiting(record) = std::mem::replace(slot, Slot::Running) else {
            unreachable!("only a waiting event is started");
        };
        let shared = shared.clone();
        self.running.spawn(async move {
            let outcome = attempts::handle(&shared, &record).await;
            (seq, record, outcome)
        });
    }

    /// The events the window holds that will not be handled by this member.
    pub(crate) fn unfinished(&self) -> usize {
        self.slots
            .iter()
            .filter(|slot| !matches!(slot, Slot::Ran(_, Outcome::Handled | Outcome::GiveUp(..))))
            .count()
    }
}
