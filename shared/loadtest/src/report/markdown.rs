//! `report.md`: the report's blocks as markdown.

use super::document::{Block, Span};
use super::table::{Align, Table, Tone};
use std::fmt::Write;

/// The whole report.
pub fn render(blocks: &[Block]) -> String {
    let mut md = String::new();
    for block in blocks {
        match block {
            Block::Heading(level, text) => {
                let _ = writeln!(md, "{} {text}", "#".repeat(usize::from(*level)));
            }
            Block::Paragraph(spans) => {
                let _ = writeln!(md, "{}", inline(spans));
            }
            Block::Table(table) => md.push_str(&self::table(table)),
            Block::List(items) => {
                for item in items {
                    let _ = writeln!(md, "- {}", inline(item));
                }
            }
            Block::Chart(chart) => {
                let _ = writeln!(md, "![{}]({})", chart.title, chart.file);
            }
        }
        md.push('\n');
    }
    md
}

fn inline(spans: &[Span]) -> String {
    spans
        .iter()
        .map(|span| match span {
            Span::Plain(text) => text.clone(),
            Span::Strong(text) => format!("**{text}**"),
        })
        .collect()
}

/// A pipe table. A cell spanning several columns is followed by empty cells, markdown
/// having no spans.
fn table(table: &Table) -> String {
    let mut md = String::from("|");
    for (name, _) in &table.columns {
        let _ = write!(md, " {name} |");
    }
    md.push_str("\n|");
    for (_, align) in &table.columns {
        md.push_str(match align {
            Align::Left => "---|",
            Align::Right => "--:|",
        });
    }
    md.push('\n');
    for row in &table.rows {
        md.push('|');
        for cell in row {
            let text = cell.text.replace('|', "\\|");
            match cell.tone {
                Tone::Alarm => {
                    let _ = write!(md, " **{text}** |");
                }
                _ => {
                    let _ = write!(md, " {text} |");
                }
            }
            md.push_str(&" |".repeat(cell.span.saturating_sub(1)));
        }
        md.push('\n');
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Tally;
    use crate::report::document::document;
    use crate::report::{details, fixtures};

    #[test]
    fn a_run_that_did_not_start_says_why_in_its_row() {
        let mut failed = fixtures::run("2", "default", "worker-crash", Tally::default());
        failed.error = Some(
            "did not start: web role: exited (exit status: 2) before /healthz answered: \
             strategy-3 is not built yet\n\nits last output:\nstrategy-3 is not built yet"
                .into(),
        );
        let md = table(&details::table(&[&failed]));
        assert!(md.contains("did not start"), "{md}");
        assert!(md.contains("strategy-3 is not built yet"), "{md}");
        // A row with the same number of cells as the header.
        let row = md.lines().nth(2).unwrap();
        assert_eq!(row.matches('|').count(), 16, "{row}");
    }

    #[test]
    fn the_report_opens_with_the_summary_then_tells_each_scenario() {
        let report = fixtures::report(vec![
            fixtures::run("2", "default", "steady", fixtures::tally(0, 0, 0)),
            fixtures::not_run("5", "reliable", "steady", "not built: strategy-5"),
            fixtures::run("2", "default", "flaky-mailer", fixtures::tally(40, 0, 0)),
        ]);
        let md = render(&document(&report, &[]));
        let summary = md.find("| strategy | HTTP p50 / p99 |").unwrap();
        let details = md.find("| strategy | accepted |").unwrap();
        assert!(md.starts_with("# offload"), "{md}");
        assert!(summary < details, "{md}");
        assert!(md.contains("| 2 fire-and-forget | 1.6 / 8.5 ms | 4.4 / 8.6 s | **40 / 0 / 0** |"));
        assert!(
            md.contains("| 5 resque (reliable) | not run | not run | – |"),
            "{md}"
        );
        assert!(md.contains("- **2 fire-and-forget**: Under flaky-mailer: Lost 40 of 200"));
        // What the harness's own test of the whole command looks for.
        assert!(md.contains("## flaky-mailer"));
        assert!(md.contains("- **2 fire-and-forget**: Lost "));
        assert!(md.contains("| 5 resque (reliable) | not built"));
    }
}
