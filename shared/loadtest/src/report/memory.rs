//! The table of one scenario's memory: each process's resident size before the load and
//! after delivery settled, and the difference, so growth over a run can be seen (and over
//! a longer run, `loadtest memory`, checked for growth without bound).

use super::runs::RunReport;
use super::table::{Cell, Table};

const COLUMNS: [&str; 5] = ["strategy", "process", "RSS before", "after", "growth"];

/// One row per process of each run that read its memory; `None` when no run did.
pub fn table(runs: &[&RunReport]) -> Option<Table> {
    let rows: Vec<Vec<Cell>> = runs
        .iter()
        .flat_map(|run| {
            let label = run.label();
            run.memory.iter().map(move |process| {
                vec![
                    Cell::plain(label.clone()),
                    Cell::plain(process.process.clone()),
                    Cell::plain(mib(process.before_kib)),
                    Cell::plain(mib(process.after_kib)),
                    Cell::plain(growth(process.before_kib, process.after_kib)),
                ]
            })
        })
        .collect();
    Table::labelled(&COLUMNS, 2, rows)
}

/// `12.3 MiB`; `–` when the process was not there to read.
pub fn mib(kib: Option<u64>) -> String {
    kib.map_or("–".to_string(), |kib| {
        format!("{:.1} MiB", kib as f64 / 1024.0)
    })
}

/// `+1.2 MiB`, `-0.3 MiB`; `–` without both readings.
pub fn growth(before: Option<u64>, after: Option<u64>) -> String {
    match (before, after) {
        (Some(before), Some(after)) => {
            format!("{:+.1} MiB", (after as f64 - before as f64) / 1024.0)
        }
        _ => "–".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{report, run, tally};
    use super::*;
    use crate::memory::ProcessMemory;

    #[test]
    fn each_process_has_its_row_with_its_growth() {
        let mut measured = run("3", "default", "steady", tally(0, 0, 0));
        measured.memory = vec![
            ProcessMemory {
                process: "supervisor".into(),
                before_kib: Some(4096),
                after_kib: Some(5120),
            },
            ProcessMemory {
                process: "supervisor child".into(),
                before_kib: Some(2048),
                after_kib: None,
            },
        ];
        let report = report(vec![
            measured,
            run("2", "default", "steady", tally(0, 0, 0)),
        ]);
        let runs: Vec<&RunReport> = report.runs.iter().collect();
        let table = table(&runs).expect("a table");
        assert_eq!(table.rows.len(), 2);
        let texts: Vec<&str> = table.rows[0].iter().map(|c| c.text.as_str()).collect();
        assert_eq!(
            &texts[1..],
            ["supervisor", "4.0 MiB", "5.0 MiB", "+1.0 MiB"]
        );
        assert_eq!(table.rows[1][4].text, "–");
        assert_eq!(super::table(&runs[1..]), None);
    }
}
