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
//! * `runs`: what was measured, the data everything else is drawn from.
//! * `summary`: the table the report opens with, one row per strategy variant.
//! * `details`: the table of one scenario, every count and percentile; `phases` the same
//!   percentiles for the ramp-up (requests due in the first second) and the steady part;
//!   `memory` each process's resident size before the load and after it settled.
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
mod memory;
mod phases;
mod runs;
mod summary;
mod table;
mod verdict;

pub use runs::{Report, RunReport, Settings};
pub use verdict::{short_error, verdict};

use std::path::Path;

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
