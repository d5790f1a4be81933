//! The demo binary's own parts: its flags ([`args`]), the web front ([`web`]) with its
//! admin routes ([`admin`]) and who may use them (`kit::access`), its HTML pages
//! ([`dashboard`]), the `sendEmail` job
//! ([`send_email`]), and the wiring of the roles below. `--role all` (default) runs the web
//! front, a multi-worker and the scheduler in one process against a private redis-server;
//! the other roles run one part each, so the load harness can kill and restart them on
//! their own.

mod admin;
pub mod args;
mod bus_demo;
mod dashboard;
mod send_email;
mod web;

use admin::Admin;
use args::{Args, Role};
use dashboard::Dashboard;
use kit::access::AdminAccess;
use kit::dashboard::Gate;
use std::sync::Arc;
use strategy_5::bus::{self, Bus};
use strategy_5::events::{spawn_logger, EventSender, WorkerEvent};
use strategy_5::plugins::Retry;
use strategy_5::{JobDef, Jobs, Keys, MultiWorker, Queue, Scheduler};
use web::Web;

pub async fn run(args: Args) -> anyhow::Result<()> {
    // First, before anything starts: an admin API open to the network is not started at all.
    let access = if args.runs_web() {
        let (host, port) = (&args.http.host, args.http.port);
        Some(AdminAccess::new(
            host,
            port,
            args.admin.admin_token.clone(),
        )?)
    } else {
        None
    };
    let shutdown = kit::shutdown::on_signal();
    let (url, _redis_server) = kit::embedded::redis(&args.redis)?;
    let client = redis::Client::open(url.as_str())?;
    let connection = strategy_5::connect::commands(&client).await?;
    let events = EventSender::new("strategy-5");
    let _logger = spawn_logger(&events);

    let _mail = if args.runs_workers() {
        Some(kit::embedded::mail(&args.mail).await?)
    } else {
        None
    };
    // The bus job needs the queue it pushes riders through, and the queue needs the jobs
    // (for their enqueue plugins): a queue without them serves the bus.
    let keys = Keys::new(&args.namespace);
    let bus = Bus::new(Queue::new(connection.clone(), keys.clone()));
    let with_retry = |job: JobDef| match args.retry {
        0 => job,
        attempts => job.with_plugin(Retry::new(attempts, args.retry_delay_ms)),
    };
    let mut jobs = Jobs::new();
    if let Some(mail) = &_mail {
        jobs = jobs.with(
            send_email::CLASS,
            with_retry(send_email::job(mail.mailer.clone())),
        );
        if args.bus {
            let riders = bus_demo::riders(mail.mailer.clone());
            jobs = jobs.with(
                bus::WORKER_CLASS,
                with_retry(bus::worker_job(bus.clone(), riders)),
            );
        }
    }
    let jobs = Arc::new(jobs);
    let queue = Queue::new(connection, keys).with_jobs(jobs.clone());

    let mut tasks = tokio::task::JoinSet::new();
    let mut multi_status = None;
    if args.runs_workers() {
        let mut options = args.multi_worker_options();
        if args.bus {
            // Subscribed before the first event is driven: the driver matches what is in
            // Redis when it takes an event, and an event no one subscribes to is dropped.
            options.worker.queues = bus_demo::subscribe(&bus, &args.bus_apps).await?;
        }
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
    if args.runs_scheduler() {
        let scheduler = Scheduler::new(args.scheduler_options(), queue.clone(), events.clone());
        let stop = scheduler.stop_token();
        let token = shutdown.clone();
        tokio::spawn(async move {
            token.cancelled().await;
            stop.cancel();
        });
        if args.role == Role::Scheduler {
            kit::ready::announce(
                "scheduler",
                "promotes delayed jobs and cleans up dead workers",
            );
        }
        tasks.spawn(scheduler.run());
        if args.bus {
            tasks.spawn(trigger_heartbeats(bus.clone(), shutdown.clone()));
        }
    }
    if let Some(access) = access {
        let web = Arc::new(Web {
            queue: queue.clone(),
            dashboard: Dashboard::new(Gate::new(access.clone())),
            bus: args.bus.then(|| bus.clone()),
            admin: Admin {
                queue: queue.clone(),
                bus: bus.clone(),
                access,
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

/// The bus heartbeat's trigger, once a minute (node's `publishHeartbeat`): the heartbeat
/// job's lock makes a trigger from every scheduler harmless, and the job publishes every
/// minute that passed since the last one, so a pause loses none.
async fn trigger_heartbeats(bus: Bus, shutdown: tokio_util::sync::CancellationToken) {
    let mut every_minute = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = every_minute.tick() => {}
        }
        if let Err(e) = bus.trigger_heartbeat().await {
            tracing::warn!("bus heartbeat trigger: {e}");
        }
    }
}

/// Logs `worker ready` once the first worker slot has registered in Redis.
async fn announce_ready(mut rx: tokio::sync::broadcast::Receiver<strategy_5::Event>) {
    while let Ok(event) = rx.recv().await {
        if event.event == WorkerEvent::Start && event.source.contains('+') {
            kit::ready::announce("worker", format_args!("{} takes jobs", event.source));
            return;
        }
    }
}
