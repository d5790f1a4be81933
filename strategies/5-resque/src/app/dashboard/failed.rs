//! The failed list and what can be done about it: retry one job (it goes back on its queue
//! and its entry leaves the list), remove one, retry all, clear. Entries are addressed by
//! their index in the list, as resque-web does.

use super::text;
use super::workers::since;
use crate::app::admin::{status_of, Admin};
use hyper::StatusCode;
use kit::dashboard::widgets::{table, tiles};
use kit::dashboard::{href_with_notice, html, Markup, Reply, Visit};
use strategy_5::QueueError;

/// How many entries the page lists (the JSON route lists as many).
const SHOWN: isize = 100;

pub async fn page(admin: &Admin, visit: &Visit) -> Result<Markup, QueueError> {
    let count = admin.queue.failed_count().await?;
    let entries = admin.queue.failed(0, SHOWN - 1).await?;
    let rows = entries
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            let index = index.to_string();
            html! {
                tr {
                    td.num { (index) }
                    td { (since(&entry["failed_at"])) }
                    td { code { (text(&entry["worker"])) } }
                    td { (text(&entry["queue"])) }
                    td { (text(&entry["payload"]["class"])) }
                    td { code { (text(&entry["payload"]["args"])) } }
                    td { b { (text(&entry["exception"])) } ": " (text(&entry["error"])) }
                    td {
                        div.actions {
                            (visit.button("/failed/retry", "Retry", &[("index", index.clone())], None))
                            (visit.button("/failed/remove", "Remove", &[("index", index.clone())],
                                Some("Remove this failed job for good?")))
                        }
                    }
                }
            }
        })
        .collect();
    Ok(html! {
        (tiles(&[("failed jobs", count.to_string())]))
        @if count > 0 {
            div.actions {
                (visit.button("/failed/retry-all", "Retry all", &[], None))
                (visit.button("/failed/clear", "Clear", &[], Some("Delete every failed job?")))
            }
        }
        @if count > entries.len() { p.muted { "The first " (entries.len()) " of " (count) " are listed." } }
        (table(&["#", "failed at", "worker", "queue", "class", "args", "error", ""], rows,
            "no failed jobs"))
    })
}

/// A POST of the failed page's forms (the gate already checked who sent it).
pub async fn act(admin: &Admin, visit: &Visit, action: &str) -> Reply {
    let done = match action {
        "/failed/retry" | "/failed/remove" => {
            let index = match visit.form.integer("index") {
                Ok(index) if index >= 0 => index,
                Ok(index) => {
                    return visit.refuse(
                        StatusCode::BAD_REQUEST,
                        &format!("index {index} is negative"),
                    )
                }
                Err(why) => return visit.refuse(StatusCode::BAD_REQUEST, &why),
            };
            let found = if action == "/failed/retry" {
                admin.queue.retry_failed_at(index as isize).await
            } else {
                admin.queue.remove_failed_at(index as isize).await
            };
            match found {
                Ok(true) if action == "/failed/retry" => {
                    Ok(format!("Job {index} is back on its queue."))
                }
                Ok(true) => Ok(format!("Job {index} was removed.")),
                Ok(false) => {
                    return visit.refuse(
                        StatusCode::NOT_FOUND,
                        &format!("there is no failed job at index {index} (the list changed?)"),
                    )
                }
                Err(e) => Err(e),
            }
        }
        "/failed/retry-all" => admin
            .queue
            .retry_all_failed()
            .await
            .map(|n| format!("{n} failed jobs are back on their queues.")),
        "/failed/clear" => admin
            .queue
            .clear_failed()
            .await
            .map(|n| format!("{n} failed jobs were deleted.")),
        other => return visit.refuse(StatusCode::NOT_FOUND, &format!("no action {other:?} here")),
    };
    match done {
        Ok(notice) => visit.finish(Reply::see_other(&href_with_notice("/failed", &notice))),
        Err(e) => visit.refuse(status_of(&e), &e.to_string()),
    }
}
