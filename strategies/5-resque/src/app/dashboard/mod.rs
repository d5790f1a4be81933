//! `/dashboard`: resque-web's pages over this queue, as HTML for a person, each drawn from
//! the same calls as the JSON admin routes ([`super::admin::Admin`]), so the two always say
//! the same thing.
//!
//! | page                   | shows                                                          |
//! |------------------------|----------------------------------------------------------------|
//! | `/dashboard`           | Overview: counters, queue lengths, the workers working now     |
//! | `/dashboard/working`   | each job being worked on: worker, queue, class, args, since   |
//! | `/dashboard/failed`    | the failed list, with retry / remove / retry all / clear      |
//! | `/dashboard/queues`    | each queue and the first jobs waiting in it                    |
//! | `/dashboard/workers`   | each worker: queues, its job since when, processed / failed   |
//! | `/dashboard/delayed`   | delayed jobs by due time                                       |
//! | `/dashboard/processing`| reliable fetch's processing lists (not in resque-web)          |
//! | `/dashboard/stats`     | every counter, the multi-worker's slots and lag, a rate chart  |
//! | `/dashboard/bus`       | QueueBus: its apps, their subscriptions, the bus queues        |
//!
//! The actions are the failed page's buttons: form POSTs to `/dashboard/failed/retry`
//! (`index=N`), `/failed/remove` (`index=N`), `/failed/retry-all` and `/failed/clear`, each
//! guarded by `kit::dashboard::Gate` (the session token, same origin, `--admin-token`
//! beyond loopback) and answered with a redirect to the failed page saying what was done.
//! An index that is not in the list is a 404 page, a malformed form a 400, a missing token
//! a 403; nothing changes.

mod bus;
mod failed;
mod overview;
mod queues;
mod stats;
mod workers;

use super::admin::{status_of, Admin};
use hyper::{Method, StatusCode};
use kit::dashboard::{Gate, Markup, Reply, Request, Site, Visit};
use strategy_5::QueueError;

/// The pages, in the order resque-web lists its tabs.
const SITE: Site = Site {
    name: "Strategy 5 · Resque",
    pages: &[
        ("", "Overview"),
        ("/working", "Working"),
        ("/failed", "Failed"),
        ("/queues", "Queues"),
        ("/workers", "Workers"),
        ("/delayed", "Delayed"),
        ("/processing", "Processing"),
        ("/stats", "Stats"),
        ("/bus", "Bus"),
    ],
};

pub struct Dashboard {
    pub gate: Gate,
    /// Processed and failed per second, sampled as the pages are drawn.
    pub rates: stats::Rates,
}

impl Dashboard {
    pub fn new(gate: Gate) -> Dashboard {
        Dashboard {
            gate,
            rates: stats::Rates::default(),
        }
    }

    pub async fn serve(&self, admin: &Admin, request: &Request<'_>) -> Reply {
        let visit = match self.gate.enter(request) {
            Ok(visit) => visit,
            Err(reply) => return reply,
        };
        let page = match (request.method, request.page()) {
            (&Method::POST, action) => return failed::act(admin, &visit, action).await,
            (_, "") => overview::page(admin, &self.rates)
                .await
                .map(|c| ("Overview", c)),
            (_, "/working") => workers::working(admin).await.map(|c| ("Working", c)),
            (_, "/failed") => failed::page(admin, &visit).await.map(|c| ("Failed", c)),
            (_, "/queues") => queues::page(admin).await.map(|c| ("Queues", c)),
            (_, "/workers") => workers::page(admin).await.map(|c| ("Workers", c)),
            (_, "/delayed") => queues::delayed(admin).await.map(|c| ("Delayed", c)),
            (_, "/processing") => queues::processing(admin).await.map(|c| ("Processing", c)),
            (_, "/stats") => stats::page(admin, &self.rates).await.map(|c| ("Stats", c)),
            (_, "/bus") => bus::page(admin).await.map(|c| ("Bus", c)),
            (_, other) => {
                return visit.refuse(StatusCode::NOT_FOUND, &format!("no page {other:?} here"))
            }
        };
        show(&visit, request, page)
    }
}

fn show(visit: &Visit, request: &Request<'_>, page: Result<(&str, Markup), QueueError>) -> Reply {
    match page {
        Ok((heading, content)) => visit.page(&SITE, request, heading, content),
        Err(e) => visit.refuse(status_of(&e), &e.to_string()),
    }
}

/// A JSON value as a person reads it: a string without its quotes, anything else as JSON.
fn text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}
