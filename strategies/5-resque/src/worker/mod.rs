//! The worker side: taking jobs and running them.
//!
//! * [`work_loop`]: [`Worker`], one worker: register, step until stopped, unregister.
//!   [`Worker::work_once`] is one step, which a test can drive on its own.
//! * [`work_script`]: the `work.lua` call that records the last outcome and takes the next job.
//! * [`blocking_wait`]: the idle wait (`BLPOP` on its own connection, ended by `CLIENT UNBLOCK`).
//! * [`perform`]: running one job through its plugins.
//! * [`outcome`]: what a step deals in ([`TakenJob`], [`FinishedJob`], [`Outcome`]).
//! * [`options`]: [`WorkerOptions`], a worker's name, queues and timings.
//! * [`presence`]: how a worker shows itself in Redis (registration, pings).
//! * [`job_definitions`]: [`Jobs`], the job classes a worker can run, with their plugins.
//! * [`multi_worker`]: [`MultiWorker`], many worker slots in one process, scaled by runtime lag.
//! * [`lag_probe`]: how late the runtime wakes up, which MultiWorker scales by.

pub mod blocking_wait;
pub mod job_definitions;
pub mod lag_probe;
pub mod multi_worker;
pub mod options;
pub mod outcome;
pub mod perform;
pub mod presence;
pub mod work_loop;
pub mod work_script;

pub use job_definitions::{JobDef, JobResult, Jobs};
pub use multi_worker::{MultiWorker, MultiWorkerOptions, MultiWorkerStatus};
pub use options::WorkerOptions;
pub use outcome::{Ended, FinishedJob, Outcome, TakenJob};
pub use work_loop::Worker;
