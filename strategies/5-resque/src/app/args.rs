//! The flags of the `strategy-5` binary, each with its environment variable, and the
//! worker and scheduler options they make.

use super::send_email;
use clap::{Parser, ValueEnum};
use kit::{HttpArgs, MailArgs, RedisArgs};
use std::time::Duration;
use strategy_5::{MultiWorkerOptions, SchedulerOptions, WorkerOptions};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Role {
    /// Web front, multi-worker and scheduler in one process.
    All,
    /// Web front only: enqueues jobs, serves /resque/... admin routes and /dashboard.
    Web,
    /// Multi-worker only: runs jobs.
    Worker,
    /// Scheduler only: promotes delayed jobs, cleans dead workers.
    Scheduler,
}

/// Strategy 5: a Resque-compatible queue. The web front enqueues `sendEmail` jobs on
/// `emailQueue` (with --bus: publishes `email_requested` events, which QueueBus fans out to
/// the subscribed applications); workers send them; failures land in Redis's `failed` list.
#[derive(Parser, Debug)]
#[command(version, about)]
pub struct Args {
    /// Which part to run.
    #[arg(long, env = "ROLE", value_enum, default_value = "all")]
    pub role: Role,
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub mail: MailArgs,
    #[command(flatten)]
    pub redis: RedisArgs,
    /// Redis key namespace (node-resque's default is `resque`).
    #[arg(long, env = "RESQUE_NAMESPACE", default_value = "resque")]
    pub namespace: String,
    /// Queues the workers take jobs from, highest priority first (comma-separated, `*` = all).
    #[arg(long, env = "QUEUES", default_value = send_email::QUEUE, value_delimiter = ',')]
    pub queues: Vec<String>,
    /// Fewest concurrent job slots.
    #[arg(long, env = "MIN_WORKERS", default_value_t = 1)]
    pub min: usize,
    /// Most concurrent job slots (added while the runtime keeps up). A slot sends one mail
    /// at a time: 1000 mails a second against a 50 ms mail server need 50 (node-resque's
    /// default, 10, carries 200 a second at best).
    #[arg(long, env = "MAX_WORKERS", default_value_t = 64)]
    pub max: usize,
    /// How often the multi-worker rescales (it reads runtime lag every eighth of this; while
    /// all slots are busy they double, checking again after an eighth, so a burst is met
    /// within a few short steps).
    #[arg(long, env = "CHECK_MS", default_value_t = 250)]
    pub check_ms: u64,
    /// Runtime lag above which the runtime counts as blocked (no slot is added).
    #[arg(long, env = "MAX_LAG_MS", default_value_t = 10)]
    pub max_lag_ms: u64,
    /// Reliable fetch: take jobs with LMOVE into a per-worker processing list, so a killed
    /// worker's jobs go back to the queue (at-least-once). Off: node-resque's LPOP.
    #[arg(long, env = "RELIABLE")]
    pub reliable: bool,
    /// Retry plugin for sendEmail: attempts in all (0 = off; failures go straight to `failed`).
    /// A permanent SMTP refusal (5xx) or an invalid address goes to `failed` at once.
    #[arg(long, env = "RETRY", default_value_t = 0)]
    pub retry: u32,
    /// Delay before each retry.
    #[arg(long, env = "RETRY_DELAY_MS", default_value_t = 1000)]
    pub retry_delay_ms: u64,
    /// How often each worker refreshes its `worker:ping:NAME`.
    #[arg(long, env = "PING_MS", default_value_t = 5000)]
    pub ping_ms: u64,
    /// How often the scheduler looks for due delayed jobs and stuck workers.
    #[arg(long, env = "SCHEDULER_POLL_MS", default_value_t = 1000)]
    pub scheduler_poll_ms: u64,
    /// A worker whose ping is older than this is stuck: its job is failed (or requeued with
    /// --reliable) and it is unregistered. 0 disables the check.
    #[arg(long, env = "STUCK_WORKER_TIMEOUT_MS", default_value_t = 3_600_000)]
    pub stuck_worker_timeout_ms: u64,
    /// Re-enqueue the job of each stuck or dead worker the scheduler cleans, instead of
    /// leaving it in `failed`.
    #[arg(long, env = "RETRY_STUCK_JOBS")]
    pub retry_stuck_jobs: bool,
    /// `--admin-token`, for the /resque/... admin routes and the /dashboard actions.
    #[command(flatten)]
    pub admin: kit::AdminArgs,
    /// TTL of the scheduler leader lock (how long a killed leader blocks the others).
    #[arg(long, env = "LEADER_LOCK_TIMEOUT_S", default_value_t = 180)]
    pub leader_lock_timeout_s: u64,
    /// The demo on QueueBus: the web role publishes an `email_requested` event on
    /// `bus_incoming`; the worker role subscribes application `offload_mailer` (which sends
    /// the mail), drives `bus_incoming` and rides the apps' queues (--queues is not used);
    /// the scheduler role also triggers the bus heartbeat once a minute.
    #[arg(long, env = "BUS")]
    pub bus: bool,
    /// With --bus: one more subscribing application per name (comma-separated), whose
    /// handler logs each event, to show the fan-out. Names are made lower case, with `_`
    /// for anything but letters, digits and `_`.
    #[arg(
        long = "bus-app",
        env = "BUS_APPS",
        value_delimiter = ',',
        requires = "bus"
    )]
    pub bus_apps: Vec<String>,
}

impl Args {
    /// Roles `all` and `worker` run job slots (and so need a mailer).
    pub fn runs_workers(&self) -> bool {
        matches!(self.role, Role::All | Role::Worker)
    }

    pub fn runs_scheduler(&self) -> bool {
        matches!(self.role, Role::All | Role::Scheduler)
    }

    pub fn runs_web(&self) -> bool {
        matches!(self.role, Role::All | Role::Web)
    }

    /// Every slot copies the worker options; the multi-worker adds `+N` to the name.
    pub fn multi_worker_options(&self) -> MultiWorkerOptions {
        let mut worker = WorkerOptions::new(&[]);
        worker.queues = self.queues.clone();
        worker.ping_interval = Duration::from_millis(self.ping_ms);
        worker.reliable = self.reliable;
        let mut options = MultiWorkerOptions::new(worker);
        options.min = self.min.max(1);
        options.max = self.max;
        options.check_interval = Duration::from_millis(self.check_ms);
        options.max_lag = Duration::from_millis(self.max_lag_ms);
        options
    }

    pub fn scheduler_options(&self) -> SchedulerOptions {
        SchedulerOptions {
            poll_interval: Duration::from_millis(self.scheduler_poll_ms),
            leader_lock_timeout: Duration::from_secs(self.leader_lock_timeout_s),
            stuck_worker_timeout: (self.stuck_worker_timeout_ms > 0)
                .then(|| Duration::from_millis(self.stuck_worker_timeout_ms)),
            retry_stuck_jobs: self.retry_stuck_jobs,
            ..SchedulerOptions::default()
        }
    }
}
