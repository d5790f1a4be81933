//! What a comparison measured, as `report.json` holds it: a [`RunReport`] per strategy ×
//! variant × scenario, and the [`Report`] of them all. Everything else in the report is
//! drawn from these.

use crate::account::Tally;
use crate::memory::ProcessMemory;
use serde::{Deserialize, Serialize};

/// One strategy × variant × scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// `"1"` to `"6"`.
    pub strategy: String,
    pub title: String,
    pub variant: String,
    pub scenario: String,
    #[serde(flatten)]
    pub tally: Tally,
    /// Requests answered per second, from the first due time to the last answer.
    pub rate: f64,
    /// What was injected mid-run and anything the harness noticed, in words.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Mails per second still arriving when the settle limit ran out (`None`: delivery
    /// settled). Mail still queued in a worker then is counted lost, and the stop abandons
    /// it, though its fault is being late: "not delivered in time".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub still_delivering_per_s: Option<f64>,
    /// Each process's resident memory before the load and after delivery settled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub memory: Vec<ProcessMemory>,
    /// Why the run did not happen (not built, did not start); its numbers are all zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl RunReport {
    /// `"2 fire-and-forget"`, `"5 resque (reliable)"`: the row label.
    pub fn label(&self) -> String {
        match crate::catalog::find(&self.strategy) {
            Some(strategy) if strategy.variants.len() > 1 => {
                format!("{} {} ({})", self.strategy, self.title, self.variant)
            }
            _ => format!("{} {}", self.strategy, self.title),
        }
    }

    /// Share of accepted mail lost silently, in percent.
    pub fn lost_percent(&self) -> f64 {
        if self.tally.accepted == 0 {
            0.0
        } else {
            100.0 * self.tally.lost as f64 / self.tally.accepted as f64
        }
    }
}

/// How the runs were driven, for the report's header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub requests: usize,
    pub rate: f64,
    pub mailer_latency_ms: u64,
    pub settle_s: f64,
    pub quiet_s: f64,
    /// The mail server's fault seed, when the run was made repeatable with `--seed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

/// Everything a comparison measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub settings: Settings,
    pub runs: Vec<RunReport>,
}

impl Report {
    /// The scenarios present, in the order they were run.
    pub fn scenarios(&self) -> Vec<&str> {
        let mut scenarios: Vec<&str> = Vec::new();
        for run in &self.runs {
            if !scenarios.contains(&run.scenario.as_str()) {
                scenarios.push(&run.scenario);
            }
        }
        scenarios
    }

    pub fn runs_of<'a>(&'a self, scenario: &'a str) -> impl Iterator<Item = &'a RunReport> + 'a {
        self.runs.iter().filter(move |run| run.scenario == scenario)
    }

    /// Every strategy variant present, by its row label, in the order of the strategies.
    pub fn labels(&self) -> Vec<String> {
        let mut labelled: Vec<(&str, String)> = Vec::new();
        for run in &self.runs {
            let label = run.label();
            if !labelled.iter().any(|(_, known)| *known == label) {
                labelled.push((&run.strategy, label));
            }
        }
        // Stable: a strategy's variants keep the order they were run in.
        labelled.sort_by_key(|(strategy, _)| *strategy);
        labelled.into_iter().map(|(_, label)| label).collect()
    }

    /// The runs of the variant labelled `label`, in scenario order.
    pub fn runs_labelled<'a>(&'a self, label: &'a str) -> impl Iterator<Item = &'a RunReport> + 'a {
        self.runs.iter().filter(move |run| run.label() == label)
    }
}
