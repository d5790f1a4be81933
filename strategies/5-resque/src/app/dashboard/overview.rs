//! The overview: the counters as tiles, each queue's length, and who is working on what.

use super::stats::Rates;
use super::{text, workers};
use crate::app::admin::Admin;
use kit::dashboard::widgets::{table, tiles};
use kit::dashboard::{href, html, Markup};
use strategy_5::QueueError;

pub async fn page(admin: &Admin, rates: &Rates) -> Result<Markup, QueueError> {
    let stats = admin.stats().await?;
    rates.sample(&stats);
    let count = |name: &str| text(&stats["stats"][name]).parse::<i64>().unwrap_or(0);
    let queues = stats["queues"].as_object().cloned().unwrap_or_default();
    let pending: i64 = queues.values().filter_map(|v| v.as_i64()).sum();
    let working = workers::working_rows(admin).await?;
    let rows = queues
        .iter()
        .map(|(name, length)| html! { tr { td { (name) } td.num { (text(length)) } } })
        .collect();
    Ok(html! {
        (tiles(&[
            ("processed", count("processed").to_string()),
            ("failed", count("failed").to_string()),
            ("pending", pending.to_string()),
            ("workers", text(&stats["workers"])),
            ("working", working.len().to_string()),
            ("failed list", text(&stats["failed_entries"])),
        ]))
        p.muted {
            "Scheduler leader: "
            @match stats["leader"].as_str() { Some(leader) => code { (leader) }, None => "none" }
        }
        h2 { a href=(href("/queues")) { "Queues" } }
        (table(&["queue", "jobs"], rows, "no queues yet: no job was enqueued"))
        h2 { a href=(href("/working")) { "Working" } }
        (table(workers::WORKING_HEAD, working, "no worker is working on a job"))
    })
}
