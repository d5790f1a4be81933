//! What a comparison writes: `report.json` (every number), SVG charts, and the same report
//! twice, as `report.md` and as a self-contained `report.html`.
//!
//! ```text
//! Report ──serde──────────────────────────────────────────► report.json
//!   ├──► charts ──────────────────────────────────────────► *.svg ──┐
//!   └──► document: the blocks, in reading order                     │
//!          (summary, one line per variant, how it was measured,     │ inline
//!           then each scenario: details, verdicts, charts)          │
//!             ├──► markdown ──► report.md                           │
//!             └──► html ──────► report.html ◄───────────────────────┘
//! ```
//!
//! * `summary`: the table the report opens with, one row per strategy variant.
//! * `details`: the table of one scenario, every count and percentile.
//! * `table`: a table as data (cells with a tone: lost mail, not run, does not apply),
//!   so markdown and HTML render the same cells.
//! * `verdict`: the plain words: per run, and per variant across scenarios.
//! * `charts`: the bar charts; `document` puts it all in order.

mod charts;
mod details;
mod document;
#[cfg(test)]
mod fixtures;
mod html;
mod markdown;
mod summary;
mod table;
mod verdict;

pub use verdict::{short_error, verdict};

use crate::account::Tally;
use serde::{Deserialize, Serialize};
use std::path::Path;

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
}

/// Everything a comparison measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub settings: Settings,
    pub runs: Vec<RunReport>,
}

impl Report {
    /// Writes `report.json`, the charts, `report.md` and `report.html` into `dir`.
    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(
            dir.join("report.json"),
            serde_json::to_string_pretty(self)? + "\n",
        )?;
        let charts = charts::all(self)?;
        for chart in &charts {
            std::fs::write(dir.join(&chart.file), &chart.svg)?;
        }
        let blocks = document::document(self, &charts);
        std::fs::write(dir.join("report.md"), markdown::render(&blocks))?;
        std::fs::write(dir.join("report.html"), html::render(&blocks))?;
        Ok(())
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// Renders the committed example, `slides/results/report.json` (or the report.json at
    /// `$REPORT_FROM`), into `$REPORT_OUT` (by default `offload-report` in the system's temp
    /// directory), to look at after a change:
    /// `cargo test -p loadtest --lib -- --ignored committed_example --nocapture`.
    #[test]
    #[ignore = "writes files for a person to look at"]
    fn render_the_committed_example() {
        let example = std::env::var_os("REPORT_FROM").map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../slides/results/report.json"),
            PathBuf::from,
        );
        let report: Report =
            serde_json::from_str(&std::fs::read_to_string(example).unwrap()).unwrap();
        let out = std::env::var_os("REPORT_OUT")
            .map(PathBuf::from)
            .unwrap_or_else(|| std::env::temp_dir().join("offload-report"));
        report.write(&out).unwrap();
        println!("written to {}", out.display());
    }
}
