//! The join: what the client was told, against what the mail server received.
//!
//! ```text
//!  client log (id, 2xx?)  ──┐
//!  sink deliveries (id)   ──┼──► per request id:  2xx ─┬─ delivered ............ fine (more than once: duplicates)
//!  failed list (id)       ──┘                          ├─ in the failed list ... parked (visible, can be retried)
//!                                                      └─ neither .............. LOST (nobody knows)
//!                                        not 2xx ───── rejected (the client was told; it can retry)
//! ```
//!
//! Percentiles come from HDR histograms in microseconds (3 significant digits), reported in
//! milliseconds.

use crate::load::{id_from_subject, ClientRecord};
use chrono::{DateTime, Utc};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// One delivery of one of our requests.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub id: u64,
    pub at: DateTime<Utc>,
}

/// Our requests' deliveries among what the sink accepted (other mail is ignored).
pub fn our_deliveries(deliveries: &[mailer::Delivery]) -> Vec<Delivered> {
    deliveries
        .iter()
        .filter_map(|delivery| {
            let id = id_from_subject(&delivery.subject)?;
            let at = DateTime::parse_from_rfc3339(&delivery.received_at).ok()?;
            Some(Delivered {
                id,
                at: at.with_timezone(&Utc),
            })
        })
        .collect()
}

/// HTTP answer latency, in ms (`null` when no request got an answer).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencyMs {
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
}

/// Due time of the request to the mail's arrival at the sink, in ms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct DeliveryMs {
    pub p50: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
}

/// The counts of one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    pub requests: u64,
    /// 2xx answers.
    pub accepted: u64,
    /// Non-2xx answers, timeouts and connection errors: the client knows it failed.
    pub rejected: u64,
    /// Distinct request ids that reached the mail server (accepted or not).
    pub delivered: u64,
    /// Deliveries beyond the first of the same id.
    pub duplicates: u64,
    /// Accepted, never delivered, in no failed list: silent loss.
    pub lost: u64,
    /// Accepted, never delivered, but visible in a failed or dead-letter list.
    pub parked: u64,
    /// Refused to the client and delivered anyway (a client retry would send it twice).
    pub rejected_but_delivered: u64,
    pub latency_ms: LatencyMs,
    pub delivery_ms: DeliveryMs,
    /// The same percentiles split by due time: the first second of the load, while pools,
    /// slots and consumers ramp up, and the rest. Absent in reports written before the split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phases: Option<Phases>,
}

/// Requests due in the first [`RAMP_UP`] of the load, and those due after.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Phases {
    pub ramp_up: Phase,
    pub steady: Phase,
}

/// The percentiles of the requests due in one part of the load.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Phase {
    /// Requests due in this part.
    pub requests: u64,
    pub latency_ms: LatencyMs,
    pub delivery_ms: DeliveryMs,
}

/// How long the ramp-up lasts, counted from the first due time. Pools of connections,
/// worker slots and consumer concurrency grow with the load during it; kept apart, a slow
/// start cannot hide in a long run's percentiles, nor a steady tail behind a slow start.
pub const RAMP_UP: Duration = Duration::from_secs(1);

/// Joins the client log with the deliveries and the parked ids.
pub fn tally(records: &[ClientRecord], deliveries: &[Delivered], parked: &HashSet<u64>) -> Tally {
    let requested: HashSet<u64> = records.iter().map(|r| r.id).collect();
    let mut first_delivery: HashMap<u64, DateTime<Utc>> = HashMap::new();
    let mut duplicates = 0;
    for delivery in deliveries.iter().filter(|d| requested.contains(&d.id)) {
        match first_delivery.get_mut(&delivery.id) {
            None => {
                first_delivery.insert(delivery.id, delivery.at);
            }
            Some(first) => {
                duplicates += 1;
                *first = (*first).min(delivery.at);
            }
        }
    }

    let mut tally = Tally {
        requests: records.len() as u64,
        delivered: first_delivery.len() as u64,
        duplicates,
        ..Tally::default()
    };
    let mut all = Percentiles::default();
    let (mut ramp_up, mut steady) = (Percentiles::default(), Percentiles::default());
    let load_start = records.iter().map(|r| r.due_at).min();
    for record in records {
        let in_ramp_up = load_start
            .is_some_and(|start| (record.due_at - start).to_std().unwrap_or_default() < RAMP_UP);
        let phase = if in_ramp_up {
            &mut ramp_up
        } else {
            &mut steady
        };
        phase.requests += 1;
        if let Some(elapsed) = record.latency {
            all.latency.saturating_record(micros(elapsed));
            phase.latency.saturating_record(micros(elapsed));
        }
        let delivered_at = first_delivery.get(&record.id);
        if !record.accepted {
            tally.rejected += 1;
            tally.rejected_but_delivered += u64::from(delivered_at.is_some());
            continue;
        }
        tally.accepted += 1;
        match delivered_at {
            Some(at) => {
                let elapsed = (*at - record.due_at).to_std().unwrap_or_default();
                all.delivery.saturating_record(micros(elapsed));
                phase.delivery.saturating_record(micros(elapsed));
            }
            None if parked.contains(&record.id) => tally.parked += 1,
            None => tally.lost += 1,
        }
    }
    tally.latency_ms = all.latency_ms();
    tally.delivery_ms = all.delivery_ms();
    tally.phases = Some(Phases {
        ramp_up: ramp_up.phase(),
        steady: steady.phase(),
    });
    tally
}

/// The histograms of one set of requests: answer latency, and due time to delivery.
struct Percentiles {
    requests: u64,
    latency: Histogram<u64>,
    delivery: Histogram<u64>,
}

impl Default for Percentiles {
    fn default() -> Percentiles {
        Percentiles {
            requests: 0,
            latency: histogram(),
            delivery: histogram(),
        }
    }
}

impl Percentiles {
    fn latency_ms(&self) -> LatencyMs {
        LatencyMs {
            p50: quantile_ms(&self.latency, 0.5),
            p90: quantile_ms(&self.latency, 0.9),
            p99: quantile_ms(&self.latency, 0.99),
            max: quantile_ms(&self.latency, 1.0),
        }
    }

    fn delivery_ms(&self) -> DeliveryMs {
        DeliveryMs {
            p50: quantile_ms(&self.delivery, 0.5),
            p99: quantile_ms(&self.delivery, 0.99),
            max: quantile_ms(&self.delivery, 1.0),
        }
    }

    fn phase(&self) -> Phase {
        Phase {
            requests: self.requests,
            latency_ms: self.latency_ms(),
            delivery_ms: self.delivery_ms(),
        }
    }
}

/// 1 µs to 1 hour, 3 significant digits.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

fn micros(duration: Duration) -> u64 {
    (duration.as_micros() as u64).max(1)
}

/// The quantile in ms, rounded to 0.01 ms; `None` for an empty histogram.
fn quantile_ms(histogram: &Histogram<u64>, quantile: f64) -> Option<f64> {
    if histogram.is_empty() {
        return None;
    }
    let micros = if quantile >= 1.0 {
        histogram.max()
    } else {
        histogram.value_at_quantile(quantile)
    };
    Some((micros as f64 / 10.0).round() / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-27T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn answered(id: u64, accepted: bool, latency_ms: u64) -> ClientRecord {
        ClientRecord {
            id,
            due_at: t0(),
            latency: Some(Duration::from_millis(latency_ms)),
            accepted,
            refusal: (!accepted).then(|| "502 Bad Gateway".into()),
        }
    }

    fn connection_refused(id: u64) -> ClientRecord {
        ClientRecord {
            id,
            due_at: t0(),
            latency: None,
            accepted: false,
            refusal: Some("connection refused".into()),
        }
    }

    fn delivered(id: u64, after_ms: i64) -> Delivered {
        Delivered {
            id,
            at: t0() + chrono::Duration::milliseconds(after_ms),
        }
    }

    #[test]
    fn every_accepted_request_is_delivered_parked_or_lost() {
        // 0, 1: delivered; 2: parked; 3, 4: lost; 5: rejected (502); 6: no connection.
        let records: Vec<_> = (0..5)
            .map(|id| answered(id, true, 10))
            .chain([answered(5, false, 10), connection_refused(6)])
            .collect();
        let deliveries = [delivered(0, 30), delivered(1, 40)];
        let tally = tally(&records, &deliveries, &HashSet::from([2]));
        assert_eq!(tally.requests, 7);
        assert_eq!((tally.accepted, tally.rejected), (5, 2));
        assert_eq!(tally.delivered, 2);
        assert_eq!(tally.parked, 1);
        assert_eq!(tally.lost, 2);
        assert_eq!(tally.duplicates, 0);
    }

    #[test]
    fn a_second_delivery_is_a_duplicate_not_a_second_mail() {
        let records = [answered(0, true, 5), answered(1, true, 5)];
        let deliveries = [
            delivered(0, 20),
            delivered(1, 30),
            delivered(0, 900),
            delivered(0, 950),
        ];
        let tally = tally(&records, &deliveries, &HashSet::new());
        assert_eq!(tally.delivered, 2);
        assert_eq!(tally.duplicates, 2);
        assert_eq!(tally.lost, 0);
        // Request-to-delivery counts the first arrival.
        assert!(tally.delivery_ms.max.unwrap() < 31.0);
    }

    #[test]
    fn a_parked_mail_that_was_delivered_after_all_is_delivered() {
        let records = [answered(0, true, 5)];
        let tally = tally(&records, &[delivered(0, 10)], &HashSet::from([0]));
        assert_eq!((tally.delivered, tally.parked, tally.lost), (1, 0, 0));
    }

    #[test]
    fn deliveries_of_unknown_ids_are_ignored() {
        let records = [answered(0, true, 5)];
        let tally = tally(&records, &[delivered(7, 10)], &HashSet::new());
        assert_eq!((tally.delivered, tally.duplicates, tally.lost), (0, 0, 1));
    }

    #[test]
    fn a_refused_request_that_was_delivered_anyway_is_counted() {
        let records = [answered(0, false, 5), connection_refused(1)];
        let tally = tally(&records, &[delivered(1, 10)], &HashSet::new());
        assert_eq!(tally.rejected, 2);
        assert_eq!(tally.rejected_but_delivered, 1);
        assert_eq!(
            tally.lost, 0,
            "loss is counted among accepted requests only"
        );
    }

    #[test]
    fn latency_percentiles_cover_answered_requests_only() {
        let mut records: Vec<_> = (0..100).map(|id| answered(id, true, id + 1)).collect();
        records.push(connection_refused(100));
        let tally = tally(&records, &[], &HashSet::new());
        // Three significant digits: within 0.1% of the recorded value.
        let near = |ms: Option<f64>, expected: f64| {
            let ms = ms.expect("a value");
            assert!(
                (ms - expected).abs() <= expected / 1000.0,
                "{ms} vs {expected}"
            );
        };
        near(tally.latency_ms.p50, 50.0);
        near(tally.latency_ms.p90, 90.0);
        near(tally.latency_ms.p99, 99.0);
        near(tally.latency_ms.max, 100.0);
        assert_eq!(
            tally.delivery_ms,
            DeliveryMs::default(),
            "nothing delivered"
        );
    }

    /// Accepted request `id`, due `due_ms` after the load started, answered in `latency_ms`.
    fn due(id: u64, due_ms: i64, latency_ms: u64) -> ClientRecord {
        ClientRecord {
            due_at: t0() + chrono::Duration::milliseconds(due_ms),
            ..answered(id, true, latency_ms)
        }
    }

    #[test]
    fn requests_due_in_the_first_second_are_the_ramp_up_and_the_rest_the_steady_part() {
        // Due at 0, 500 and 999 ms: ramp-up, slow (100 ms answers, delivered 2 s later).
        // Due at 1000 ms and after: steady, fast (2 ms answers, delivered 60 ms later).
        let records = [
            due(0, 0, 100),
            due(1, 500, 100),
            due(2, 999, 100),
            due(3, 1000, 2),
            due(4, 1500, 2),
            due(5, 9000, 2),
        ];
        let deliveries: Vec<Delivered> = [(0, 2000), (1, 2500), (2, 2999)]
            .into_iter()
            .chain([(3, 1060), (4, 1560), (5, 9060)])
            .map(|(id, at)| delivered(id, at))
            .collect();
        let tally = tally(&records, &deliveries, &HashSet::new());
        let phases = tally.phases.expect("phases");
        assert_eq!((phases.ramp_up.requests, phases.steady.requests), (3, 3));
        // Three significant digits: 100 ms reads 100.03, 2 ms 2.0.
        assert!(phases.ramp_up.latency_ms.p50.unwrap() > 99.0);
        assert!(phases.steady.latency_ms.max.unwrap() < 2.1);
        assert!(phases.ramp_up.delivery_ms.p50.unwrap() > 1990.0);
        assert!(phases.steady.delivery_ms.max.unwrap() < 61.0);
        // The whole run still has every request.
        assert!(tally.latency_ms.max.unwrap() > 99.0);
        assert!(tally.latency_ms.p50.unwrap() < 2.1);
    }

    #[test]
    fn the_ramp_up_is_counted_from_the_earliest_due_time_whatever_the_order() {
        let records = [due(1, 1800, 5), due(0, 900, 5), due(2, 1900, 5)];
        let phases = tally(&records, &[], &HashSet::new()).phases.unwrap();
        assert_eq!((phases.ramp_up.requests, phases.steady.requests), (2, 1));
        assert_eq!(phases.steady.delivery_ms, DeliveryMs::default());
    }

    #[test]
    fn a_report_without_phases_still_reads() {
        let old = r#"{"requests":1,"accepted":1,"rejected":0,"delivered":1,"duplicates":0,
            "lost":0,"parked":0,"rejected_but_delivered":0,
            "latency_ms":{"p50":1.0,"p90":1.0,"p99":1.0,"max":1.0},
            "delivery_ms":{"p50":2.0,"p99":2.0,"max":2.0}}"#;
        let tally: Tally = serde_json::from_str(old).unwrap();
        assert_eq!(tally.phases, None);
    }

    #[test]
    fn sink_deliveries_are_matched_by_the_id_in_their_subject() {
        let delivery = |subject: &str| mailer::Delivery {
            to: "user@example.com".into(),
            subject: subject.into(),
            text: String::new(),
            message_id: "m".into(),
            received_at: "2026-11-27T10:00:00.250Z".into(),
            header_names: Vec::new(),
        };
        let ours = our_deliveries(&[delivery("loadtest #3"), delivery("Hello")]);
        assert_eq!(ours.len(), 1);
        assert_eq!(ours[0].id, 3);
        assert_eq!(ours[0].at, t0() + chrono::Duration::milliseconds(250));
    }
}
