//! SVG bar charts (plotters, SVG backend only: no font library needed).
//!
//! * `latency-<scenario>.svg`: HTTP answer latency p50/p90/p99 per strategy.
//! * `loss.svg`: silently lost mail, in percent of accepted, per scenario and strategy.

use super::{Report, RunReport};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One chart: its file name beside the report, what it shows, and its SVG text.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub file: String,
    pub title: String,
    pub svg: String,
}

const SIZE: (u32, u32) = (960, 520);
/// Room per labelled bar group, so that labels like "6 event-bus (at-least-once)" do not
/// run into each other.
const GROUP_WIDTH: u32 = 180;
/// The x axis: room under the plot for the bar labels.
const LABEL_AREA: u32 = 70;

/// Every chart of the report.
pub fn all(report: &Report) -> anyhow::Result<Vec<Chart>> {
    let mut charts = Vec::new();
    for scenario in report.scenarios() {
        let runs: Vec<&RunReport> = report
            .runs_of(scenario)
            .filter(|run| run.error.is_none() && run.tally.latency_ms.p50.is_some())
            .collect();
        if runs.is_empty() {
            continue;
        }
        charts.push(Chart {
            file: format!("latency-{scenario}.svg"),
            title: format!("HTTP latency, {scenario}"),
            svg: latency_chart(scenario, &runs)?,
        });
    }
    if report.runs.iter().any(|run| run.error.is_none()) {
        charts.push(Chart {
            file: "loss.svg".to_string(),
            title: "Lost mail per scenario".to_string(),
            svg: loss_chart(report)?,
        });
    }
    Ok(charts)
}

/// Reads one percentile of a run.
type Percentile = fn(&RunReport) -> Option<f64>;

fn latency_chart(scenario: &str, runs: &[&RunReport]) -> anyhow::Result<String> {
    let width = SIZE.0.max(100 + GROUP_WIDTH * runs.len() as u32);
    let mut svg = String::new();
    let root = SVGBackend::with_string(&mut svg, (width, SIZE.1)).into_drawing_area();
    root.fill(&WHITE)?;
    let percentiles: [(&str, RGBColor, Percentile); 3] = [
        ("p50", RGBColor(158, 202, 225), |r| r.tally.latency_ms.p50),
        ("p90", RGBColor(66, 146, 198), |r| r.tally.latency_ms.p90),
        ("p99", RGBColor(8, 69, 148), |r| r.tally.latency_ms.p99),
    ];
    let top = runs
        .iter()
        .filter_map(|r| r.tally.latency_ms.p99)
        .fold(1.0, f64::max)
        * 1.35;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("HTTP answer latency, {scenario} (ms, from the due time)"),
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(LABEL_AREA)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..runs.len() as f64, 0f64..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc("ms")
        .draw()?;
    let width = 0.8 / percentiles.len() as f64;
    for (k, (name, color, value)) in percentiles.into_iter().enumerate() {
        chart
            .draw_series(runs.iter().enumerate().filter_map(|(i, run)| {
                let x = i as f64 + 0.1 + k as f64 * width;
                value(run).map(|v| Rectangle::new([(x, 0.0), (x + width, v)], color.filled()))
            }))?
            .label(name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled()));
    }
    let labels: Vec<String> = runs.iter().map(|r| r.label()).collect();
    finish(&root, &mut chart, &labels)?;
    drop((chart, root));
    Ok(svg)
}

fn loss_chart(report: &Report) -> anyhow::Result<String> {
    let mut svg = String::new();
    let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let scenarios = report.scenarios();
    // One colour per strategy row, the same in every scenario group.
    let mut labels: Vec<String> = Vec::new();
    for run in report.runs.iter().filter(|run| run.error.is_none()) {
        if !labels.contains(&run.label()) {
            labels.push(run.label());
        }
    }
    let top = report
        .runs
        .iter()
        .map(RunReport::lost_percent)
        .fold(1.0, f64::max)
        * 1.35;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Silently lost mail, % of accepted requests",
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(LABEL_AREA)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..scenarios.len() as f64, 0f64..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc("% lost")
        .draw()?;
    let width = 0.8 / labels.len().max(1) as f64;
    for (k, label) in labels.iter().enumerate() {
        let color = Palette99::pick(k).to_rgba();
        chart
            .draw_series(scenarios.iter().enumerate().filter_map(|(i, scenario)| {
                let run = report
                    .runs_of(scenario)
                    .find(|run| run.error.is_none() && &run.label() == label)?;
                let x = i as f64 + 0.1 + k as f64 * width;
                // A sliver for zero, so a strategy that ran and lost nothing is visible.
                let height = run.lost_percent().max(top / 400.0);
                Some(Rectangle::new(
                    [(x, 0.0), (x + width, height)],
                    color.filled(),
                ))
            }))?
            .label(label.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled()));
    }
    let names: Vec<String> = scenarios.iter().map(|s| s.to_string()).collect();
    finish(&root, &mut chart, &names)?;
    drop((chart, root));
    Ok(svg)
}

/// What every chart ends with: the legend, one label under each bar group (group `i`
/// spans x from `i` to `i + 1`), and the file written.
fn finish<'a>(
    root: &DrawingArea<SVGBackend<'a>, Shift>,
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    groups: &[String],
) -> anyhow::Result<()> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    let centers: Vec<(i32, i32)> = (0..groups.len())
        .map(|i| chart.backend_coord(&(i as f64 + 0.5, 0.0)))
        .collect();
    draw_labels(root, groups, &centers)?;
    root.present()?;
    Ok(())
}

/// Category labels under the x axis, centred on their group. plotters places axis labels on
/// numeric ticks, which do not fall on the middle of a group of bars.
fn draw_labels(
    root: &DrawingArea<SVGBackend, Shift>,
    labels: &[String],
    centers: &[(i32, i32)],
) -> anyhow::Result<()> {
    let style = TextStyle::from(("sans-serif", 14).into_font())
        .pos(Pos::new(HPos::Center, VPos::Top))
        .color(&BLACK);
    for (label, (x, y)) in labels.iter().zip(centers) {
        root.draw(&Text::new(label.clone(), (*x, *y + 8), style.clone()))?;
    }
    Ok(())
}
