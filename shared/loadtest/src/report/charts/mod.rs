//! The report's charts, each a [`bars::BarChart`] built from the runs:
//!
//! * `latency-<scenario>.svg`: HTTP answer latency p50/p90/p99 per strategy variant.
//! * `delivery-<scenario>.svg`: the due time to the mail's arrival at the mail server,
//!   p50/p99 per strategy variant.
//! * `loss.svg`: silently lost mail, in percent of accepted, per scenario and variant.
//!
//! Latencies are on a log scale: strategy 1's 54 ms and strategy 3's 4 s would otherwise
//! flatten the 2 ms bars of the others to nothing. A run that did not happen is drawn as a
//! hatched `not run` box, never left out, so that it cannot pass for a zero.

mod bars;

use super::runs::{Report, RunReport};
use super::table::ms;
use bars::{Bar, BarChart, Group, Scale, Series, Value};
use plotters::style::RGBColor;

/// One chart: its file name beside the report, what it shows, and its SVG text.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub file: String,
    pub title: String,
    pub svg: String,
}

/// Every chart of the report; none for a scenario in which no run happened.
pub fn all(report: &Report) -> anyhow::Result<Vec<Chart>> {
    let mut charts = Vec::new();
    for scenario in report.scenarios() {
        let runs: Vec<&RunReport> = report.runs_of(scenario).collect();
        if runs.iter().all(|run| run.error.is_some()) {
            continue;
        }
        for latency in [HTTP, DELIVERY] {
            charts.push(latency_chart(&latency, scenario, &runs)?);
        }
    }
    if report.runs.iter().any(|run| run.error.is_none()) {
        charts.push(loss_chart(report)?);
    }
    Ok(charts)
}

/// Reads one percentile of a run.
type Percentile = fn(&RunReport) -> Option<f64>;

/// What one kind of latency chart shows.
struct Latency {
    /// `latency` gives `latency-<scenario>.svg`.
    file: &'static str,
    title: &'static str,
    /// Written in place of a bar when the run happened but measured nothing.
    nothing: &'static str,
    percentiles: &'static [(&'static str, RGBColor, Percentile)],
}

const HTTP: Latency = Latency {
    file: "latency",
    title: "HTTP answer latency",
    nothing: "no answer",
    percentiles: &[
        ("p50", RGBColor(158, 202, 225), |r| r.tally.latency_ms.p50),
        ("p90", RGBColor(66, 146, 198), |r| r.tally.latency_ms.p90),
        ("p99", RGBColor(8, 69, 148), |r| r.tally.latency_ms.p99),
    ],
};

const DELIVERY: Latency = Latency {
    file: "delivery",
    title: "Delivery latency (due time to the mail server)",
    nothing: "none delivered",
    percentiles: &[
        ("p50", RGBColor(253, 174, 107), |r| r.tally.delivery_ms.p50),
        ("p99", RGBColor(217, 72, 1), |r| r.tally.delivery_ms.p99),
    ],
};

fn latency_chart(kind: &Latency, scenario: &str, runs: &[&RunReport]) -> anyhow::Result<Chart> {
    let groups = runs
        .iter()
        .map(|run| Group {
            label: run.label(),
            bars: (0..kind.percentiles.len())
                .map(|series| {
                    let value = match (&run.error, (kind.percentiles[series].2)(run)) {
                        (Some(_), _) => Value::Missing("not run"),
                        (None, Some(ms)) => Value::Measured(ms),
                        (None, None) => Value::Missing(kind.nothing),
                    };
                    Bar { series, value }
                })
                .collect(),
        })
        .collect();
    let series = kind
        .percentiles
        .iter()
        .map(|(name, color, _)| Series {
            name: name.to_string(),
            color: *color,
        })
        .collect();
    let title = format!("{}, {scenario}", kind.title);
    let svg = bars::render(&BarChart {
        title: title.clone(),
        x_desc: "strategy (variant)",
        y_desc: "ms from the request's due time, log scale",
        scale: Scale::Log,
        series,
        groups,
        value_text: |v| ms(Some(v)),
        tick_text: ms_tick,
    })?;
    Ok(Chart {
        file: format!("{}-{scenario}.svg", kind.file),
        title,
        svg,
    })
}

/// A colour per strategy variant that stays the same in every scenario group (Tableau 10:
/// tells apart in print and for most colour-blind eyes).
const VARIANT_COLORS: [RGBColor; 10] = [
    RGBColor(78, 121, 167),
    RGBColor(242, 142, 43),
    RGBColor(225, 87, 89),
    RGBColor(118, 183, 178),
    RGBColor(89, 161, 79),
    RGBColor(237, 201, 72),
    RGBColor(176, 122, 161),
    RGBColor(255, 157, 167),
    RGBColor(156, 117, 95),
    RGBColor(186, 176, 172),
];

fn loss_chart(report: &Report) -> anyhow::Result<Chart> {
    let labels = report.labels();
    let groups = report
        .scenarios()
        .into_iter()
        .map(|scenario| Group {
            label: scenario.to_string(),
            // Only the variants the scenario applies to: no slot for a Redis restart
            // without Redis.
            bars: labels
                .iter()
                .enumerate()
                .filter_map(|(series, label)| {
                    let run = report.runs_of(scenario).find(|run| &run.label() == label)?;
                    let value = match run.error {
                        Some(_) => Value::Missing("not run"),
                        None => Value::Measured(run.lost_percent()),
                    };
                    Some(Bar { series, value })
                })
                .collect(),
        })
        .collect();
    let series = labels
        .into_iter()
        .enumerate()
        .map(|(k, name)| Series {
            name,
            color: VARIANT_COLORS[k % VARIANT_COLORS.len()],
        })
        .collect();
    let title = "Silently lost mail, % of accepted requests".to_string();
    let svg = bars::render(&BarChart {
        title: title.clone(),
        x_desc: "scenario",
        y_desc: "% of accepted mail lost",
        scale: Scale::Linear,
        series,
        groups,
        value_text: percent,
        tick_text: |v| format!("{}%", rounded(v)),
    })?;
    Ok(Chart {
        file: "loss.svg".to_string(),
        title,
        svg,
    })
}

/// `0`, `2.5%`, `40%`.
fn percent(value: f64) -> String {
    if value == 0.0 {
        "0".to_string()
    } else if value < 10.0 {
        format!("{value:.1}%")
    } else {
        format!("{value:.0}%")
    }
}

/// A tick of a log latency axis: `0.1 ms`, `100 ms`, `10 s`.
fn ms_tick(value: f64) -> String {
    if value >= 1000.0 {
        format!("{} s", rounded(value / 1000.0))
    } else {
        format!("{} ms", rounded(value))
    }
}

/// Without the float noise of computed ticks (`0.30000000000000004`).
fn rounded(value: f64) -> f64 {
    (value * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::{not_run, report, run, tally};

    fn svg<'a>(charts: &'a [Chart], file: &str) -> &'a str {
        let chart = charts.iter().find(|c| c.file == file);
        &chart.unwrap_or_else(|| panic!("no {file}")).svg
    }

    #[test]
    fn each_scenario_that_ran_gets_an_http_and_a_delivery_chart() {
        let charts = all(&report(vec![
            run("2", "default", "steady", tally(0, 0, 0)),
            not_run("2", "default", "worker-crash", "not built: strategy-2"),
        ]))
        .unwrap();
        let files: Vec<&str> = charts.iter().map(|c| c.file.as_str()).collect();
        assert_eq!(
            files,
            ["latency-steady.svg", "delivery-steady.svg", "loss.svg"]
        );
        for chart in &charts {
            assert!(chart.svg.starts_with("<svg"), "{}", chart.file);
            assert!(chart.svg.contains(&chart.title), "{}", chart.file);
        }
    }

    #[test]
    fn a_variant_that_did_not_run_says_so_in_every_chart() {
        let charts = all(&report(vec![
            run("5", "default", "steady", tally(0, 0, 0)),
            not_run("5", "reliable", "steady", "not built: strategy-5"),
        ]))
        .unwrap();
        for file in ["latency-steady.svg", "delivery-steady.svg", "loss.svg"] {
            let svg = svg(&charts, file);
            assert!(svg.contains("not run"), "{file}: {svg}");
            assert!(svg.contains("(reliable)"), "{file}");
        }
        // The run that happened has its values written on its bars.
        assert!(svg(&charts, "latency-steady.svg").contains("1.6 ms"));
        assert!(svg(&charts, "delivery-steady.svg").contains("4.4 s"));
    }

    #[test]
    fn a_zero_on_a_log_scale_is_drawn_and_written() {
        let mut instant = tally(0, 0, 0);
        instant.latency_ms.p50 = Some(0.0);
        let charts = all(&report(vec![run("2", "default", "steady", instant)])).unwrap();
        let svg = svg(&charts, "latency-steady.svg");
        assert!(svg.contains("0.0 ms"), "{svg}");
        assert!(!svg.contains("not run"), "{svg}");
    }

    #[test]
    fn no_measured_latency_at_all_still_gives_a_chart() {
        let mut silent = tally(0, 0, 0);
        silent.latency_ms = Default::default();
        silent.delivery_ms = Default::default();
        let charts = all(&report(vec![run("2", "default", "steady", silent)])).unwrap();
        assert!(svg(&charts, "latency-steady.svg").contains("no answer"));
        assert!(svg(&charts, "delivery-steady.svg").contains("none delivered"));
    }
}
