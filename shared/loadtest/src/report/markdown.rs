//! `report.md`: one table per scenario, then one sentence per strategy.

use super::verdict::{short_error, verdict};
use super::{Report, RunReport};
use crate::scenario::Scenario;
use std::fmt::Write;

const HOW_TO_READ: &str = "\
How to read it: **accepted** requests got a 2xx, so the client believes the mail is on its way; \
**rejected** ones got an error or no answer, so the client knows and can retry. Every accepted \
mail ends up **delivered** (the mail server has it), **parked** (it failed, and sits in a failed \
list where someone can see and retry it), or **lost**: accepted, never delivered, and nobody \
knows. Lost is the number a strategy must keep at zero. **dup** counts extra copies of mails \
delivered more than once. **HTTP** columns are the latency of the answer, measured from the \
moment the request was due (open loop, so a stall cannot hide); **delivery** columns go from \
that moment to the mail's arrival at the mail server.";

/// The whole report.
pub fn render(report: &Report, charts: &[String]) -> String {
    let s = &report.settings;
    let mut md = String::new();
    let _ = writeln!(md, "# offload: the strategies side by side\n");
    let _ = writeln!(
        md,
        "Each run: {} requests at {}/s (open loop), mail server latency {} ms, then delivery \
         allowed to settle (until no new mail for {} s, at most {} s). Every run has its own \
         processes, mail server and Redis.\n",
        s.requests, s.rate, s.mailer_latency_ms, s.quiet_s, s.settle_s
    );
    let _ = writeln!(md, "{HOW_TO_READ}\n");
    if charts.iter().any(|c| c == "loss.svg") {
        let _ = writeln!(md, "![Lost mail per scenario](loss.svg)\n");
    }
    for scenario in report.scenarios() {
        let runs: Vec<&RunReport> = report.runs_of(scenario).collect();
        let _ = writeln!(md, "## {scenario}\n");
        if let Ok(known) = scenario.parse::<Scenario>() {
            let _ = writeln!(md, "{}\n", known.description());
        }
        md.push_str(&table(&runs));
        md.push('\n');
        for run in &runs {
            let _ = writeln!(md, "- **{}**: {}", run.label(), verdict(run));
        }
        md.push('\n');
        let notes: Vec<String> = runs
            .iter()
            .flat_map(|run| {
                run.notes
                    .iter()
                    .map(|note| format!("{}: {note}", run.label()))
            })
            .collect();
        if !notes.is_empty() {
            let _ = writeln!(md, "What the harness did and noticed:\n");
            for note in notes {
                let _ = writeln!(md, "- {note}");
            }
            md.push('\n');
        }
        let chart = format!("latency-{scenario}.svg");
        if charts.contains(&chart) {
            let _ = writeln!(md, "![HTTP latency, {scenario}]({chart})\n");
        }
    }
    md
}

fn table(runs: &[&RunReport]) -> String {
    let mut md = String::from(
        "| strategy | accepted | rejected | delivered | dup | lost | parked \
         | HTTP p50 | p90 | p99 | max | delivery p50 | p99 | max | rate/s |\n\
         |---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n",
    );
    for run in runs {
        if let Some(error) = &run.error {
            let _ = writeln!(
                md,
                "| {} | {} |{}",
                run.label(),
                short_error(error).replace('|', "\\|"),
                " |".repeat(13)
            );
            continue;
        }
        let (t, l, d) = (&run.tally, &run.tally.latency_ms, &run.tally.delivery_ms);
        let lost = if t.lost > 0 {
            format!("**{}**", t.lost)
        } else {
            "0".to_string()
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.0} |",
            run.label(),
            t.accepted,
            t.rejected,
            t.delivered,
            t.duplicates,
            lost,
            t.parked,
            ms(l.p50),
            ms(l.p90),
            ms(l.p99),
            ms(l.max),
            ms(d.p50),
            ms(d.p99),
            ms(d.max),
            run.rate
        );
    }
    md
}

fn ms(value: Option<f64>) -> String {
    match value {
        None => "–".to_string(),
        Some(v) if v < 10.0 => format!("{v:.1} ms"),
        Some(v) if v < 1000.0 => format!("{v:.0} ms"),
        Some(v) => format!("{:.1} s", v / 1000.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Tally;

    fn run(tally: Tally) -> RunReport {
        RunReport {
            strategy: "2".into(),
            title: "fire-and-forget".into(),
            variant: "default".into(),
            scenario: "worker-crash".into(),
            tally,
            rate: 99.0,
            notes: Vec::new(),
            error: None,
        }
    }

    #[test]
    fn a_run_that_did_not_start_says_why_in_its_row() {
        let mut failed = run(Tally::default());
        failed.error = Some(
            "did not start: web role: exited (exit status: 2) before /healthz answered: \
             strategy-3 is not built yet\n\nits last output:\nstrategy-3 is not built yet"
                .into(),
        );
        let md = table(&[&failed]);
        assert!(md.contains("did not start"), "{md}");
        assert!(md.contains("strategy-3 is not built yet"), "{md}");
        // A row with the same number of cells as the header.
        let row = md.lines().nth(2).unwrap();
        assert_eq!(row.matches('|').count(), 16, "{row}");
    }
}
