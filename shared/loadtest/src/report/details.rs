//! The table of one scenario: every count and percentile of each run, for the reader who
//! wants to check a verdict against its numbers.

use super::runs::RunReport;
use super::table::{ms, Align, Cell, Table, Tone};
use super::verdict::short_error;

const COLUMNS: [&str; 15] = [
    "strategy",
    "accepted",
    "rejected",
    "delivered",
    "dup",
    "lost",
    "parked",
    "HTTP p50",
    "p90",
    "p99",
    "max",
    "delivery p50",
    "p99",
    "max",
    "rate/s",
];

/// One row per run, in the order given.
pub fn table(runs: &[&RunReport]) -> Table {
    let columns = COLUMNS
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let align = if i == 0 { Align::Left } else { Align::Right };
            (name.to_string(), align)
        })
        .collect();
    Table {
        columns,
        rows: runs.iter().map(|run| row(run)).collect(),
    }
}

fn row(run: &RunReport) -> Vec<Cell> {
    let label = Cell::plain(run.label());
    if let Some(error) = &run.error {
        // No numbers to show: the reason takes their place.
        let reason = Cell::toned(short_error(error), Tone::NotRun).spanning(COLUMNS.len() - 1);
        return vec![label, reason];
    }
    let (t, l, d) = (&run.tally, &run.tally.latency_ms, &run.tally.delivery_ms);
    let count = |n: u64| Cell::plain(n.to_string());
    let latency = |v: Option<f64>| Cell::plain(ms(v));
    vec![
        label,
        count(t.accepted),
        count(t.rejected),
        count(t.delivered),
        count(t.duplicates),
        Cell::lost(t.lost),
        count(t.parked),
        latency(l.p50),
        latency(l.p90),
        latency(l.p99),
        latency(l.max),
        latency(d.p50),
        latency(d.p99),
        latency(d.max),
        Cell::plain(format!("{:.0}", run.rate)),
    ]
}
