//! The table the report opens with: one row per strategy variant, what it costs (latency in
//! the steady run) and what each fault did to its mail (lost / parked / duplicates), narrow
//! enough to take in at a glance.

use super::runs::{Report, RunReport};
use super::table::{ms_pair, Align, Cell, Table, Tone};
use crate::account::Tally;

/// The scenario without a fault. Its latencies are the cost of a strategy; the other
/// scenarios each get a column of their own.
const BASELINE: &str = "steady";

/// One row per strategy variant; `–` where a scenario does not apply to it, `not run`
/// where its run did not happen.
pub fn table(report: &Report) -> Table {
    let baseline = baseline(report);
    let faults = faults(report);
    let mut columns = vec![
        ("strategy".to_string(), Align::Left),
        ("HTTP p50 / p99".to_string(), Align::Right),
        ("delivery p50 / p99".to_string(), Align::Right),
    ];
    columns.extend(faults.iter().map(|f| (f.to_string(), Align::Right)));
    let rows = report
        .labels()
        .into_iter()
        .map(|label| {
            let run_in = |scenario: &str| {
                report
                    .runs_labelled(&label)
                    .find(|run| run.scenario == scenario)
            };
            let base = baseline.and_then(run_in);
            let mut row = vec![
                Cell::plain(label.as_str()),
                cell(base, |t| {
                    Cell::plain(ms_pair(t.latency_ms.p50, t.latency_ms.p99))
                }),
                cell(base, |t| {
                    Cell::plain(ms_pair(t.delivery_ms.p50, t.delivery_ms.p99))
                }),
            ];
            row.extend(faults.iter().map(|&fault| cell(run_in(fault), outcome)));
            row
        })
        .collect();
    Table { columns, rows }
}

/// The one line under the table that says how to read its cells.
pub fn how_to_read(report: &Report) -> String {
    let mut line = match baseline(report) {
        Some(baseline) => format!("Latency: p50 / p99 in the {baseline} run."),
        None => String::new(),
    };
    if !faults(report).is_empty() {
        line.push_str(
            " Each fault column: lost / parked / duplicates (lost, in bold when it is not zero, \
             is accepted mail that never arrived and nobody knows).",
        );
    }
    line.push_str(" –: the scenario does not apply; not run: the run did not happen.");
    line.trim_start().to_string()
}

/// Where the latencies come from: the steady run, or the first scenario run without one.
fn baseline(report: &Report) -> Option<&str> {
    let scenarios = report.scenarios();
    scenarios
        .iter()
        .find(|s| **s == BASELINE)
        .or(scenarios.first())
        .copied()
}

fn faults(report: &Report) -> Vec<&str> {
    let mut scenarios = report.scenarios();
    scenarios.retain(|s| *s != BASELINE);
    scenarios
}

/// What `show` makes of the run's numbers, if the run applies and happened.
fn cell(run: Option<&RunReport>, show: impl Fn(&Tally) -> Cell) -> Cell {
    match run {
        None => not_applicable(),
        Some(run) if run.error.is_some() => not_run(),
        Some(run) => show(&run.tally),
    }
}

/// `lost / parked / duplicates`, an alarm when mail was lost.
fn outcome(t: &Tally) -> Cell {
    let text = format!("{} / {} / {}", t.lost, t.parked, t.duplicates);
    Cell::toned(text, Cell::lost(t.lost).tone)
}

fn not_run() -> Cell {
    Cell::toned("not run", Tone::NotRun)
}

fn not_applicable() -> Cell {
    Cell::toned("–", Tone::NotApplicable)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::{not_run, report, run, tally};

    fn texts(row: &[Cell]) -> Vec<&str> {
        row.iter().map(|cell| cell.text.as_str()).collect()
    }

    #[test]
    fn one_row_per_variant_with_its_steady_latency_and_each_faults_outcome() {
        let report = report(vec![
            run("2", "default", "steady", tally(0, 0, 0)),
            run("5", "default", "steady", tally(0, 0, 0)),
            not_run("5", "reliable", "steady", "not built: strategy-5"),
            run("2", "default", "flaky-mailer", tally(40, 0, 0)),
            run("5", "default", "flaky-mailer", tally(0, 35, 0)),
            run("5", "reliable", "flaky-mailer", tally(0, 0, 0)),
            run("5", "default", "redis-restart", tally(0, 0, 2)),
        ]);
        let table = table(&report);
        let headings: Vec<&str> = table.columns.iter().map(|(h, _)| h.as_str()).collect();
        assert_eq!(
            headings,
            [
                "strategy",
                "HTTP p50 / p99",
                "delivery p50 / p99",
                "flaky-mailer",
                "redis-restart"
            ]
        );
        assert_eq!(table.rows.len(), 3, "{table:#?}");
        assert_eq!(
            texts(&table.rows[0]),
            [
                "2 fire-and-forget",
                "1.6 / 8.5 ms",
                "4.4 / 8.6 s",
                "40 / 0 / 0",
                "–"
            ]
        );
        assert_eq!(table.rows[0][3].tone, Tone::Alarm);
        assert_eq!(
            texts(&table.rows[1]),
            [
                "5 resque (default)",
                "1.6 / 8.5 ms",
                "4.4 / 8.6 s",
                "0 / 35 / 0",
                "0 / 0 / 2"
            ]
        );
        assert_eq!(table.rows[1][3].tone, Tone::Plain);
        // Not run in steady: no latency to show, and it says so.
        assert_eq!(
            texts(&table.rows[2]),
            [
                "5 resque (reliable)",
                "not run",
                "not run",
                "0 / 0 / 0",
                "–"
            ]
        );
        assert_eq!(table.rows[2][1].tone, Tone::NotRun);
        assert_eq!(table.rows[2][4].tone, Tone::NotApplicable);
    }

    #[test]
    fn rows_follow_the_strategies_whatever_scenario_ran_first() {
        let report = report(vec![
            run("6", "at-least-once", "redis-restart", tally(0, 0, 0)),
            run("1", "default", "steady", tally(0, 0, 0)),
            run("6", "at-least-once", "steady", tally(0, 0, 0)),
        ]);
        let labels: Vec<String> = table(&report)
            .rows
            .iter()
            .map(|row| row[0].text.clone())
            .collect();
        assert_eq!(labels, ["1 foreground", "6 event-bus (at-least-once)"]);
    }

    #[test]
    fn without_a_steady_run_the_latencies_come_from_the_first_scenario() {
        let report = report(vec![run("2", "default", "worker-crash", tally(5, 0, 0))]);
        let table = table(&report);
        assert_eq!(
            texts(&table.rows[0]),
            [
                "2 fire-and-forget",
                "1.6 / 8.5 ms",
                "4.4 / 8.6 s",
                "5 / 0 / 0"
            ]
        );
        assert!(how_to_read(&report).starts_with("Latency: p50 / p99 in the worker-crash run."));
    }
}
