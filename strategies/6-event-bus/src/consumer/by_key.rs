//! One batch, handled concurrently across keys and in order within a key.
//!
//! The order this log promises is per key (`hash(key) % N` picks the partition, so one
//! key's events share a partition and come in publish order). Nothing orders two events of
//! different keys, so making them wait for each other only caps the throughput: one send
//! in flight per partition, 4 partitions against a 50 ms mail server, 80 mails a second.
//! So a batch is split into one chain per key, as Confluent's Parallel Consumer does with
//! key ordering: the chains run at the same time, each one event after the other.
//!
//! ```text
//!  batch (offset order):  a1  b1  a2  c1  b2
//!  chains:                a: a1 -> a2      b: b1 -> b2      c: c1      (concurrently)
//!  steps (offset order):  a1  b1  a2  c1  b2    walked by the worker: commit the
//!                                               contiguous prefix, park what gave up
//! ```
//!
//! The chains only handle; what a step means for the offset is still decided by the
//! worker, walking the steps in offset order, so a commit never moves past an event that
//! was not finished. Concurrency follows the load: an idle partition reads batches of one
//! event, a busy one full batches (`--batch-size`), up to that many sends in flight.

use crate::consumer::attempts::{self, Outcome};
use crate::consumer::shared::Shared;
use crate::lease::Lease;
use crate::record::Record;
use futures_util::future::join_all;

/// What became of one event of the batch.
pub(crate) enum Step {
    /// It ran through the handler (with its retries).
    Ran(Outcome),
    /// Its turn came after the lease was lost: not handled, for the new holder to handle.
    LeaseLost,
    /// Not handled: an earlier event of its key was interrupted by shutdown, and handling
    /// this one first would break the key's order.
    NotRun,
}

/// Handles `batch`, one chain per key; the steps come back in the batch's order.
pub(crate) async fn handle_batch(shared: &Shared, lease: &Lease, batch: &[Record]) -> Vec<Step> {
    let chains = join_all(chains_by_key(batch).into_iter().map(|indices| async move {
        let mut steps = Vec::with_capacity(indices.len());
        let mut stopped = false;
        for index in indices {
            // The lease may run out while a slow handler works. Stop before the next event:
            // the new owner reads from our last commit, and carrying on would send what it
            // sends too.
            let step = if stopped {
                Step::NotRun
            } else if lease.is_lost() {
                stopped = true;
                Step::LeaseLost
            } else {
                let outcome = attempts::handle(shared, &batch[index]).await;
                stopped = matches!(outcome, Outcome::Interrupted);
                Step::Ran(outcome)
            };
            steps.push((index, step));
        }
        steps
    }))
    .await;
    let mut steps: Vec<(usize, Step)> = chains.into_iter().flatten().collect();
    steps.sort_by_key(|(index, _)| *index);
    steps.into_iter().map(|(_, step)| step).collect()
}

/// The batch's indices grouped by event key, each group in offset order. A record that is
/// not an event has no key to keep in order: it is a chain of its own.
fn chains_by_key(batch: &[Record]) -> Vec<Vec<usize>> {
    let mut chains: Vec<(Option<&str>, Vec<usize>)> = Vec::new();
    for (index, record) in batch.iter().enumerate() {
        let key = record.event.as_ref().map(|event| event.key.as_str());
        match chains.iter_mut().find(|(k, _)| key.is_some() && *k == key) {
            Some((_, chain)) => chain.push(index),
            None => chains.push((key, vec![index])),
        }
    }
    chains.into_iter().map(|(_, chain)| chain).collect()
}
