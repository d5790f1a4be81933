//! Every `stat:*` counter, the multi-worker's slots and lag, and processed / failed per
//! second over the last minutes (as Sidekiq's dashboard draws it), with the multi-worker's
//! runtime lag beside it when this process runs one. The rates are sampled
//! whenever the overview or this page is drawn (every 2 s while one is open), so the chart
//! covers the time someone was watching.

use super::{text, workers};
use crate::app::admin::Admin;
use kit::dashboard::widgets::{chart, table, Series};
use kit::dashboard::{html, Markup};
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Instant;
use strategy_5::QueueError;

/// Samples kept: a few minutes at one per refresh.
const KEPT: usize = 90;

/// One reading: when, the counters `processed` and `failed`, and the multi-worker's
/// runtime lag in ms (when there is one and it was measured).
type Sample = (Instant, i64, i64, Option<f64>);

/// The readings, oldest first.
#[derive(Default)]
pub struct Rates {
    samples: Mutex<VecDeque<Sample>>,
}

impl Rates {
    /// Keeps this reading of the counters (at most one a second).
    pub fn sample(&self, stats: &Value) {
        let count = |name: &str| stats["stats"][name].as_i64().unwrap_or(0);
        let mut samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if samples
            .back()
            .is_some_and(|(at, ..)| now.duration_since(*at).as_millis() < 900)
        {
            return;
        }
        let lag_ms = stats["multi_worker"]["lag_ms"].as_f64();
        samples.push_back((now, count("processed"), count("failed"), lag_ms));
        if samples.len() > KEPT {
            samples.pop_front();
        }
    }

    /// Processed and failed per second between consecutive samples.
    fn per_second(&self) -> (Vec<f64>, Vec<f64>) {
        let samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        let pairs = samples.iter().zip(samples.iter().skip(1));
        pairs
            .map(|((t0, p0, f0, _), (t1, p1, f1, _))| {
                let seconds = t1.duration_since(*t0).as_secs_f64().max(0.001);
                (
                    (p1 - p0).max(0) as f64 / seconds,
                    (f1 - f0).max(0) as f64 / seconds,
                )
            })
            .unzip()
    }

    /// The runtime lag of each reading that has one.
    fn lag_ms(&self) -> Vec<f64> {
        let samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        samples.iter().filter_map(|(.., lag)| *lag).collect()
    }
}

pub async fn page(admin: &Admin, rates: &Rates) -> Result<Markup, QueueError> {
    let stats = admin.stats().await?;
    rates.sample(&stats);
    let (processed, failed) = rates.per_second();
    let rows = stats["stats"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, value)| html! { tr { td { code { (name) } } td.num { (text(value)) } } })
        .collect();
    Ok(html! {
        h2 { "Per second, while this dashboard was open" }
        @if processed.len() < 2 { p.muted { "Collecting: the chart fills in as the page refreshes." } }
        (chart("jobs per second", "/s", &[
            Series { name: "processed", colour: "#1a7f37", values: &processed },
            Series { name: "failed", colour: "#cf222e", values: &failed },
        ]))
        (workers::multi_worker(admin))
        @let lag = rates.lag_ms();
        @if !lag.is_empty() {
            (chart("runtime lag", "ms", &[Series { name: "lag ms", colour: "#8250df", values: &lag }]))
        }
        h2 { "Counters" }
        (table(&["counter", "value"], rows, "no counters yet"))
    })
}
