//! One run: a strategy variant under one scenario, from nothing running to a [`RunReport`].
//!
//! ```text
//!  sink (faults of the scenario) ─► deployment (Redis, roles) ─► load ──┬─► finish load
//!                                                                       └─ halfway: the fault
//!  ─► settle (until the ledger is quiet) ─► read the failed list ─► stop ─► join by id
//! ```
//!
//! Each process's resident memory is read just before the load and again once delivery
//! settled ([`memory`]).
//!
//! The run's directory keeps the sink's ledger and every process's output, so a surprising
//! number can be traced to the log line that explains it.

use crate::account::{our_deliveries, tally};
use crate::catalog::{Strategy, Variant};
use crate::deployment::Deployment;
use crate::load::{self, RunningLoad};
use crate::memory;
use crate::parked::parked_ids;
use crate::report::RunReport;
use crate::scenario::Scenario;
use mailer::{Faults, Latency, Sink, SinkConfig};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::time::Instant;

/// How every run is driven.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub requests: usize,
    /// Requests per second.
    pub rate: f64,
    /// The sink's latency per message.
    pub mailer_latency_ms: u64,
    /// Longest wait for delivery to settle after the load.
    pub settle: Duration,
    /// Delivery has settled when no new mail arrived for this long.
    pub quiet: Duration,
    /// Where the strategy binaries are.
    pub bin_dir: PathBuf,
    /// Makes the mail server's failures repeatable (see `mailer::Faults::seed`).
    pub seed: Option<u64>,
}

/// Runs `strategy` (`variant`) under `scenario`, keeping its files in `run_dir`. `progress`
/// hears what the run is doing. A strategy that cannot start gives a report with `error`.
pub async fn run(
    strategy: &'static Strategy,
    variant: &'static Variant,
    scenario: Scenario,
    settings: &RunSettings,
    run_dir: &Path,
    progress: &(dyn Fn(String) + Sync),
) -> RunReport {
    let mut report = RunReport {
        strategy: strategy.id.to_string(),
        title: strategy.title.to_string(),
        variant: variant.name.to_string(),
        scenario: scenario.name().to_string(),
        tally: Default::default(),
        rate: 0.0,
        notes: Vec::new(),
        still_delivering_per_s: None,
        memory: Vec::new(),
        error: None,
    };
    if let Err(e) = drive(
        strategy,
        variant,
        scenario,
        settings,
        run_dir,
        progress,
        &mut report,
    )
    .await
    {
        let message = format!("{e:#}");
        let _ = std::fs::write(run_dir.join("error.txt"), &message);
        report.error = Some(message);
    }
    report
}

async fn drive(
    strategy: &'static Strategy,
    variant: &'static Variant,
    scenario: Scenario,
    settings: &RunSettings,
    run_dir: &Path,
    progress: &(dyn Fn(String) + Sync),
    report: &mut RunReport,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(run_dir)?;
    let ledger = run_dir.join("ledger.jsonl");
    let _ = std::fs::remove_file(&ledger);
    let sink = Sink::start_local(SinkConfig {
        faults: Faults {
            seed: settings.seed,
            ..scenario.sink_faults(Latency::fixed(settings.mailer_latency_ms))
        },
        ledger: Some(ledger),
        ..SinkConfig::default()
    })
    .await?;

    progress("starting".into());
    let held_back = scenario.held_back_role(strategy);
    let mut deployment =
        Deployment::start(strategy, variant, &settings.bin_dir, &sink.url(), held_back).await?;

    let memory_before = memory::sample(&deployment.pids());
    let load = load::start(deployment.url("/emails"), settings.requests, settings.rate);
    if scenario.has_mid_run_fault() {
        watch(&load, settings.requests / 2, settings.requests, progress).await;
        if scenario == Scenario::WorkerCrash {
            // Triggered by a state, not only by the clock: halfway, and then the moment a
            // mail is in the middle of its send. A kill that lands between two sends would
            // catch nothing in hand now and then, and a run that loses mail would pass.
            wait_for_a_send_in_progress(&sink, SEND_IN_PROGRESS_WAIT).await;
        }
        progress(format!("injecting {scenario}"));
        // Counted now: the fault itself takes a while (a restart, a re-fork), and the load
        // goes on meanwhile.
        let sent_at_fault = load.sent();
        let injected = match scenario {
            Scenario::WorkerCrash => deployment.crash_worker().await,
            Scenario::RedisRestart => deployment.restart_redis().await,
            Scenario::LateWorker => match held_back {
                Some(role) => deployment.start_late(role).await,
                None => Err(anyhow::anyhow!(
                    "this strategy has no worker process to hold back"
                )),
            },
            Scenario::Steady | Scenario::FlakyMailer => unreachable!("no mid-run fault"),
        };
        report.notes.push(match injected {
            Ok(what) => format!("after {sent_at_fault} requests: {what}"),
            Err(e) => format!("the {scenario} fault failed: {e:#}"),
        });
    }
    watch(&load, settings.requests, settings.requests, progress).await;
    progress("waiting for the last answers".into());
    let load = load.finish().await;

    progress("waiting for delivery to settle".into());
    report.still_delivering_per_s = settle(&sink, settings.quiet, settings.settle, progress).await;
    if let Some(per_s) = report.still_delivering_per_s {
        report.notes.push(format!(
            "delivery had not settled after {} s: mail was still arriving at {per_s} per second \
             when the harness stopped waiting; what was still queued then counts as lost (not \
             delivered in time)",
            settings.settle.as_secs_f64()
        ));
    }
    let parked = match parked_ids(&deployment.url("/parked")).await {
        Ok(parked) => parked,
        Err(e) => {
            report
                .notes
                .push(format!("could not read what was parked: {e:#}"));
            Default::default()
        }
    };

    report.memory = memory::pair(&memory_before, &memory::sample(&deployment.pids()));

    progress("stopping".into());
    for (role, log) in deployment.stop().await {
        std::fs::write(run_dir.join(format!("{role}.log")), log)?;
    }
    report.tally = tally(&load.records, &our_deliveries(&sink.deliveries()), &parked);
    if !strategy.sends_mail() {
        // The floor promised no mail: what it answered 202 for is not lost.
        report.tally.lost = 0;
    }
    report.rate = (settings.requests as f64 / load.elapsed.as_secs_f64() * 10.0).round() / 10.0;
    Ok(())
}

/// How long `worker-crash` waits, past halfway, for a mail to be in the middle of its send
/// (with a mail server latency of zero there may never be one long enough to see).
const SEND_IN_PROGRESS_WAIT: Duration = Duration::from_secs(2);

/// Waits until the sink holds a message it has read and not answered yet (the sender is
/// waiting for its 250), or `limit` passed.
async fn wait_for_a_send_in_progress(sink: &Sink, limit: Duration) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        let stats = sink.stats();
        let answered = stats.accepted
            + stats.transient_failures
            + stats.permanent_failures
            + stats.dropped
            + stats.aborted;
        if stats.data_started > answered {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Waits until `until` requests were sent, reporting progress.
async fn watch(load: &RunningLoad, until: usize, total: usize, progress: &(dyn Fn(String) + Sync)) {
    loop {
        let sent = load.sent();
        progress(format!("load {sent}/{total}"));
        if sent >= until || load.is_done() {
            return;
        }
        tokio::select! {
            _ = load.wait_sent(until) => {}
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
    }
}

/// Waits until the sink has accepted nothing new for `quiet`, or `limit` passed. Returns
/// `None` when delivery settled (or nothing arrived in the wait's last second either), else
/// the mails per second that arrived over that last second: a worker still draining its
/// backlog, cut short by the limit.
async fn settle(
    sink: &Sink,
    quiet: Duration,
    limit: Duration,
    progress: &(dyn Fn(String) + Sync),
) -> Option<f64> {
    let deadline = Instant::now() + limit;
    // (when, delivered) once per poll, the last second's worth, for the rate at the end.
    let mut recent: std::collections::VecDeque<(Instant, u64)> = Default::default();
    let mut count = sink.stats().accepted;
    let mut last_change = Instant::now();
    while Instant::now() < deadline && last_change.elapsed() < quiet {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = sink.stats().accepted;
        recent.push_back((Instant::now(), now));
        while recent.len() > 1 && recent[0].0.elapsed() > Duration::from_secs(1) {
            recent.pop_front();
        }
        if now != count {
            count = now;
            last_change = Instant::now();
            progress(format!(
                "waiting for delivery to settle: {count} mails delivered"
            ));
        }
    }
    if last_change.elapsed() >= quiet {
        return None;
    }
    let (first, last) = (recent.front()?, recent.back()?);
    let seconds = (last.0 - first.0).as_secs_f64();
    let per_s = if seconds > 0.0 {
        (last.1 - first.1) as f64 / seconds
    } else {
        0.0
    };
    (per_s > 0.0).then_some((per_s * 10.0).round() / 10.0)
}
