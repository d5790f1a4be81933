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
//!          (each key checked first: an outcome is written whole or not at all)
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
//! A job taken by the idle wait's `BLPOP` gets its working-on key one round trip later; a
//! worker killed in that window loses the job without a `failed` entry (with `--reliable`
//! it is in the processing list, and put back).
//!
//! The tests that prove it, against a real redis-server, SMTP sink and processes:
//! * at-most-once, and the loss visible in `failed`:
//!   `without_reliable_fetch_killed_jobs_are_never_rerun_and_show_as_failed` (tests/reliable.rs);
//! * at-least-once with `--reliable`: `reliable_fetch_loses_nothing_when_a_worker_is_killed`
//!   (tests/reliable.rs), `dead_worker_jobs_in_processing_lists_are_requeued_by_the_scheduler`
//!   (tests/scheduler.rs), `reliable_worker_puts_back_what_a_previous_run_under_its_name_left`
//!   (tests/worker.rs);
//! * an outcome is written by the step after the job, and a stopping step takes nothing:
//!   `work_once_runs_a_job_and_the_next_step_records_it`,
//!   `work_once_when_stopping_records_the_failure_and_takes_nothing` (tests/worker.rs);
//! * shutdown finishes the running job and loses none that waits:
//!   `sigterm_finishes_the_running_job_and_unregisters` (tests/binary.rs),
//!   `idle_worker_wakes_up_for_a_new_job_and_stops_while_blocked` (tests/worker.rs);
//! * a failed send waits in `failed` unless retried:
//!   `failed_list_fills_when_the_sink_fails_and_retry_empties_it`,
//!   `retry_plugin_keeps_failures_out_of_the_failed_list`,
//!   `retry_plugin_sends_a_permanent_smtp_refusal_straight_to_failed` (tests/binary.rs);
//! * a job that ran is never parked in `failed` because its bookkeeping failed (the plugins'
//!   Redis calls after a job are made again while Redis is away), and a failure a plugin
//!   takes over is reported as a failure:
//!   `a_success_whose_bookkeeping_meets_a_redis_restart_is_recorded_as_a_success`,
//!   `a_failure_handed_to_retry_is_not_reported_as_a_success` (tests/plugins.rs);
//! * each outcome is recorded once: a payload that is not UTF-8 is one readable failed
//!   entry, and an outcome Redis cannot take (`failed` of the wrong type) moves no counter
//!   and is logged with its job: `a_payload_that_is_not_utf8_is_failed_once` (and
//!   `..._with_reliable_fetch`),
//!   `a_failure_that_cannot_be_recorded_is_reported_once_and_the_worker_goes_on`
//!   (tests/worker.rs);
//! * node-resque's bytes: `enqueue_writes_node_resque_bytes` (tests/queue.rs),
//!   `registers_runs_and_records_like_node_resque` (tests/worker.rs), and
//!   `scripts/peers/interop` against node-resque itself.
//! * what Ruby Resque and resque-web read (start time, heartbeat, per-worker counts, a
//!   failure's worker, resque-scheduler's lock):
//!   `a_worker_shows_its_start_heartbeat_counts_and_failures_to_ruby_resque` and
//!   `the_scheduler_and_resque_scheduler_never_lead_together` (tests/ruby_resque.rs), and
//!   `scripts/peers/interop-ruby` against Ruby Resque itself.
//!
//! ## QueueBus on top (`bus/`, the binary's `--bus`)
//!
//! The talk's "meet in the middle" of Resque and an event bus: publish an *event* once,
//! and each subscribed application gets a Resque job of its own. node-queue-bus's wire
//! (`bus_apps`, `bus_app:<app>`, `QueueBus::Worker` jobs whose one argument is a JSON
//! string), so node-queue-bus, py-queue-bus and resque-bus share the Redis.
//!
//! ```text
//!  web ─publish─► queue:bus_incoming {"class":"QueueBus::Worker","args":["{..proxy Driver..}"]}
//!  driver (a worker on bus_incoming): SMEMBERS bus_apps, HGETALL bus_app:<app> (one trip)
//!    │ match every subscription (bus/matcher.rs: one semantics, tabled there)
//!    └─ MULTI  SADD queues + RPUSH queue:<app>_<priority> <rider job>  ..per match..  EXEC
//!  rider (a worker on <app>_<priority>): the handler named by bus_class_proxy runs
//! ```
//!
//! **Delivery guarantee.** Each rider job is an ordinary job here, with everything above:
//! per app, at-most-once by default, at-least-once with `--reliable`, failures in `failed`
//! under the app's own queue (retrying one rides that app only). The fan-out is one
//! transaction, so an event reaches every matching app or none.
//!
//! **Where it loses.** A driver killed while it holds an event: nothing was pushed, and the
//! event is lost for every app (seen as a `Worker Timeout` in `failed`); with `--reliable`
//! it is driven again, and if its fan-out had gone through before the kill, every app gets
//! it twice. An event that no subscription matches when it is driven is dropped (there is
//! no log to replay: a subscriber added later never sees it). A subscription a foreign
//! client wrote that this driver cannot use (not JSON, a regex it cannot run) is skipped;
//! the event still goes to the others, and its driver job fails, naming what it skipped.
//!
//! The tests that prove it:
//! * every app once, others none: `every_subscribed_app_gets_each_event_once_and_others_none`
//!   (tests/bus.rs); unsubscribe: `unsubscribing_stops_delivery_and_the_last_one_removes_the_app`;
//! * a failing app: `a_failing_handler_leaves_its_entry_and_the_other_apps_get_the_event`;
//! * foreign bytes: `broken_foreign_subscriptions_are_reported_and_the_rest_still_delivered`,
//!   `jobs_that_are_not_bus_envelopes_fail_visibly`;
//! * delayed publish and heartbeat: `a_delayed_publish_is_promoted_then_published_with_its_id`,
//!   `the_heartbeat_publishes_every_minute_missed_during_a_pause`,
//!   `heartbeat_triggers_in_node_and_ruby_shape_are_driven_to_subscribers`;
//! * a driver SIGKILLed mid-fan-out: `a_killed_driver_loses_whole_events_and_says_so`,
//!   `a_killed_reliable_driver_loses_nothing_and_may_deliver_an_event_twice_to_every_app`
//!   (tests/bus_binary.rs);
//! * the matcher table: the unit tests of `bus/matcher.rs`; and against node-queue-bus and
//!   py-queue-bus themselves, `scripts/peers/interop-bus`.
//!
//! See ARCHITECTURE.md, section "Strategy 5: Resque".
//!
//! ## Module map
//!
//! Read top-down; each folder uses only the folders above it (and the three files at the
//! end), never one below, so there is no circle to untangle.
//!
//! ```text
//!  wire/        the bytes in Redis, no Redis calls: keys.rs, job.rs (the job's JSON),
//!               payload.rs (a popped job's bytes), failed_entry.rs (JobError and its entry),
//!               working_on.rs, worker_id.rs, dates.rs
//!  client/      node-resque's Queue: queue.rs (Queue, enqueue, the queues), delayed.rs,
//!               failed_list.rs (the `failed` list), registered_workers.rs, overview.rs
//!               (counters, locks, leader), error.rs
//!  plugins/     plugin.rs (the trait and its context), bookkeeping.rs (their Redis calls
//!               after a job, made again while Redis is away); queue_lock.rs, job_lock.rs,
//!               delay_queue_lock.rs, retry.rs, noop.rs
//!  scheduler/   poll_loop.rs (Scheduler), leader.rs, promote.rs, dead_workers.rs (finding
//!               dead workers, recovering their jobs), options.rs
//!  worker/      work_loop.rs (Worker, its loop and its step, work_once), work_script.rs (the
//!               work.lua call), blocking_wait.rs (BLPOP, CLIENT UNBLOCK), perform.rs,
//!               outcome.rs, options.rs, presence.rs (registration, pings), job_definitions.rs
//!               (Jobs, JobDef), multi_worker.rs, lag_probe.rs
//!  bus/         QueueBus on this Resque: envelope.rs, matcher.rs, subscription.rs,
//!               subscriptions.rs, publish.rs, driver.rs (the fan-out), rider.rs (the
//!               QueueBus::Worker job, the handlers), heartbeat.rs
//!  connect.rs   the two kinds of Redis connection (shared, and one for blocking pops)
//!  events.rs    what all of them report, logged in node-resque's words
//!  scripts.rs   the Lua scripts of lua/ (work, promote, leader, release, requeue)
//! ```
//!
//! The binary (`src/main.rs`) adds `app/`: its flags (args.rs), the web front (web.rs), the
//! `/resque/...` admin routes (admin.rs), the `sendEmail` job (send_email.rs), the `--bus`
//! demo's apps (bus_demo.rs) and the wiring of the roles (mod.rs).
pub mod bus;
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
pub use worker::{
    Ended, FinishedJob, JobDef, JobResult, Jobs, MultiWorker, MultiWorkerOptions, Outcome,
    TakenJob, Worker, WorkerOptions,
};
