//! Small pieces every dashboard uses, so the six look alike.

use maud::{html, Markup};

/// Big numbers in a row of tiles: `(label, value)`.
pub fn tiles(items: &[(&str, String)]) -> Markup {
    html! {
        div.tiles {
            @for (label, value) in items {
                div.tile { b { (value) } span { (label) } }
            }
        }
    }
}

/// A table with a header row; `rows` are `tr` elements. It scrolls sideways on a narrow
/// screen, and says `empty` when there are no rows.
pub fn table(head: &[&str], rows: Vec<Markup>, empty: &str) -> Markup {
    html! {
        div.scroll {
            table {
                thead { tr { @for name in head { th { (name) } } } }
                tbody {
                    @if rows.is_empty() {
                        tr { td.muted colspan=(head.len()) { (empty) } }
                    }
                    @for row in rows { (row) }
                }
            }
        }
    }
}

/// What this page cannot see, said on the page rather than left out.
pub fn unseen(text: &str) -> Markup {
    html! { p.unseen { (text) } }
}

/// A span of seconds for a person: `45 s`, `3 min 5 s`, `2 h 10 min`, `3 d 4 h`.
pub fn span(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        3600..86400 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h", s / 86400, s % 86400 / 3600),
    }
}

/// One line of a [`chart`]: its name, its colour and a value per sample.
pub struct Series<'a> {
    pub name: &'a str,
    pub colour: &'a str,
    pub values: &'a [f64],
}

/// A small line chart as inline SVG (no script, no library): each series over the same
/// samples, the largest value at the top, its scale written beside it.
pub fn chart(title: &str, unit: &str, series: &[Series<'_>]) -> Markup {
    const W: f64 = 600.0;
    const H: f64 = 160.0;
    let samples = series.iter().map(|s| s.values.len()).max().unwrap_or(0);
    let top = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let x = |i: usize| {
        if samples <= 1 {
            0.0
        } else {
            W * i as f64 / (samples - 1) as f64
        }
    };
    let y = |v: f64| H - H * v / top;
    html! {
        svg.chart viewBox=(format!("-4 -18 {} {}", W + 8.0, H + 40.0)) role="img" aria-label=(title) {
            title { (title) }
            line x1="0" y1=(H) x2=(W) y2=(H) stroke="currentColor" stroke-opacity="0.4" {}
            text x="0" y="-4" font-size="13" fill="currentColor" { (format!("{top:.0} {unit}")) }
            @for (n, s) in series.iter().enumerate() {
                polyline fill="none" stroke=(s.colour) stroke-width="2.5"
                    points=(s.values.iter().enumerate().map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v))).collect::<Vec<_>>().join(" ")) {}
                text x=(120.0 + 140.0 * n as f64) y="-4" font-size="13" fill=(s.colour) {
                    (s.name) " " (s.values.last().map(|v| format!("{v:.1}")).unwrap_or_default())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_as_a_person_says_them() {
        assert_eq!(span(-3), "0 s");
        assert_eq!(span(59), "59 s");
        assert_eq!(span(185), "3 min 5 s");
        assert_eq!(span(7800), "2 h 10 min");
        assert_eq!(span(3 * 86400 + 4 * 3600), "3 d 4 h");
    }

    #[test]
    fn a_value_from_outside_is_shown_as_text() {
        let row = html! { tr { td { "<script>alert(1)</script>" } } };
        let page = table(&["payload"], vec![row], "none").into_string();
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!page.contains("<script>"));
    }
}
