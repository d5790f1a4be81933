//! What waits: each queue and its first jobs, delayed jobs by due time, and reliable
//! fetch's processing lists (jobs a worker took and has not finished).

use super::text;
use crate::app::admin::Admin;
use kit::dashboard::widgets::{span, table, unseen};
use kit::dashboard::{html, Markup};
use strategy_5::QueueError;

/// How many jobs of each queue are listed.
const SHOWN: isize = 20;

pub async fn page(admin: &Admin) -> Result<Markup, QueueError> {
    let queues = admin.queues().await?;
    let mut sections = Vec::new();
    for (name, length) in queues["queues"].as_object().into_iter().flatten() {
        let jobs = admin.queue.queued(name, 0, SHOWN - 1).await?;
        let rows = jobs
            .iter()
            .enumerate()
            .map(|(i, job)| {
                html! { tr { td.num { (i) } td { (job.class) } td { code { (serde_json::Value::from(job.args.clone())) } } } }
            })
            .collect();
        sections.push(html! {
            h2 { (name) " " span.muted { "(" (text(length)) " jobs)" } }
            (table(&["#", "class", "args"], rows, "empty"))
        });
    }
    Ok(html! {
        @if sections.is_empty() { p.muted { "No queues yet: no job was enqueued." } }
        @for section in sections { (section) }
    })
}

pub async fn delayed(admin: &Admin) -> Result<Markup, QueueError> {
    let delayed = admin.delayed().await?;
    let now_ms = chrono::Utc::now().timestamp_millis();
    let mut rows = Vec::new();
    for (due_ms, jobs) in delayed["delayed"].as_object().into_iter().flatten() {
        let due_ms: i64 = due_ms.parse().unwrap_or_default();
        let due = chrono::DateTime::from_timestamp_millis(due_ms)
            .map(|at| at.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_default();
        let when = if due_ms > now_ms {
            format!("in {}", span((due_ms - now_ms) / 1000))
        } else {
            format!("due {} ago", span((now_ms - due_ms) / 1000))
        };
        for job in jobs.as_array().into_iter().flatten() {
            rows.push(html! {
                tr {
                    td { (due) br; span.muted { (when) } }
                    td { (text(&job["queue"])) }
                    td { (text(&job["class"])) }
                    td { code { (text(&job["args"])) } }
                }
            });
        }
    }
    Ok(html! {
        p { "Jobs to run later (enqueued with a delay, or a retry waiting its turn). The scheduler moves each to its queue when it is due." }
        (table(&["due", "queue", "class", "args"], rows, "no delayed jobs"))
    })
}

pub async fn processing(admin: &Admin) -> Result<Markup, QueueError> {
    let lists = admin.queue.processing_lists().await?;
    let rows = lists
        .iter()
        .flat_map(|(key, jobs)| {
            jobs.iter()
                .map(move |job| html! { tr { td { code { (key) } } td { code { (job) } } } })
        })
        .collect();
    Ok(html! {
        (unseen("With --reliable, a worker moves each job it takes into a processing list of \
                 its own (BLMOVE) and removes it when the job is done: a job listed here is \
                 being worked on, or its worker died holding it and the scheduler will requeue it."))
        (table(&["list", "job"], rows, "no job is held in a processing list"))
    })
}
