//! A grouped bar chart, drawn with plotters' SVG backend: text becomes SVG `<text>`, so no
//! font library is needed, and a font size is only a number.
//!
//! Every bar carries its value written above it, so a zero is a sliver with `0` on top,
//! and a bar that has no value (the run did not happen, nothing was measured) is a grey
//! hatched box saying why: an empty slot would read as a zero.

use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// What to draw: groups of bars along x, one colour per series.
pub struct BarChart {
    pub title: String,
    /// What the groups are.
    pub x_desc: &'static str,
    /// What the bars measure, and in what unit.
    pub y_desc: &'static str,
    pub scale: Scale,
    pub series: Vec<Series>,
    pub groups: Vec<Group>,
    /// A bar's value as written above it (`1.6 ms`, `20%`).
    pub value_text: fn(f64) -> String,
    /// A tick of the y axis (`10 ms`, `5%`).
    pub tick_text: fn(f64) -> String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// From zero up: for shares, where zero is what a reader looks for.
    Linear,
    /// Powers of ten: for latencies, so that 2 ms and 60 ms bars differ when a 5 s bar
    /// stands beside them.
    Log,
}

pub struct Series {
    pub name: String,
    pub color: RGBColor,
}

pub struct Group {
    /// Written under the group; a ` (` starts a second line.
    pub label: String,
    pub bars: Vec<Bar>,
}

pub struct Bar {
    /// Index into [`BarChart::series`].
    pub series: usize,
    pub value: Value,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Measured(f64),
    /// No value, and why (`not run`, `no answer`).
    Missing(&'static str),
}

const FONT: &str = "sans-serif";
// plotters' SVG backend writes a font size of size / 1.24: 42 becomes about 34 px.
const TITLE_SIZE: f64 = 42.0;
const DESC_SIZE: f64 = 28.0;
const TEXT_SIZE: f64 = 26.0;
const VALUE_SIZE: f64 = 22.0;
const HEIGHT: u32 = 680;
const MARGIN: u32 = 20;
/// Room left of the plot for the ticks (`100 ms`) and the y description.
const Y_LABEL_AREA: u32 = 120;
/// Room under the plot for two lines of group label and the x description.
const X_LABEL_AREA: u32 = 120;
/// Wide enough for `6 event-bus (at-least-once)` at `TEXT_SIZE`.
const LEGEND_WIDTH: u32 = 380;
/// Wide enough for a label line like `2 fire-and-forget` at `TEXT_SIZE`.
const MIN_GROUP_WIDTH: u32 = 220;
/// Wide enough for a value like `20%` at `VALUE_SIZE`.
const MIN_BAR_WIDTH: u32 = 40;
const LEGEND_ROW: i32 = 40;
const MISSING_FILL: RGBColor = RGBColor(235, 235, 235);
const MISSING_INK: RGBColor = RGBColor(110, 110, 110);

/// The chart as SVG text.
pub fn render(chart: &BarChart) -> anyhow::Result<String> {
    let group_width = MIN_GROUP_WIDTH.max(slots(chart) as u32 * MIN_BAR_WIDTH * 10 / 8);
    let width =
        2 * MARGIN + Y_LABEL_AREA + group_width * chart.groups.len().max(1) as u32 + LEGEND_WIDTH;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, HEIGHT)).into_drawing_area();
        root.fill(&WHITE)?;
        let body = root.titled(&chart.title, (FONT, TITLE_SIZE))?;
        let (plot, legend) = body.split_horizontally(width - LEGEND_WIDTH);
        let x = 0f64..chart.groups.len().max(1) as f64;
        let mut context = ChartBuilder::on(&plot);
        context
            .margin(MARGIN)
            .x_label_area_size(X_LABEL_AREA)
            .y_label_area_size(Y_LABEL_AREA);
        match chart.scale {
            Scale::Linear => {
                let top = measured(chart).fold(0.0, f64::max).max(1.0) * 1.25;
                let mut coords = context.build_cartesian_2d(x, 0f64..top)?;
                draw(&root, &mut coords, chart, 0.0)?;
            }
            Scale::Log => {
                let (floor, top) = log_range(measured(chart));
                let mut coords = context.build_cartesian_2d(x, (floor..top).log_scale())?;
                draw(&root, &mut coords, chart, floor)?;
            }
        }
        draw_legend(&legend, chart)?;
        root.present()?;
    }
    Ok(svg)
}

/// The most bars any group has: every group gets that many slots, so bars are one width.
fn slots(chart: &BarChart) -> usize {
    chart
        .groups
        .iter()
        .map(|g| g.bars.len())
        .max()
        .unwrap_or(1)
        .max(1)
}

fn measured(chart: &BarChart) -> impl Iterator<Item = f64> + '_ {
    chart
        .groups
        .iter()
        .flat_map(|g| &g.bars)
        .filter_map(|bar| match bar.value {
            Value::Measured(v) => Some(v),
            Value::Missing(_) => None,
        })
}

/// From a decade under the smallest value, so that it still has a height, to well above
/// the largest, to leave room for its value. Zero has no place on a log axis: it is drawn
/// at the floor, with its `0` on top.
fn log_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut min, mut max) = (f64::INFINITY, 0f64);
    for v in values.filter(|v| *v > 0.0 && v.is_finite()) {
        min = min.min(v);
        max = max.max(v);
    }
    if max == 0.0 {
        return (0.1, 10.0);
    }
    // Just under the power of ten, so that the power itself gets its tick.
    let floor = 10f64.powf(min.log10().floor() - 1.0) * (1.0 - 1e-9);
    (floor, max * 5.0)
}

type Coords<'a, Y> = ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, Y>>;

/// The axes, then each group's bars. Bars are drawn in pixels on `root`, not through the
/// chart's coordinates: a log axis has no place for zero, and in pixels a zero keeps a
/// sliver of height.
fn draw<'a, Y>(
    root: &DrawingArea<SVGBackend<'a>, Shift>,
    coords: &mut Coords<'a, Y>,
    chart: &BarChart,
    floor: f64,
) -> anyhow::Result<()>
where
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    axes(coords, chart)?;
    let (_, plot_rows) = coords.plotting_area().get_pixel_range();
    let baseline = plot_rows.end;
    // A missing value's box: a third of the plot high, tall enough for its words.
    let missing_top = baseline - (plot_rows.end - plot_rows.start) / 3;
    let px = |x: f64| coords.backend_coord(&(x, floor)).0;
    let slot = 0.8 / slots(chart) as f64;
    for (i, group) in chart.groups.iter().enumerate() {
        // Group i spans x from i to i + 1; its bars sit side by side around the middle.
        let start = i as f64 + 0.5 - slot * group.bars.len() as f64 / 2.0;
        let end = start + slot * group.bars.len() as f64;
        if let Some(why) = missing_together(&group.bars) {
            missing(root, (px(start), missing_top), (px(end), baseline), why)?;
        } else {
            for (j, bar) in group.bars.iter().enumerate() {
                let x0 = px(start + j as f64 * slot) + 2;
                let x1 = px(start + (j + 1) as f64 * slot) - 2;
                match bar.value {
                    Value::Measured(v) => {
                        let top = coords.backend_coord(&(0.0, v.max(floor))).1;
                        let color = chart.series[bar.series].color;
                        let text = (chart.value_text)(v);
                        value_bar(root, (x0, x1), (top, baseline), color, text)?;
                    }
                    Value::Missing(why) => missing(root, (x0, missing_top), (x1, baseline), why)?,
                }
            }
        }
        group_label(root, &group.label, (px(i as f64 + 0.5), baseline + 10))?;
    }
    Ok(())
}

/// The y axis with its ticks and both axis descriptions; the x axis gets no ticks (the
/// groups are labelled by [`group_label`]).
fn axes<'a, Y>(coords: &mut Coords<'a, Y>, chart: &BarChart) -> anyhow::Result<()>
where
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let tick = chart.tick_text;
    coords
        .configure_mesh()
        .disable_x_mesh()
        // The values are written on the bars: the major lines are enough.
        .light_line_style(TRANSPARENT)
        .x_labels(0)
        .y_labels(10)
        .y_label_formatter(&|v| tick(*v))
        .label_style((FONT, TEXT_SIZE))
        .axis_desc_style((FONT, DESC_SIZE))
        .x_desc(chart.x_desc)
        .y_desc(chart.y_desc)
        .draw()?;
    Ok(())
}

/// A bar from `baseline` up to `top`, at least 3 px high, its value written above it.
fn value_bar(
    root: &DrawingArea<SVGBackend, Shift>,
    (x0, x1): (i32, i32),
    (top, baseline): (i32, i32),
    color: RGBColor,
    value: String,
) -> anyhow::Result<()> {
    let top = top.min(baseline - 3);
    root.draw(&Rectangle::new([(x0, top), (x1, baseline)], color.filled()))?;
    let style = text_style(VALUE_SIZE, HPos::Center, VPos::Bottom);
    root.draw(&Text::new(value, ((x0 + x1) / 2, top - 4), &style))?;
    Ok(())
}

/// The reason shared by every bar of a group, if none has a value: one box for the group.
fn missing_together(bars: &[Bar]) -> Option<&'static str> {
    let first = match bars.first()?.value {
        Value::Missing(why) => why,
        Value::Measured(_) => return None,
    };
    bars.iter()
        .all(|bar| bar.value == Value::Missing(first))
        .then_some(first)
}

/// A grey hatched box with its reason written in it, across if it fits, else upwards.
fn missing(
    area: &DrawingArea<SVGBackend, Shift>,
    (x0, y0): (i32, i32),
    (x1, y1): (i32, i32),
    why: &str,
) -> anyhow::Result<()> {
    area.draw(&Rectangle::new([(x0, y0), (x1, y1)], MISSING_FILL.filled()))?;
    // Hatching: the lines x + y = k, every 10 px, cut to the box.
    let mut k = x0 + y0 + 10;
    while k < x1 + y1 {
        let (from, to) = ((k - y1).max(x0), (k - y0).min(x1));
        let line = PathElement::new(vec![(from, k - from), (to, k - to)], MISSING_INK.mix(0.35));
        area.draw(&line)?;
        k += 10;
    }
    area.draw(&Rectangle::new(
        [(x0, y0), (x1, y1)],
        MISSING_INK.stroke_width(1),
    ))?;
    if why.is_empty() {
        return Ok(());
    }
    let style = text_style(VALUE_SIZE, HPos::Center, VPos::Center);
    let (text_width, _) = area.estimate_text_size(why, &style)?;
    let center = ((x0 + x1) / 2, (y0 + y1) / 2);
    let style = if (x1 - x0) as u32 >= text_width + 8 {
        style
    } else {
        style.transform(FontTransform::Rotate270)
    };
    area.draw(&Text::new(why.to_string(), center, &style))?;
    Ok(())
}

/// Centred under its group, on two lines when it names a variant: `5 resque` /
/// `(reliable)`. plotters puts axis labels on numeric ticks, which do not fall on the
/// middle of a group.
fn group_label(
    root: &DrawingArea<SVGBackend, Shift>,
    label: &str,
    (x, y): (i32, i32),
) -> anyhow::Result<()> {
    let style = text_style(TEXT_SIZE, HPos::Center, VPos::Top);
    let line_height = (TEXT_SIZE / 1.24 * 1.2) as i32;
    let lines = match label.split_once(" (") {
        Some((name, variant)) => vec![name.to_string(), format!("({variant}")],
        None => vec![label.to_string()],
    };
    for (n, line) in lines.into_iter().enumerate() {
        root.draw(&Text::new(line, (x, y + n as i32 * line_height), &style))?;
    }
    Ok(())
}

/// One row per series, then one per reason a value is missing, beside the plot.
fn draw_legend(area: &DrawingArea<SVGBackend, Shift>, chart: &BarChart) -> anyhow::Result<()> {
    let style = text_style(TEXT_SIZE, HPos::Left, VPos::Center);
    let mut reasons: Vec<&str> = Vec::new();
    for bar in chart.groups.iter().flat_map(|g| &g.bars) {
        if let Value::Missing(why) = bar.value {
            if !reasons.contains(&why) {
                reasons.push(why);
            }
        }
    }
    let swatch = |row: usize| {
        let y = MARGIN as i32 + 10 + row as i32 * LEGEND_ROW;
        ((10, y), (38, y + 28))
    };
    for (row, series) in chart.series.iter().enumerate() {
        let (from, to) = swatch(row);
        area.draw(&Rectangle::new([from, to], series.color.filled()))?;
        area.draw(&Text::new(
            series.name.clone(),
            (48, (from.1 + to.1) / 2),
            &style,
        ))?;
    }
    for (n, why) in reasons.into_iter().enumerate() {
        let (from, to) = swatch(chart.series.len() + n);
        missing(area, from, to, "")?;
        area.draw(&Text::new(
            why.to_string(),
            (48, (from.1 + to.1) / 2),
            &style,
        ))?;
    }
    Ok(())
}

fn text_style(size: f64, h: HPos, v: VPos) -> TextStyle<'static> {
    TextStyle::from((FONT, size).into_font())
        .pos(Pos::new(h, v))
        .color(&BLACK)
}
