//! placeholder doc
pub mod admin;
pub mod connect;
pub mod delayed;
pub mod events;
pub mod failure;
pub mod job;
pub mod jobs;
pub mod keys;
pub mod lag;
pub mod multi_worker;
pub mod plugins;
pub mod queue;
pub mod reliable;
pub mod scheduler;
mod scripts;
pub mod send_email;
pub mod web;
pub mod worker;

pub use events::{Event, EventSender, WorkerEvent};
pub use failure::JobError;
pub use job::Job;
pub use jobs::{JobDef, Jobs};
pub use keys::Keys;
pub use multi_worker::{MultiWorker, MultiWorkerOptions};
pub use queue::{Queue, QueueError};
pub use scheduler::{Scheduler, SchedulerOptions};
pub use worker::{Worker, WorkerOptions};
