//! A table as data. The summary and the per-scenario tables are built once, as [`Table`]s,
//! and drawn twice, as markdown and as HTML, so the two files cannot tell different stories.

/// How a column lines up: labels left, numbers right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// What a cell says about its run beyond its text, so that each rendering can show it
/// (bold, grey) without reading the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Plain,
    /// Mail was lost silently: the number a strategy must keep at zero.
    Alarm,
    /// The run did not happen (not built, did not start).
    NotRun,
    /// The scenario does not apply to this strategy (a Redis restart without Redis).
    NotApplicable,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub text: String,
    pub tone: Tone,
    /// How many columns it covers: a run that did not happen says why once, across all
    /// the numbers it does not have.
    pub span: usize,
}

impl Cell {
    pub fn plain(text: impl Into<String>) -> Cell {
        Cell::toned(text, Tone::Plain)
    }

    pub fn toned(text: impl Into<String>, tone: Tone) -> Cell {
        Cell {
            text: text.into(),
            tone,
            span: 1,
        }
    }

    /// A count of silently lost mail: an alarm unless it is zero.
    pub fn lost(count: u64) -> Cell {
        let tone = if count > 0 { Tone::Alarm } else { Tone::Plain };
        Cell::toned(count.to_string(), tone)
    }

    pub fn spanning(self, span: usize) -> Cell {
        Cell { span, ..self }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Each column's heading and alignment.
    pub columns: Vec<(String, Align)>,
    /// Each row's cells cover the columns exactly (counting spans).
    pub rows: Vec<Vec<Cell>>,
}

/// A latency in the unit that reads best: `1.6 ms`, `54 ms`, `4.4 s`; `–` when nothing was
/// measured.
impl Table {
    /// A table whose first `labels` columns are text (left-aligned) and the rest figures
    /// (right-aligned); `None` when there are no rows, so the report leaves it out.
    pub fn labelled(names: &[&str], labels: usize, rows: Vec<Vec<Cell>>) -> Option<Table> {
        if rows.is_empty() {
            return None;
        }
        let columns = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let align = if i < labels {
                    Align::Left
                } else {
                    Align::Right
                };
                (name.to_string(), align)
            })
            .collect();
        Some(Table { columns, rows })
    }
}

pub fn ms(value: Option<f64>) -> String {
    match value {
        None => "–".to_string(),
        Some(v) if v < 10.0 => format!("{v:.1} ms"),
        Some(v) if v < 1000.0 => format!("{v:.0} ms"),
        Some(v) => format!("{:.1} s", v / 1000.0),
    }
}

/// Two latencies in one cell, the unit said once when they share it: `1.6 / 8.5 ms`,
/// `4.4 / 8.6 s`, `399 ms / 1.1 s`.
pub fn ms_pair(first: Option<f64>, second: Option<f64>) -> String {
    let (first, second) = (ms(first), ms(second));
    match (first.split_once(' '), second.split_once(' ')) {
        (Some((number, unit)), Some((_, other))) if unit == other => {
            format!("{number} / {second}")
        }
        _ => format!("{first} / {second}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_of_latencies_names_a_shared_unit_once() {
        assert_eq!(ms_pair(Some(1.56), Some(8.54)), "1.6 / 8.5 ms");
        assert_eq!(ms_pair(Some(4378.6), Some(8642.6)), "4.4 / 8.6 s");
        assert_eq!(ms_pair(Some(399.0), Some(1100.0)), "399 ms / 1.1 s");
        assert_eq!(ms_pair(None, None), "– / –");
    }
}
