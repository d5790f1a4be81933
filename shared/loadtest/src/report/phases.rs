//! The table of one scenario's ramp-up and steady part: each run's percentiles for the
//! requests due in the load's first second, and for the rest, on two rows, so a slow start
//! and a steady tail are each seen for what they are.

use super::runs::RunReport;
use super::table::{ms, Cell, Table};
use crate::account::Phase;

const COLUMNS: [&str; 9] = [
    "strategy",
    "part",
    "requests",
    "HTTP p50",
    "p99",
    "max",
    "delivery p50",
    "p99",
    "max",
];

/// Two rows per run that has the split (runs that did not happen, or reports written
/// before the split, have none). `None` when no run has it.
pub fn table(runs: &[&RunReport]) -> Option<Table> {
    let rows: Vec<Vec<Cell>> = runs
        .iter()
        .filter(|run| run.error.is_none())
        .filter_map(|run| Some((run.label(), run.tally.phases.as_ref()?)))
        .flat_map(|(label, phases)| {
            [
                row(&label, "ramp-up (1st s)", &phases.ramp_up),
                row(&label, "steady part", &phases.steady),
            ]
        })
        .collect();
    Table::labelled(&COLUMNS, 2, rows)
}

fn row(label: &str, part: &str, phase: &Phase) -> Vec<Cell> {
    let (l, d) = (&phase.latency_ms, &phase.delivery_ms);
    let latency = |v: Option<f64>| Cell::plain(ms(v));
    vec![
        Cell::plain(label),
        Cell::plain(part),
        Cell::plain(phase.requests.to_string()),
        latency(l.p50),
        latency(l.p99),
        latency(l.max),
        latency(d.p50),
        latency(d.p99),
        latency(d.max),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{report, run, tally};
    use super::*;
    use crate::account::Phases;

    #[test]
    fn each_run_with_the_split_has_a_ramp_up_row_and_a_steady_row() {
        let mut split = tally(0, 0, 0);
        split.phases = Some(Phases {
            ramp_up: Phase {
                requests: 100,
                ..Phase::default()
            },
            steady: Phase {
                requests: 100,
                ..Phase::default()
            },
        });
        let report = report(vec![
            run("2", "default", "steady", split),
            run("3", "default", "steady", tally(0, 0, 0)),
        ]);
        let runs: Vec<&RunReport> = report.runs.iter().collect();
        let table = table(&runs).expect("a table");
        assert_eq!(table.rows.len(), 2, "the run without the split has no rows");
        assert_eq!(table.rows[0][1].text, "ramp-up (1st s)");
        assert_eq!(table.rows[1][1].text, "steady part");
        assert_eq!(table.rows[1][2].text, "100");
        let old: Vec<&RunReport> = report.runs[1..].iter().collect();
        assert_eq!(super::table(&old), None);
    }
}
