//! The worker side: taking jobs and running them.
//!
//! * [`work_loop`]: [`Worker`], one worker: register, take, run, record, unregister.
//! * [`options`]: [`WorkerOptions`], its name, queues and timings.
//! * [`presence`]: how a worker shows itself in Redis (registration, pings).
//! * [`job_definitions`]: [`Jobs`], the job classes a worker can run, with their plugins.
//! * [`multi_worker`]: [`MultiWorker`], many worker slots in one process, scaled by runtime lag.
//! * [`lag_probe`]: how late the runtime wakes up, which MultiWorker scales by.

pub mod job_definitions;
pub mod lag_probe;
pub mod multi_worker;
pub mod options;
pub mod presence;
pub mod work_loop;

pub use job_definitions::{JobDef, JobResult, Jobs};
pub use multi_worker::{MultiWorker, MultiWorkerOptions, MultiWorkerStatus};
pub use options::WorkerOptions;
pub use work_loop::Worker;
