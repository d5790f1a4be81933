//! The matrix: every selected strategy, each of its variants, under every selected scenario,
//! one run at a time (they share two cores; overlapping runs would measure each other).

use crate::catalog::{Strategy, Variant, FLOOR};
use crate::report::{Report, RunReport, Settings};
use crate::run::{run, RunSettings};
use crate::scenario::Scenario;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::Path;

/// One planned run.
pub struct Planned {
    pub strategy: &'static Strategy,
    pub variant: &'static Variant,
    pub scenario: Scenario,
}

impl Planned {
    /// `2-default-worker-crash`: the run's directory under `runs/`.
    pub fn dir_name(&self) -> String {
        format!(
            "{}-{}-{}",
            self.strategy.id, self.variant.name, self.scenario
        )
    }
}

/// Every run of the matrix, skipping scenarios that mean nothing for a strategy (a Redis
/// restart for a strategy without Redis). `variants` keeps only the variants of those
/// names; empty, every variant runs. The floor ([`FLOOR`]) comes first, selected or not,
/// so that a report with a steady run always has the floor measured beside it.
pub fn plan(
    strategies: &[&'static Strategy],
    scenarios: &[Scenario],
    variants: &[String],
) -> Vec<Planned> {
    let floor = strategies.iter().all(|s| s.sends_mail()).then_some(&FLOOR);
    let mut planned = Vec::new();
    for &scenario in scenarios {
        for strategy in floor.into_iter().chain(strategies.iter().copied()) {
            if !scenario.applies_to(strategy) {
                continue;
            }
            let selected = strategy.variants.iter().filter(|v| {
                variants.is_empty()
                    || !strategy.sends_mail()
                    || variants.iter().any(|name| name == v.name)
            });
            for variant in selected {
                planned.push(Planned {
                    strategy,
                    variant,
                    scenario,
                });
            }
        }
    }
    planned
}

/// Runs the matrix, writing each run's files under `out/runs/` and the report into `out`.
pub async fn compare(
    strategies: &[&'static Strategy],
    scenarios: &[Scenario],
    variants: &[String],
    settings: &RunSettings,
    out: &Path,
) -> anyhow::Result<Report> {
    let planned = plan(strategies, scenarios, variants);
    let bar =
        ProgressBar::with_draw_target(Some(planned.len() as u64), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} runs  {msg}")?
            .progress_chars("=> "),
    );
    // Redraw on a clock too, so the elapsed time moves while a phase waits (delivery
    // settling, a restart) and nothing else would redraw the bar.
    bar.enable_steady_tick(std::time::Duration::from_millis(500));
    let mut runs: Vec<RunReport> = Vec::with_capacity(planned.len());
    for item in &planned {
        let label = item.strategy.label(item.variant);
        let scenario = item.scenario;
        let progress = |phase: String| bar.set_message(format!("{label} · {scenario}: {phase}"));
        let report = run(
            item.strategy,
            item.variant,
            item.scenario,
            settings,
            &out.join("runs").join(item.dir_name()),
            &progress,
        )
        .await;
        bar.suspend(|| eprintln!("{}", one_line(&report)));
        runs.push(report);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let report = Report {
        settings: Settings {
            requests: settings.requests,
            rate: settings.rate,
            mailer_latency_ms: settings.mailer_latency_ms,
            settle_s: settings.settle.as_secs_f64(),
            quiet_s: settings.quiet.as_secs_f64(),
            seed: settings.seed,
        },
        runs,
    };
    report.write(out)?;
    Ok(report)
}

/// The line printed as each run ends.
fn one_line(run: &RunReport) -> String {
    let head = format!("{:<28} {:<14}", run.label(), run.scenario);
    match &run.error {
        Some(error) => format!("{head} {}", crate::report::short_error(error)),
        None => {
            let t = &run.tally;
            format!(
                "{head} accepted {:>4}  rejected {:>4}  delivered {:>4}  dup {:>3}  lost {:>4}  parked {:>4}  p99 {:>7.1} ms",
                t.accepted,
                t.rejected,
                t.delivered,
                t.duplicates,
                t.lost,
                t.parked,
                t.latency_ms.p99.unwrap_or(0.0)
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::STRATEGIES;

    #[test]
    fn the_default_matrix_runs_every_variant_and_restarts_redis_only_where_there_is_one() {
        let all: Vec<&'static Strategy> = STRATEGIES.iter().collect();
        let planned = plan(&all, &Scenario::ALL, &[]);
        // The floor in steady, 11 variants (3, 4 and 6 have two, 5 three) in 3 scenarios, and
        // the 7 variants of 4 to 6 (with Redis, and a worker process of their own) in
        // redis-restart and late-worker.
        assert_eq!(planned.len(), 1 + 11 * 3 + 7 + 7);
        assert_eq!(planned[0].dir_name(), "0-default-steady");
        assert!(planned
            .iter()
            .filter(|p| p.scenario == Scenario::RedisRestart)
            .all(|p| p.strategy.uses_redis));
        assert!(planned
            .iter()
            .filter(|p| p.scenario == Scenario::LateWorker)
            .all(|p| p.strategy.worker_role().is_some()));
        let names: Vec<String> = planned.iter().map(Planned::dir_name).collect();
        assert!(names.contains(&"5-reliable-worker-crash".to_string()));
        assert!(names.contains(&"3-ack-worker-crash".to_string()));
        assert!(names.contains(&"4-require-receivers-late-worker".to_string()));
        assert!(names.contains(&"6-at-most-once-redis-restart".to_string()));
    }

    #[test]
    fn a_variant_selection_keeps_only_the_variants_of_those_names() {
        let resque = vec![crate::catalog::find("5").unwrap()];
        let planned = plan(&resque, &[Scenario::WorkerCrash], &["reliable".into()]);
        let names: Vec<String> = planned.iter().map(Planned::dir_name).collect();
        assert_eq!(names, ["5-reliable-worker-crash"]);
    }

    #[test]
    fn the_floor_runs_once_in_steady_whatever_the_selection() {
        let resque = vec![crate::catalog::find("5").unwrap()];
        let planned = plan(&resque, &Scenario::ALL, &["reliable".into()]);
        let names: Vec<String> = planned.iter().map(Planned::dir_name).collect();
        assert_eq!(names[0], "0-default-steady");
        assert_eq!(names.iter().filter(|n| n.starts_with("0-")).count(), 1);
        let with_floor = vec![&FLOOR, crate::catalog::find("5").unwrap()];
        let planned = plan(&with_floor, &[Scenario::Steady], &[]);
        assert_eq!(
            planned.len(),
            1 + 3,
            "the floor once, and 5's three variants"
        );
    }
}
