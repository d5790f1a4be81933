//! `report.md`: one table per scenario, then one sentence per strategy.

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

/// The first line of an error: the harness's errors put the reason there and the process
/// output after it (kept in report.json and the run's `error.txt`).
pub fn short_error(error: &str) -> String {
    error
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or("failed")
        .to_string()
}

/// One sentence on what the run shows, worst news first.
pub fn verdict(run: &RunReport) -> String {
    if let Some(error) = &run.error {
        return capitalized(format!("{}.", short_error(error).trim_end_matches('.')));
    }
    let t = &run.tally;
    let mut parts = Vec::new();
    if t.accepted == 0 {
        parts.push("accepted no request at all".to_string());
    } else if t.lost > 0 {
        parts.push(format!(
            "lost {} of {} accepted mails, and nobody was told",
            t.lost, t.accepted
        ));
    } else if t.parked > 0 {
        let (verb, pronoun) = if t.parked == 1 {
            ("is", "it")
        } else {
            ("are", "them")
        };
        parts.push(format!(
            "lost nothing silently: {} accepted mails arrived, {} failed and {verb} parked \
             (a failed or dead-letter list) where someone can see and retry {pronoun}",
            t.accepted - t.parked,
            t.parked
        ));
    } else {
        parts.push(format!(
            "delivered every one of the {} accepted mails",
            t.accepted
        ));
    }
    if t.rejected > 0 {
        parts.push(format!(
            "refused {} of {} requests and said so (the client can retry)",
            t.rejected, t.requests
        ));
    }
    if t.duplicates > 0 {
        let copies = if t.duplicates == 1 { "copy" } else { "copies" };
        parts.push(format!("delivered {} extra {copies}", t.duplicates));
    }
    if t.rejected_but_delivered > 0 {
        let (noun, verb, pronoun) = if t.rejected_but_delivered == 1 {
            ("request", "was", "it")
        } else {
            ("requests", "were", "them")
        };
        parts.push(format!(
            "{} refused {noun} {verb} delivered anyway (a retry would send {pronoun} twice)",
            t.rejected_but_delivered
        ));
    }
    capitalized(parts.join("; ") + ".")
}

fn capitalized(mut sentence: String) -> String {
    if let Some(first) = sentence.get(0..1) {
        sentence.replace_range(0..1, &first.to_uppercase());
    }
    sentence
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
    fn the_verdict_leads_with_silent_loss() {
        let verdict = verdict(&run(Tally {
            requests: 100,
            accepted: 95,
            rejected: 5,
            delivered: 90,
            lost: 5,
            ..Tally::default()
        }));
        assert!(
            verdict.starts_with("Lost 5 of 95 accepted mails"),
            "{verdict}"
        );
        assert!(verdict.contains("refused 5 of 100 requests"), "{verdict}");
    }

    #[test]
    fn the_verdict_praises_only_a_clean_run() {
        let clean = verdict(&run(Tally {
            requests: 100,
            accepted: 100,
            delivered: 100,
            ..Tally::default()
        }));
        assert_eq!(clean, "Delivered every one of the 100 accepted mails.");
        let parked = verdict(&run(Tally {
            requests: 10,
            accepted: 10,
            delivered: 8,
            parked: 2,
            duplicates: 1,
            ..Tally::default()
        }));
        assert!(parked.starts_with("Lost nothing silently"), "{parked}");
        assert!(parked.contains("1 extra copy"), "{parked}");
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
