//! `loadtest memory`: one strategy under a long steady load, its processes' resident memory
//! read at checkpoints, to check that nothing grows without bound.
//!
//! ```text
//!  sink (latency) ─► deployment ─► RSS "start" ─► load ──► every N sent: RSS "<sent>"
//!                                                   └─► answers in, delivery settled: RSS "end"
//! ```
//!
//! A bounded process rises while its pools, buffers and allocator arenas warm up and then
//! stays level from checkpoint to checkpoint; a leak, or a queue nothing bounds, keeps
//! rising with every checkpoint. A strategy that bounds its queue answers 503 when it is
//! full: the counts of 2xx and refusals say whether the bound was reached.

use crate::catalog::{Strategy, Variant};
use crate::deployment::Deployment;
use crate::load;
use crate::memory::{self, Sample};
use mailer::{Faults, Latency, Sink, SinkConfig};
use std::path::PathBuf;
use std::time::Duration;
use tokio::time::Instant;

/// How a memory run is driven.
#[derive(Debug, Clone)]
pub struct MemorySettings {
    pub requests: usize,
    pub rate: f64,
    /// RSS is read each time this many more requests were sent.
    pub every: usize,
    pub mailer_latency_ms: u64,
    /// Longest wait for delivery to settle after the load.
    pub settle: Duration,
    /// Delivery has settled when no new mail arrived for this long.
    pub quiet: Duration,
    pub bin_dir: PathBuf,
}

/// What one memory run read.
#[derive(Debug, Clone)]
pub struct MemoryRun {
    pub label: String,
    /// `start`, the number sent at each checkpoint, `end`; each with its reading.
    pub checkpoints: Vec<(String, Sample)>,
    pub accepted: usize,
    pub rejected: usize,
    /// Mails the sink accepted by the end.
    pub delivered: u64,
}

/// Runs `strategy` (`variant`) under `settings`, reading RSS at every checkpoint.
pub async fn run(
    strategy: &'static Strategy,
    variant: &'static Variant,
    settings: &MemorySettings,
    progress: &(dyn Fn(String) + Sync),
) -> anyhow::Result<MemoryRun> {
    let sink = Sink::start_local(SinkConfig {
        faults: Faults {
            latency: Latency::fixed(settings.mailer_latency_ms),
            ..Faults::default()
        },
        ..SinkConfig::default()
    })
    .await?;
    let deployment = Deployment::start(strategy, variant, &settings.bin_dir, &sink.url(), None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut checkpoints = vec![("start".to_string(), memory::sample(&deployment.pids()))];
    let load = load::start(deployment.url("/emails"), settings.requests, settings.rate);
    let mut next = settings.every;
    while next <= settings.requests && !load.is_done() {
        load.wait_sent(next).await;
        progress(format!("sent {next}"));
        checkpoints.push((next.to_string(), memory::sample(&deployment.pids())));
        next += settings.every;
    }
    progress("waiting for the last answers".into());
    let load = load.finish().await;
    progress("waiting for delivery to settle".into());
    settle(&sink, settings.quiet, settings.settle).await;
    checkpoints.push(("end".to_string(), memory::sample(&deployment.pids())));
    let accepted = load.records.iter().filter(|r| r.accepted).count();
    let run = MemoryRun {
        label: strategy.label(variant),
        checkpoints,
        accepted,
        rejected: load.records.len() - accepted,
        delivered: sink.stats().accepted,
    };
    deployment.stop().await;
    Ok(run)
}

/// Waits until the sink has accepted nothing new for `quiet`, or `limit` passed.
async fn settle(sink: &Sink, quiet: Duration, limit: Duration) {
    let deadline = Instant::now() + limit;
    let mut count = sink.stats().accepted;
    let mut last_change = Instant::now();
    while Instant::now() < deadline && last_change.elapsed() < quiet {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = sink.stats().accepted;
        if now != count {
            (count, last_change) = (now, Instant::now());
        }
    }
}

/// The run as a markdown table: one row per process, one column per checkpoint, in MiB,
/// and the growth from the first checkpoint after the start (warm-up done) to the end.
pub fn table(run: &MemoryRun) -> String {
    let mut names: Vec<&str> = Vec::new();
    for (_, sample) in &run.checkpoints {
        for (name, _, _) in sample {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
    }
    let mut out = format!(
        "{}: {} accepted, {} refused, {} delivered\n\n| process |",
        run.label, run.accepted, run.rejected, run.delivered
    );
    for (checkpoint, _) in &run.checkpoints {
        out += &format!(" {checkpoint} |");
    }
    out += " first checkpoint to end |\n|---|";
    out += &"---:|".repeat(run.checkpoints.len() + 1);
    out += "\n";
    for name in names {
        let rss = |sample: &Sample| {
            sample
                .iter()
                .find(|(n, _, _)| n == name)
                .and_then(|(_, _, rss)| *rss)
        };
        out += &format!("| {name} |");
        for (_, sample) in &run.checkpoints {
            out += &format!(" {} |", mib(rss(sample)));
        }
        let warm = run.checkpoints.get(1).and_then(|(_, s)| rss(s));
        let end = run.checkpoints.last().and_then(|(_, s)| rss(s));
        out += &format!(" {} |\n", growth(warm, end));
    }
    out
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("–".to_string(), |kib| {
        format!("{:.1}", kib as f64 / 1024.0)
    })
}

fn growth(before: Option<u64>, after: Option<u64>) -> String {
    match (before, after) {
        (Some(before), Some(after)) => format!("{:+.1}", (after as f64 - before as f64) / 1024.0),
        _ => "–".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_a_column_per_checkpoint_and_the_growth_after_warm_up() {
        let sample = |web: u64, worker: Option<u64>| {
            let mut s = vec![("web".to_string(), 1, Some(web))];
            s.extend(worker.map(|kib| ("worker".to_string(), 2, Some(kib))));
            s
        };
        let run = MemoryRun {
            label: "5 resque".into(),
            checkpoints: vec![
                ("start".into(), sample(1024, Some(2048))),
                ("10000".into(), sample(4096, Some(3072))),
                ("end".into(), sample(5120, None)),
            ],
            accepted: 9990,
            rejected: 10,
            delivered: 9990,
        };
        let table = table(&run);
        assert!(table.starts_with("5 resque: 9990 accepted, 10 refused"));
        assert!(table.contains("| process | start | 10000 | end | first checkpoint to end |"));
        assert!(
            table.contains("| web | 1.0 | 4.0 | 5.0 | +1.0 |"),
            "{table}"
        );
        assert!(table.contains("| worker | 2.0 | 3.0 | – | – |"), "{table}");
    }
}
