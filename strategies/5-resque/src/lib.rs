//! # Strategy 5: a Resque-compatible job queue
//!
//! The web front pushes a job onto a Redis list and answers; workers in other processes pop
//! it and send the mail. The job outlives the web process, survives worker restarts while it
//! waits, and a failure leaves a record (`failed`) that can be inspected and retried.
//!
//! ```text
//!  client ─GET─► web ── SADD queues + RPUSH queue:emailQueue {"class":"sendEmail",..} ──► Redis
//!         ◄ 200 ┘       (one pipelined round trip; the answer waits for it)               │
//!  worker ◄── work.lua: LPOP queue:Q (LMOVE with --reliable) + SET worker:ID ──────────────┘
//!    │        (queues empty: BLPOP on its own connection until a job arrives)
//!    │ perform: SMTP send
//!    └─► the next work.lua call records the outcome, then takes the next job:
//!          ok:  INCR stat:processed            err: INCR stat:failed + RPUSH failed {..}
//!          DEL worker:ID (--reliable: LREM the job from processing:Q:NAME)
//!  scheduler (one leader): delayed:TS ──promote.lua──► queue:Q ; dead/stuck workers cleaned
//! ```
//!
//! Everything on the wire is node-resque's: job bytes, keys, worker ids, pings, stats,
//! failed entries, delayed-job keys and the leader lock, so node-resque's Queue and workers,
//! and Ruby's resque-web, work on the same Redis (`scripts/peers/interop` proves it).
//!
//! **Delivery guarantee.** Durable while queued (as durable as Redis: AOF for restarts;
//! without `REDIS_URL` the private redis-server lives and dies with the process, and so do
//! the queued jobs).
//! By default, at-most-once once taken: a job is `LPOP`ped before it runs, so a worker
//! killed mid-job loses it; the loss is visible, as a `Worker Timeout` entry in `failed`
//! written when the dead worker is found. With `--reliable`, at-least-once: the job is
//! `LMOVE`d into the worker's processing list and put back on its queue when the worker is
//! found dead, so it may run twice but is never lost. In both modes a worker killed after
//! the send but before recording it leaves a job that looks unfinished: its `Worker Timeout`
//! entry (or its requeued copy) may stand for a mail that did go out. A failed send is not
//! retried unless `--retry N` is given (and never when the server refused it for good, a
//! 5xx); it waits in `failed` for a person (or `POST /resque/failed/retry`).
//!
//! Modules, one idea each:
//! * [`wire`]: the wire format (keys, job payloads, failed entries, worker ids, dates).
//! * [`client`]: the producer and admin API (node-resque's `Queue`): enqueue, delayed jobs,
//!   the failed list, registered workers.
//! * [`worker`]: taking and running jobs, being seen alive, scaling by runtime lag.
//! * [`scheduler`]: delayed jobs, leader election, dead workers.
//! * [`plugins`]: Retry, JobLock, QueueLock, DelayQueueLock, Noop.
//! * [`events`]: what all of them report, logged in node-resque's words.
//! * `app/` (in the binary, `src/main.rs`): the demo's web front, admin routes and `sendEmail` job.
pub mod client;
pub mod connect;
pub mod events;
pub mod plugins;
pub mod scheduler;
mod scripts;
pub mod wire;
pub mod worker;

pub use client::{Queue, QueueError};
pub use events::{Event, EventSender, WorkerEvent};
pub use scheduler::{Scheduler, SchedulerOptions};
pub use wire::{Job, JobError, Keys};
pub use worker::{JobDef, JobResult, Jobs, MultiWorker, MultiWorkerOptions, Worker, WorkerOptions};
