//! The scheduler side: delayed jobs, one leader among all schedulers, and cleaning up after
//! dead workers.
//!
//! * [`poll_loop`]: [`Scheduler`], its loop (lock, promote, clean) and shutdown.
//! * [`leader`]: the leader lock, node-resque's, so both kinds of scheduler exclude each other.
//! * [`promote`]: moving due delayed jobs onto their queues, in one Lua call.
//! * [`dead_workers`]: finding dead or stuck workers and recovering what they held (the
//!   workers use it too, as they start).
//! * [`options`]: [`SchedulerOptions`], its name and timings.

pub mod dead_workers;
pub mod leader;
pub mod options;
pub mod poll_loop;
pub mod promote;

pub use options::SchedulerOptions;
pub use poll_loop::Scheduler;
pub use promote::promote_due;
