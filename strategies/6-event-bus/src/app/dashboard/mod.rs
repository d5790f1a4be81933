//! `/dashboard`: the log as an operator sees it, Kafka UI's consumer-lag view over Redis.
//!
//! | page                  | shows                                                           |
//! |-----------------------|-----------------------------------------------------------------|
//! | `/dashboard`          | groups x partitions: position, head, lag, pending, lease holder and expiry, dead letters; each group's members |
//! | `/dashboard/dead`     | each group's dead letters, with retry and replay                |
//! | `/dashboard/retention`| what retention keeps, and each partition's retained range       |
//!
//! Both backends answer through the `Engine` trait (`Log::partition_views`), so the page
//! is the same for lists and Streams; only the positions read differently (offsets, or
//! entry IDs).
//!
//! Actions (form POSTs, guarded by `kit::dashboard::Gate`: session token, same origin,
//! `--admin-token` beyond loopback):
//! * `/dashboard/dead/retry` `group, partition, index`: publish the letter's event again
//!   (a new event, every group sees it) and take the letter off its list;
//! * `/dashboard/replay` `group, partition, to` (`start`, an offset or an entry ID): move
//!   the group there, so it reads those events again.

mod dead;
mod groups;

use hyper::{Method, StatusCode};
use kit::dashboard::{Gate, Reply, Request, Site};
use strategy_6::{Log, LogError};

const SITE: Site = Site {
    name: "Strategy 6 · event log",
    pages: &[
        ("", "Groups"),
        ("/dead", "Dead letters"),
        ("/retention", "Retention"),
    ],
};

pub struct Dashboard {
    pub log: Log,
    pub gate: Gate,
    /// The groups shown even before they read (the one this binary's consumers use).
    pub groups: Vec<String>,
    /// `--retain-secs` and `--retain-max` of this web role (0: no bound).
    pub retain_secs: u64,
    pub retain_max: u64,
}

impl Dashboard {
    pub async fn serve(&self, request: &Request<'_>) -> Reply {
        let visit = match self.gate.enter(request) {
            Ok(visit) => visit,
            Err(reply) => return reply,
        };
        let page = match (request.method, request.page()) {
            (&Method::POST, "/dead/retry") => return dead::retry(self, &visit).await,
            (&Method::POST, "/replay") => return dead::replay(self, &visit).await,
            (&Method::POST, other) => {
                return visit.refuse(StatusCode::NOT_FOUND, &format!("no action {other:?} here"))
            }
            (_, "") => groups::page(self, &visit)
                .await
                .map(|c| ("Consumer groups", c)),
            (_, "/dead") => dead::page(self, &visit).await.map(|c| ("Dead letters", c)),
            (_, "/retention") => groups::retention(self).await.map(|c| ("Retention", c)),
            (_, other) => {
                return visit.refuse(StatusCode::NOT_FOUND, &format!("no page {other:?} here"))
            }
        };
        match page {
            Ok((heading, content)) => visit.page(&SITE, request, heading, content),
            Err(e) => visit.refuse(status_of(&e), &e.to_string()),
        }
    }

    /// Every group with a place in some partition, and the configured ones.
    async fn group_names(&self) -> Result<Vec<String>, LogError> {
        let mut names = self.groups.clone();
        for partition in self.log.partitions() {
            for position in self.log.positions(partition).await? {
                if !names.contains(&position.group) {
                    names.push(position.group);
                }
            }
        }
        names.sort();
        Ok(names)
    }
}

/// Bad input is the client's (400); anything else means Redis or the log is not right.
fn status_of(error: &LogError) -> StatusCode {
    match error {
        LogError::Invalid(_) => StatusCode::BAD_REQUEST,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// A time in ms since the epoch, as UTC.
fn at_ms(ms: u64) -> String {
    chrono::DateTime::from_timestamp_millis(ms as i64)
        .map(|at| at.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| ms.to_string())
}
