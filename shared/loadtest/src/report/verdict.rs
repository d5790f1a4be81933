//! The plain words of the report: one sentence per run, worst news first.

use super::runs::RunReport;

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
    if is_floor(run) {
        return format!(
            "The floor: answered {} of {} requests and sends no mail; its HTTP latency is what \
             HTTP alone costs in this run.",
            t.accepted, t.requests
        );
    }
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
    if let Some(per_s) = run.still_delivering_per_s {
        parts.push(format!(
            "delivery had not settled when the harness stopped waiting (still {per_s} mails/s): \
             mail still queued then counts as lost, it was not delivered in time"
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

/// One line on a strategy variant across the scenarios it ran: each scenario's news, worst
/// first, the scenarios with the same news named together.
pub fn across_scenarios(runs: &[&RunReport]) -> String {
    let mut news: Vec<(Rank, String, Vec<&str>)> = Vec::new();
    for run in runs {
        let (rank, text) = news_of(run);
        match news.iter_mut().find(|(_, known, _)| *known == text) {
            Some((_, _, scenarios)) => scenarios.push(&run.scenario),
            None => news.push((rank, text, vec![&run.scenario])),
        }
    }
    news.sort_by_key(|(rank, _, _)| *rank);
    let sentences: Vec<String> = news
        .iter()
        .map(|(_, text, scenarios)| format!("Under {}: {text}", listed(scenarios)))
        .collect();
    sentences.join(" ")
}

/// How bad a run's news is, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rank {
    SilentLoss,
    Parked,
    NotRun,
    Other,
    Clean,
}

/// The floor's row: it sends no mail, so no mail count says anything about it.
fn is_floor(run: &RunReport) -> bool {
    crate::catalog::find(&run.strategy).is_some_and(|s| !s.sends_mail())
}

fn news_of(run: &RunReport) -> (Rank, String) {
    let t = &run.tally;
    let rank = if run.error.is_some() {
        Rank::NotRun
    } else if is_floor(run) {
        Rank::Other
    } else if t.lost > 0 {
        Rank::SilentLoss
    } else if t.parked > 0 {
        Rank::Parked
    } else if t.accepted > 0
        && t.rejected == 0
        && t.duplicates == 0
        && t.rejected_but_delivered == 0
    {
        // Clean runs differ only in how many mails they had: one sentence for them all.
        return (Rank::Clean, "Delivered every accepted mail, once.".into());
    } else {
        Rank::Other
    };
    (rank, verdict(run))
}

/// `a`, `a and b`, `a, b and c`.
fn listed(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
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
    use crate::report::fixtures::{self, tally};

    fn run(tally: Tally) -> RunReport {
        fixtures::run("2", "default", "worker-crash", tally)
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
    fn mail_still_arriving_at_the_settle_limit_is_said_to_be_late() {
        let mut late = run(tally(150, 0, 0));
        late.still_delivering_per_s = Some(19.6);
        let verdict = verdict(&late);
        assert!(verdict.starts_with("Lost 150 of 200"), "{verdict}");
        assert!(
            verdict.contains("still 19.6 mails/s") && verdict.contains("not delivered in time"),
            "{verdict}"
        );
        assert!(!super::verdict(&run(tally(5, 0, 0))).contains("in time"));
    }

    #[test]
    fn the_floor_is_not_praised_for_mail_it_never_had_to_send() {
        let floor = fixtures::run("0", "default", "steady", tally(0, 0, 0));
        let verdict = verdict(&floor);
        assert!(verdict.starts_with("The floor: answered"), "{verdict}");
        assert!(!across_scenarios(&[&floor]).contains("Delivered"));
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
    fn across_scenarios_the_worst_news_comes_first_and_clean_runs_go_together() {
        let runs = [
            fixtures::run("5", "default", "steady", tally(0, 0, 0)),
            fixtures::run("5", "default", "flaky-mailer", tally(0, 35, 0)),
            fixtures::run("5", "default", "worker-crash", tally(3, 0, 0)),
            fixtures::run("5", "default", "redis-restart", tally(0, 0, 0)),
        ];
        let line = across_scenarios(&runs.iter().collect::<Vec<_>>());
        assert_eq!(
            line,
            "Under worker-crash: Lost 3 of 200 accepted mails, and nobody was told. \
             Under flaky-mailer: Lost nothing silently: 165 accepted mails arrived, 35 failed \
             and are parked (a failed or dead-letter list) where someone can see and retry \
             them. Under steady and redis-restart: Delivered every accepted mail, once."
        );
    }

    #[test]
    fn across_scenarios_a_variant_that_never_ran_says_why_once() {
        let runs: Vec<RunReport> = ["steady", "flaky-mailer", "worker-crash"]
            .into_iter()
            .map(|scenario| {
                fixtures::not_run("3", "default", scenario, "not built: strategy-3\nmore")
            })
            .collect();
        let line = across_scenarios(&runs.iter().collect::<Vec<_>>());
        assert_eq!(
            line,
            "Under steady, flaky-mailer and worker-crash: Not built: strategy-3."
        );
    }
}
