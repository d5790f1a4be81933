//! `strategy-5`: the Resque demo. `--role all` (default) runs the web front, a multi-worker
//! and the scheduler in one process against a private redis-server; the other roles run one
//! part each, so the load harness can kill and restart them on their own.

use clap::{Parser, ValueEnum};
use kit::{HttpArgs, MailArgs, RedisArgs};
use std::sync::Arc;
use std::time::Duration;
use strategy_5::admin::Admin;
use strategy_5::events::{spawn_logger, EventSender, WorkerEvent};
use strategy_5::plugins::Retry;
use strategy_5::scheduler::{Scheduler, SchedulerOptions};
use strategy_5::web::Web;
use strategy_5::worker::WorkerOptions;
use strategy_5::worker::{MultiWorker, MultiWorkerOptions};
use strategy_5::{send_email, Jobs, Keys, Queue};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Role {
    /// Web front, multi-worker and scheduler in one process.
    All,
    /// Web front only: enqueues jobs, serves /resque/... admin routes.
    Web,
    /// Multi-worker only: runs jobs.
    Worker,
    /// Scheduler only: promotes delayed jobs, cleans dead workers.
    Scheduler,
}

/// Strategy 5: a Resque-compatible queue. The web front enqueues `sendEmail` jobs on
/// `emailQueue`; workers send them; failures land in Redis's `failed` list.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Which part to run.
    #[arg(long, env = "ROLE", value_enum, default_value = "all")]
    role: Role,
    #[command(flatten)]
    http: HttpArgs,
    #[command(flatten)]
    mail: MailArgs,
    #[command(flatten)]
    redis: RedisArgs,
    /// Redis key namespace (node-resque's default is `resque`).
    #[arg(long, env = "RESQUE_NAMESPACE", default_value = "resque")]
    namespace: String,
    /// Queues the workers take jobs from, highest priority first (comma-separated, `*` = all).
    #[arg(long, env = "QUEUES", default_value = send_email::QUEUE, value_delimiter = ',')]
    queues: Vec<String>,
    /// Fewest concurrent job slots.
    #[arg(long, env = "MIN_WORKERS", default_value_t = 1)]
    min: usize,
    /// Most concurrent job slots (added while the runtime keeps up).
    #[arg(long, env = "MAX_WORKERS", default_value_t = 10)]
    max: usize,
    /// How often the multi-worker measures runtime lag and rescales.
    #[arg(long, env = "CHECK_MS", default_value_t = 500)]
    check_ms: u64,
    /// Runtime lag above which the runtime counts as blocked (no slot is added).
    #[arg(long, env = "MAX_LAG_MS", default_value_t = 10)]
    max_lag_ms: u64,
    /// Reliable fetch: take jobs with LMOVE into a per-worker processing list, so a killed
    /// worker's jobs go back to the queue (at-least-once). Off: node-resque's LPOP.
    #[arg(long, env = "RELIABLE")]
    reliable: bool,
    /// Retry plugin for sendEmail: attempts in all (0 = off; failures go straight to `failed`).
    /// A permanent SMTP refusal (5xx) or an invalid address goes to `failed` at once.
    #[arg(long, env = "RETRY", default_value_t = 0)]
    retry: u32,
    /// Delay before each retry.
    #[arg(long, env = "RETRY_DELAY_MS", default_value_t = 1000)]
    retry_delay_ms: u64,
    /// How often each worker refreshes its `worker:ping:NAME`.
    #[arg(long, env = "PING_MS", default_value_t = 5000)]
    ping_ms: u64,
    /// How often the scheduler looks for due delayed jobs and stuck workers.
    #[arg(long, env = "SCHEDULER_POLL_MS", default_value_t = 1000)]
    scheduler_poll_ms: u64,
    /// A worker whose ping is older than this is stuck: its job is failed (or requeued with
    /// --reliable) and it is unregistered. 0 disables the check.
    #[arg(long, env = "STUCK_WORKER_TIMEOUT_MS", default_value_t = 3_600_000)]
    stuck_worker_timeout_ms: u64,
    /// Re-enqueue the job of each stuck or dead worker the scheduler cleans, instead of
    /// leaving it in `failed`.
    #[arg(long, env = "RETRY_STUCK_JOBS")]
    retry_stuck_jobs: bool,
    /// TTL of the scheduler leader lock (how long a killed leader blocks the others).
    #[arg(long, env = "LEADER_LOCK_TIMEOUT_S", default_value_t = 180)]
    leader_lock_timeout_s: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    kit::logging::init();
    let args = Args::parse();
    let shutdown = kit::shutdown::on_signal();
    let (url, _redis_server) = kit::embedded::redis(&args.redis)?;
    let client = redis::Client::open(url.as_str())?;
    let connection = strategy_5::connect::commands(&client).await?;
    let events = EventSender::new("strategy-5");
    let _logger = spawn_logger(&events);

    let runs_workers = matches!(args.role, Role::All | Role::Worker);
    let _mail = if runs_workers {
        Some(kit::embedded::mail(&args.mail).await?)
    } else {
        None
    };
    let mut jobs = Jobs::new();
    if let Some(mail) = &_mail {
        let mut job = send_email::job(mail.mailer.clone());
        if args.retry > 0 {
            job = job.with_plugin(Retry::new(args.retry, args.retry_delay_ms));
        }
        jobs = jobs.with(send_email::CLASS, job);
    }
    let jobs = Arc::new(jobs);
    let queue = Queue::new(connection, Keys::new(&args.namespace)).with_jobs(jobs.clone());

    let mut tasks = tokio::task::JoinSet::new();
    let mut multi_status = None;
    if runs_workers {
        let mut worker = WorkerOptions::new(&[]);
        worker.queues = args.queues.clone();
        worker.ping_interval = Duration::from_millis(args.ping_ms);
        worker.reliable = args.reliable;
        let mut options = MultiWorkerOptions::new(worker);
        options.min = args.min.max(1);
        options.max = args.max;
        options.check_interval = Duration::from_millis(args.check_ms);
        options.max_lag = Duration::from_millis(args.max_lag_ms);
        let multi = MultiWorker::new(
            options,
            queue.clone(),
            client.clone(),
            jobs.clone(),
            events.clone(),
        );
        multi_status = Some(multi.status());
        let stop = multi.stop_token();
        let token = shutdown.clone();
        tokio::spawn(async move {
            token.cancelled().await;
            stop.cancel();
        });
        tasks.spawn(announce_ready(events.subscribe()));
        tasks.spawn(multi.run());
    }
    if matches!(args.role, Role::All | Role::Scheduler) {
        let options = SchedulerOptions {
            poll_interval: Duration::from_millis(args.scheduler_poll_ms),
            leader_lock_timeout: Duration::from_secs(args.leader_lock_timeout_s),
            stuck_worker_timeout: (args.stuck_worker_timeout_ms > 0)
                .then(|| Duration::from_millis(args.stuck_worker_timeout_ms)),
            retry_stuck_jobs: args.retry_stuck_jobs,
            ..SchedulerOptions::default()
        };
        let scheduler = Scheduler::new(options, queue.clone(), events.clone());
        let stop = scheduler.stop_token();
        let token = shutdown.clone();
        tokio::spawn(async move {
            token.cancelled().await;
            stop.cancel();
        });
        if args.role == Role::Scheduler {
            tracing::info!("scheduler ready");
        }
        tasks.spawn(scheduler.run());
    }
    if matches!(args.role, Role::All | Role::Web) {
        let web = Arc::new(Web {
            queue: queue.clone(),
            admin: Admin {
                queue: queue.clone(),
                multi_worker: multi_status,
            },
        });
        let listener = kit::http::bind(&args.http.addr()).await?;
        kit::http::serve(listener, web, shutdown.clone()).await;
    }
    // Workers finish the job they run and unregister; the scheduler gives up its lock.
    while tasks.join_next().await.is_some() {}
    tracing::info!("stopped");
    Ok(())
}

/// Logs `worker ready` once the first worker slot has registered in Redis.
async fn announce_ready(mut rx: tokio::sync::broadcast::Receiver<strategy_5::Event>) {
    while let Ok(event) = rx.recv().await {
        if event.event == WorkerEvent::Start && event.source.contains('+') {
            tracing::info!(worker = %event.source, "worker ready");
            return;
        }
    }
}
