//! Hand-built runs for the report's tests: numbers like those of a real comparison.

use super::runs::{Report, RunReport, Settings};
use crate::account::{DeliveryMs, LatencyMs, Tally};

/// Strategy `strategy` (`"1"` to `"6"`, titled as in the catalog), variant `variant`, under
/// `scenario`.
pub fn run(strategy: &str, variant: &str, scenario: &str, tally: Tally) -> RunReport {
    let title = crate::catalog::find(strategy).map_or("unknown", |s| s.title);
    RunReport {
        strategy: strategy.into(),
        title: title.into(),
        variant: variant.into(),
        scenario: scenario.into(),
        tally,
        rate: 100.0,
        notes: Vec::new(),
        still_delivering_per_s: None,
        memory: Vec::new(),
        error: None,
    }
}

/// A run that did not happen, for `error`.
pub fn not_run(strategy: &str, variant: &str, scenario: &str, error: &str) -> RunReport {
    RunReport {
        error: Some(error.into()),
        ..run(strategy, variant, scenario, Tally::default())
    }
}

/// 200 requests, all accepted, of which `lost` lost and `parked` parked; `duplicates`
/// extra copies. HTTP latency p50/p99 1.6/8.5 ms, delivery 4.4/8.6 s.
pub fn tally(lost: u64, parked: u64, duplicates: u64) -> Tally {
    Tally {
        requests: 200,
        accepted: 200,
        delivered: 200 - lost - parked,
        lost,
        parked,
        duplicates,
        latency_ms: LatencyMs {
            p50: Some(1.56),
            p90: Some(4.5),
            p99: Some(8.54),
            max: Some(8.92),
        },
        delivery_ms: DeliveryMs {
            p50: Some(4378.62),
            p99: Some(8642.56),
            max: Some(8732.67),
        },
        ..Tally::default()
    }
}

pub fn report(runs: Vec<RunReport>) -> Report {
    Report {
        settings: Settings {
            requests: 200,
            rate: 100.0,
            mailer_latency_ms: 50,
            settle_s: 30.0,
            quiet_s: 5.0,
            seed: None,
        },
        runs,
    }
}
