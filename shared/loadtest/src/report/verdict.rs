//! The plain words of the report: one sentence per run, worst news first.

use super::RunReport;

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
}
