//! The report as a list of blocks (headings, paragraphs, tables, lists, charts), in the
//! order a reader needs them: the summary table and one line per strategy variant first
//! (which to pick, and what it costs), then how it was measured, then each scenario in
//! detail. `report.md` and `report.html` are two renderings of the same blocks, so they
//! say the same thing in the same order.

use super::charts::Chart;
use super::runs::{Report, RunReport};
use super::table::Table;
use super::verdict::{across_scenarios, verdict};
use super::{details, memory, phases, summary};
use crate::scenario::Scenario;

pub const TITLE: &str = "offload: the strategies side by side";

const HOW_TO_READ: &str = "\
How to read it: **accepted** requests got a 2xx, so the client believes the mail is on its way; \
**rejected** ones got an error or no answer, so the client knows and can retry. Every accepted \
mail ends up **delivered** (the mail server has it), **parked** (it failed, and sits in a failed \
list where someone can see and retry it), or **lost**: accepted, never delivered, and nobody \
knows. Lost is the number a strategy must keep at zero. **dup** counts extra copies of mails \
delivered more than once. **HTTP** columns are the latency of the answer, measured from the \
moment the request was due (open loop, so a stall cannot hide); **delivery** columns go from \
that moment to the mail's arrival at the mail server.";

const PHASES: &str = "The same percentiles, split by due time: the ramp-up is the requests due in \
the load's first second, while connection pools, worker slots and consumers grow to the load; \
the steady part is the rest. A slow start shows in the first row without lifting the second.";

const MEMORY: &str = "Resident memory (RSS) of each process, read just before the load and \
again once delivery settled. One run's growth is warm-up as much as leak; `loadtest memory` \
reads it at checkpoints over a long run, where growth without bound shows.";

/// A run of text, plain or strong.
#[derive(Debug, Clone, PartialEq)]
pub enum Span {
    Plain(String),
    Strong(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Block<'a> {
    /// Level 1 is the title, level 2 a section.
    Heading(u8, String),
    Paragraph(Vec<Span>),
    Table(Table),
    /// A bulleted list, one paragraph per item.
    List(Vec<Vec<Span>>),
    Chart(&'a Chart),
}

/// The whole report. `charts` are those that were drawn; a block refers to each.
pub fn document<'a>(report: &Report, charts: &'a [Chart]) -> Vec<Block<'a>> {
    let chart = |file: &str| charts.iter().find(|c| c.file == file).map(Block::Chart);
    let s = &report.settings;
    let mut blocks = vec![
        Block::Heading(1, TITLE.to_string()),
        Block::Table(summary::table(report)),
        plain(summary::how_to_read(report)),
        Block::Heading(2, "In plain words".to_string()),
        Block::List(
            report
                .labels()
                .iter()
                .map(|label| {
                    let runs: Vec<&RunReport> = report.runs_labelled(label).collect();
                    labelled(label, &across_scenarios(&runs))
                })
                .collect(),
        ),
        Block::Heading(2, "How it was measured".to_string()),
        plain(format!(
            "Each run: {} requests at {}/s (open loop), mail server latency {} ms, then delivery \
             allowed to settle (until no new mail for {} s, at most {} s). Every run has its own \
             processes, mail server and Redis.{}",
            s.requests,
            s.rate,
            s.mailer_latency_ms,
            s.quiet_s,
            s.settle_s,
            match s.seed {
                Some(seed) => format!(
                    " The mail server's failures were seeded ({seed}): the same messages fail \
                     in every run with that seed."
                ),
                None => String::new(),
            }
        )),
        Block::Paragraph(emphasized(HOW_TO_READ)),
    ];
    blocks.extend(chart("loss.svg"));
    for scenario in report.scenarios() {
        let runs: Vec<&RunReport> = report.runs_of(scenario).collect();
        blocks.push(Block::Heading(2, scenario.to_string()));
        if let Ok(known) = scenario.parse::<Scenario>() {
            blocks.push(plain(known.description()));
        }
        blocks.push(Block::Table(details::table(&runs)));
        if let Some(table) = phases::table(&runs) {
            blocks.push(plain(PHASES));
            blocks.push(Block::Table(table));
        }
        blocks.push(Block::List(
            runs.iter()
                .map(|run| labelled(&run.label(), &verdict(run)))
                .collect(),
        ));
        let notes: Vec<Vec<Span>> = runs
            .iter()
            .flat_map(|run| {
                run.notes
                    .iter()
                    .map(|note| vec![Span::Plain(format!("{}: {note}", run.label()))])
            })
            .collect();
        if !notes.is_empty() {
            blocks.push(plain("What the harness did and noticed:"));
            blocks.push(Block::List(notes));
        }
        if let Some(table) = memory::table(&runs) {
            blocks.push(plain(MEMORY));
            blocks.push(Block::Table(table));
        }
        blocks.extend(chart(&format!("latency-{scenario}.svg")));
        blocks.extend(chart(&format!("delivery-{scenario}.svg")));
    }
    blocks
}

fn plain<'a>(text: impl Into<String>) -> Block<'a> {
    Block::Paragraph(vec![Span::Plain(text.into())])
}

/// `**label**: text`, the shape of a verdict line.
fn labelled(label: &str, text: &str) -> Vec<Span> {
    vec![
        Span::Strong(label.to_string()),
        Span::Plain(format!(": {text}")),
    ]
}

/// Spans of a text written with `**` around its strong words.
fn emphasized(text: &str) -> Vec<Span> {
    text.split("**")
        .enumerate()
        .filter(|(_, part)| !part.is_empty())
        .map(|(i, part)| match i % 2 {
            0 => Span::Plain(part.to_string()),
            _ => Span::Strong(part.to_string()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_words_between_double_stars_are_strong() {
        assert_eq!(
            emphasized("a **b** c **d**"),
            [
                Span::Plain("a ".into()),
                Span::Strong("b".into()),
                Span::Plain(" c ".into()),
                Span::Strong("d".into()),
            ]
        );
    }
}
