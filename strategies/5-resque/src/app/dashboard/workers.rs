//! The workers: what each works on and since when (Working), and each one's queues, start
//! and counts (Workers). A worker's counts are Resque's `stat:processed:NAME` and
//! `stat:failed:NAME`.

use super::text;
use crate::app::admin::Admin;
use kit::dashboard::widgets::{span, table, tiles, unseen};
use kit::dashboard::{html, Markup};
use serde_json::Value;
use std::sync::atomic::Ordering;
use strategy_5::QueueError;

pub const WORKING_HEAD: &[&str] = &["worker", "queue", "class", "args", "since"];

/// One row per worker that has a job now.
pub async fn working_rows(admin: &Admin) -> Result<Vec<Markup>, QueueError> {
    let workers = admin.workers().await?;
    let mut rows = Vec::new();
    for (name, worker) in workers["workers"].as_object().into_iter().flatten() {
        let job = &worker["working_on"];
        if job.is_null() {
            continue;
        }
        rows.push(html! {
            tr {
                td { code { (name) } }
                td { (text(&job["queue"])) }
                td { (text(&job["payload"]["class"])) }
                td { code { (text(&job["payload"]["args"])) } }
                td { (since(&job["run_at"])) }
            }
        });
    }
    Ok(rows)
}

pub async fn working(admin: &Admin) -> Result<Markup, QueueError> {
    let rows = working_rows(admin).await?;
    Ok(html! {
        p { (rows.len()) " of the registered workers are working." }
        (table(WORKING_HEAD, rows, "no worker is working on a job"))
    })
}

pub async fn page(admin: &Admin) -> Result<Markup, QueueError> {
    let workers = admin.workers().await?;
    let stats = admin.stats().await?;
    let count = |stat: &str, name: &str| text(&stats["stats"][format!("{stat}:{name}")]);
    let rows = workers["workers"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, worker)| {
            let job = &worker["working_on"];
            html! {
                tr {
                    td { code { (name) } }
                    td { (text(&worker["queues"])) }
                    td {
                        @if job.is_null() { span.muted { "idle" } }
                        @else { (text(&job["payload"]["class"])) " since " (since(&job["run_at"])) }
                    }
                    td { (since(&worker["started_at"])) }
                    td.num { (or_zero(count("processed", name))) }
                    td.num { (or_zero(count("failed", name))) }
                }
            }
        })
        .collect();
    Ok(html! {
        (table(&["worker", "queues", "working on", "started", "processed", "failed"], rows,
            "no worker is registered"))
        (multi_worker(admin))
    })
}

/// The multi-worker of this process, if it has one (`--role all`): a worker in another
/// process is seen through Redis only.
pub fn multi_worker(admin: &Admin) -> Markup {
    let Some(status) = &admin.multi_worker else {
        return unseen(
            "This web role runs no multi-worker of its own: the slots and runtime lag of \
             workers in other processes are not visible from here (their registrations \
             are, on the Workers page).",
        );
    };
    let lag_us = status.lag_us.load(Ordering::Relaxed);
    let lag = if lag_us == u64::MAX {
        "not measured yet".to_string()
    } else {
        format!("{:.1} ms", lag_us as f64 / 1000.0)
    };
    html! {
        h2 { "Multi-worker in this process" }
        (tiles(&[
            ("slots", status.slots.load(Ordering::Relaxed).to_string()),
            ("working", status.working.load(Ordering::Relaxed).to_string()),
            ("most slots", status.most_slots.load(Ordering::Relaxed).to_string()),
            ("runtime lag", lag),
        ]))
    }
}

fn or_zero(count: String) -> String {
    if count.is_empty() {
        "0".into()
    } else {
        count
    }
}

/// A time as written in Redis, and how long ago that was.
pub fn since(value: &Value) -> String {
    let raw = text(value);
    match strategy_5::wire::parse_date(&raw) {
        Some(at) => {
            let ago = (chrono::Utc::now() - at).num_seconds();
            format!("{} ({} ago)", at.format("%Y-%m-%d %H:%M:%S UTC"), span(ago))
        }
        None => raw,
    }
}
