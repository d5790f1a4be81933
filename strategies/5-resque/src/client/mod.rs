//! The client: node-resque's `Queue`, command for command. What a web front (or any
//! producer, or an admin tool) uses; workers use it too, for their bookkeeping.
//!
//! * [`queue`]: [`Queue`] itself, enqueue and the queues.
//! * [`delayed`]: jobs to run later (`enqueue_at`, `enqueue_in`), in resque-scheduler's keys.
//! * [`failed_list`]: the `failed` list: list, remove, retry.
//! * [`registered_workers`]: the workers as seen from outside, and cleaning up after one.
//! * [`overview`]: counters, plugin locks, the scheduler leader.
//! * [`processing`]: reliable fetch's processing lists (the jobs workers hold).
//! * [`error`]: what a call can fail with, [`QueueError`].
//!
//! Every write keeps node-resque's wire format ([`crate::wire`]), so node-resque's own Queue
//! (and resque-web) read what this one writes, and the other way round.

pub mod delayed;
pub mod error;
pub mod failed_list;
pub mod overview;
pub mod processing;
pub mod queue;
pub mod registered_workers;

pub use error::{QueueError, Result};
pub use queue::{EnqueueHooks, NewJob, Queue};
