//! Plugins: code that runs around enqueue and perform, node-resque's four hooks behind one
//! trait. Each hook may say no (`Ok(false)`): before enqueue that vetoes the enqueue, before
//! perform it drops the job (no stats, no failure), as node-resque does.
//!
//! Each plugin is one file here; [`plugin`] holds the trait they implement and the
//! [`PluginContext`] each hook is given, and [`bookkeeping`] how their Redis calls after a
//! job ride out a Redis that is away for a moment.
//!
//! | plugin | hooks | what it does |
//! |---|---|---|
//! | [`QueueLock`] | before enqueue, before perform | one queued copy of the same job at a time |
//! | [`JobLock`] | before/after perform | one running copy of the same job at a time |
//! | [`DelayQueueLock`] | before enqueue | no enqueue while the same job is delayed |
//! | [`Retry`] | after perform | a failure comes back later, `limit` attempts in all |
//! | [`Noop`] | after perform | a failure is forgotten (reported, not in `failed`) |

pub mod bookkeeping;
mod delay_queue_lock;
mod job_lock;
mod noop;
pub mod plugin;
mod queue_lock;
mod retry;

pub use delay_queue_lock::DelayQueueLock;
pub use job_lock::JobLock;
pub use noop::Noop;
pub use plugin::{HookResult, Plugin, PluginContext};
pub use queue_lock::QueueLock;
pub use retry::Retry;
