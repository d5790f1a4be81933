//! `report.html`: the report's blocks as one self-contained page. The charts are inline
//! SVG and the style sits in the page, so the file can be mailed, opened offline or
//! projected without anything beside it. Every text that came from a run (labels, notes,
//! errors) is escaped.

use super::document::{Block, Span, TITLE};
use super::table::{Align, Cell, Table, Tone};
use std::fmt::Write;

/// Wide tables and charts scroll inside their own box instead of widening the page, so
/// the page stays readable on a phone.
const STYLE: &str = "\
body{font:16px/1.5 system-ui,sans-serif;color:#222;margin:0 auto;max-width:72rem;padding:0 1rem 3rem}
h1{font-size:1.7rem}
h2{margin-top:2.5rem;border-bottom:1px solid #ddd}
.scroll{overflow-x:auto;margin:1rem 0}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{padding:.3rem .7rem;border-bottom:1px solid #e4e4e4;text-align:left;white-space:nowrap}
th{border-bottom:2px solid #bbb}
.num{text-align:right}
.alarm{color:#b00020;font-weight:700}
.not-run,.na{color:#777;font-style:italic}
figure{margin:1.5rem 0}
figure svg{width:100%;height:auto;min-width:36rem}
@media (max-width:40rem){body{font-size:14px}th,td{padding:.25rem .4rem}td:first-child{white-space:normal;min-width:7rem}}";

/// The whole page.
pub fn render(blocks: &[Block]) -> String {
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>\n{STYLE}\n</style>\n</head>\n<body>\n",
        escape(TITLE)
    );
    for block in blocks {
        match block {
            Block::Heading(level, text) => {
                let _ = writeln!(html, "<h{level}>{}</h{level}>", escape(text));
            }
            Block::Paragraph(spans) => {
                let _ = writeln!(html, "<p>{}</p>", inline(spans));
            }
            Block::Table(table) => html.push_str(&self::table(table)),
            Block::List(items) => {
                html.push_str("<ul>\n");
                for item in items {
                    let _ = writeln!(html, "<li>{}</li>", inline(item));
                }
                html.push_str("</ul>\n");
            }
            Block::Chart(chart) => {
                let _ = writeln!(
                    html,
                    "<figure class=\"scroll\">\n{}</figure>",
                    inline_svg(&chart.svg, &chart.title)
                );
            }
        }
    }
    html.push_str("</body>\n</html>\n");
    html
}

/// `&`, `<`, `>` and quotes as entities: safe in text and in attribute values.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

fn inline(spans: &[Span]) -> String {
    spans
        .iter()
        .map(|span| match span {
            Span::Plain(text) => escape(text),
            Span::Strong(text) => format!("<strong>{}</strong>", escape(text)),
        })
        .collect()
}

fn table(table: &Table) -> String {
    let mut html = String::from("<div class=\"scroll\"><table>\n<thead><tr>");
    for (name, align) in &table.columns {
        let _ = write!(html, "<th{}>{}</th>", class(*align, None), escape(name));
    }
    html.push_str("</tr></thead>\n<tbody>\n");
    for row in &table.rows {
        html.push_str("<tr>");
        let mut column = 0;
        for cell in row {
            let align = table.columns.get(column).map_or(Align::Left, |c| c.1);
            let _ = write!(html, "<td{}{}>", class(align, Some(cell)), colspan(cell));
            html.push_str(&escape(&cell.text));
            html.push_str("</td>");
            column += cell.span;
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody>\n</table></div>\n");
    html
}

/// The cell's classes: `num` for a number column, and its tone. A spanning cell holds a
/// reason in words, not a number.
fn class(align: Align, cell: Option<&Cell>) -> String {
    let mut classes = Vec::new();
    if align == Align::Right && cell.is_none_or(|c| c.span == 1) {
        classes.push("num");
    }
    match cell.map(|c| c.tone) {
        Some(Tone::Alarm) => classes.push("alarm"),
        Some(Tone::NotRun) => classes.push("not-run"),
        Some(Tone::NotApplicable) => classes.push("na"),
        Some(Tone::Plain) | None => {}
    }
    if classes.is_empty() {
        String::new()
    } else {
        format!(" class=\"{}\"", classes.join(" "))
    }
}

fn colspan(cell: &Cell) -> String {
    if cell.span > 1 {
        format!(" colspan=\"{}\"", cell.span)
    } else {
        String::new()
    }
}

/// A chart as an element of the page: without its XML namespace declaration (HTML puts
/// `<svg>` in the SVG namespace by itself, and the page then names no address), labelled
/// for screen readers with its title.
fn inline_svg(svg: &str, title: &str) -> String {
    let svg = svg.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1);
    svg.replacen(
        "<svg ",
        &format!("<svg role=\"img\" aria-label=\"{}\" ", escape(title)),
        1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::charts;
    use crate::report::document::document;
    use crate::report::fixtures::{not_run, report, run, tally};
    use crate::report::Report;

    fn example() -> Report {
        let mut crashed = run("2", "default", "worker-crash", tally(5, 0, 0));
        crashed.notes = vec![
            "after 103 requests: SIGKILLed <web> & restarted it".into(),
            "could not read what was parked: GET http://127.0.0.1:9/parked refused".into(),
        ];
        report(vec![
            run("2", "default", "steady", tally(0, 0, 0)),
            not_run(
                "5",
                "reliable",
                "steady",
                "not built: <strategy-5> & friends\nmore",
            ),
            crashed,
        ])
    }

    fn page(report: &Report) -> (String, Vec<charts::Chart>) {
        let charts = charts::all(report).unwrap();
        let html = render(&document(report, &charts));
        (html, charts)
    }

    /// Every `<...>` of the page.
    fn tags(html: &str) -> Vec<&str> {
        html.split('<')
            .skip(1)
            .map(|rest| rest.split_once('>').map_or(rest, |(tag, _)| tag))
            .collect()
    }

    #[test]
    fn notes_and_errors_are_escaped() {
        let (html, _) = page(&example());
        assert!(
            html.contains("SIGKILLed &lt;web&gt; &amp; restarted it"),
            "{html}"
        );
        assert!(html.contains("not built: &lt;strategy-5&gt; &amp; friends"));
        assert!(!html.contains("<web>"));
        assert!(!html.contains("<strategy-5>"));
    }

    #[test]
    fn every_chart_is_inline_and_nothing_is_fetched() {
        let (html, charts) = page(&example());
        assert!(!charts.is_empty());
        for chart in &charts {
            // The chart's drawing, whole, after its opening tag.
            let (_, body) = chart.svg.split_once('>').unwrap();
            assert!(html.contains(body), "{} is not inline", chart.file);
        }
        assert_eq!(html.matches("<svg ").count(), charts.len());
        for tag in tags(&html) {
            assert!(!tag.contains("://"), "a reference in <{tag}>");
            assert!(
                !tag.starts_with("script") && !tag.starts_with("link"),
                "<{tag}>"
            );
            assert!(!tag.contains(" src="), "<{tag}>");
        }
        assert!(!STYLE.contains("://") && !STYLE.contains("url("));
        // The one address there is, in a note, is text.
        assert_eq!(html.matches("http://").count(), 1, "{html}");
        assert!(html.contains("GET http://127.0.0.1:9/parked refused"));
    }

    #[test]
    fn the_page_opens_with_the_summary_and_fits_a_phone() {
        let (html, _) = page(&example());
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<meta name=\"viewport\" content=\"width=device-width"));
        let summary = html.find("<th class=\"num\">HTTP p50 / p99</th>").unwrap();
        let details = html.find("<th class=\"num\">accepted</th>").unwrap();
        assert!(summary < details);
        // Every table scrolls in its own box rather than widening the page.
        assert_eq!(
            html.matches("<table>").count(),
            html.matches("<div class=\"scroll\"><table>").count()
        );
        // The summary's not-run cells and the lost mail stand out.
        assert!(
            html.contains("<td class=\"num not-run\">not run</td>"),
            "{html}"
        );
        assert!(
            html.contains("<td class=\"num alarm\">5 / 0 / 0</td>"),
            "{html}"
        );
        // The reason a run did not happen spans the numbers it does not have.
        assert!(html.contains("<td class=\"not-run\" colspan=\"14\">not built:"));
    }
}
