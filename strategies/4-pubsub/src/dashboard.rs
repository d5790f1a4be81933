//! `/dashboard`: the channel as the web role sees it. Pub/sub keeps nothing, so what can be
//! seen is who listens now (`PUBSUB NUMSUB`), what Redis holds for each subscriber that it
//! has not read yet (`CLIENT LIST TYPE pubsub`: its output buffer), and what this web
//! process's PUBLISHes were told (how many receivers, how many went to nobody).
//!
//! [`Watched`] wraps the web role's [`Publisher`]: every call goes to it unchanged, and the
//! answer to each PUBLISH is counted on the way back. A status page: nothing to act on.

use crate::backlog::Backlog;
use crate::publisher::Publisher;
use bytes::Bytes;
use hyper::{HeaderMap, Method, StatusCode};
use kit::dashboard::widgets::{table, tiles, unseen};
use kit::dashboard::{guard, html, Markup, Reply, Request, Site};
use kit::{BoxFuture, EmailService, Refusal};
use mailer::Email;
use redis::aio::ConnectionManager;
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

const SITE: Site = Site {
    name: "Strategy 4 · pub/sub",
    pages: &[("", "Status")],
};

/// The web role's service, with its PUBLISH answers counted.
pub struct Watched {
    publisher: Publisher,
    /// For `PUBSUB NUMSUB` and `CLIENT LIST`, apart from the publisher's connection.
    redis: ConnectionManager,
    channel: String,
    published: AtomicU64,
    to_nobody: AtomicU64,
    last_receivers: AtomicU64,
    refused: AtomicU64,
    /// The worker's backlog, when it runs in this process (`--role all`).
    backlog: Option<Arc<Backlog>>,
}

impl Watched {
    pub fn new(
        publisher: Publisher,
        client: &redis::Client,
        channel: String,
    ) -> redis::RedisResult<Watched> {
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_number_of_retries(1)
            .set_connection_timeout(Some(std::time::Duration::from_secs(1)));
        Ok(Watched {
            publisher,
            redis: client.get_connection_manager_lazy(config)?,
            channel,
            published: AtomicU64::new(0),
            to_nobody: AtomicU64::new(0),
            last_receivers: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            backlog: None,
        })
    }

    /// Shows `backlog` too: the worker of this very process.
    pub fn with_backlog(mut self, backlog: Option<Arc<Backlog>>) -> Watched {
        self.backlog = backlog;
        self
    }

    async fn page(&self, request: &Request<'_>) -> Reply {
        let visit = match guard::read_only(request) {
            Ok(visit) => visit,
            Err(reply) => return reply,
        };
        if !request.page().is_empty() {
            return visit.refuse(StatusCode::NOT_FOUND, "strategy 4 has one page: /dashboard");
        }
        match self.content().await {
            Ok(content) => visit.page(&SITE, request, "Status", content),
            Err(e) => visit.refuse(StatusCode::SERVICE_UNAVAILABLE, &format!("Redis: {e}")),
        }
    }

    async fn content(&self) -> redis::RedisResult<Markup> {
        let mut redis = self.redis.clone();
        let (_, listening): (String, u64) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(&self.channel)
            .query_async(&mut redis)
            .await?;
        let clients: String = redis::cmd("CLIENT")
            .arg("LIST")
            .arg("TYPE")
            .arg("pubsub")
            .query_async(&mut redis)
            .await?;
        let rows = clients
            .lines()
            .map(|line| {
                let field = |name: &str| {
                    line.split(' ')
                        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
                        .unwrap_or("")
                        .to_owned()
                };
                html! {
                    tr {
                        td { code { (field("addr")) } }
                        td.num { (field("age")) " s" }
                        td.num { (field("sub")) }
                        td.num { (field("omem")) " B" }
                    }
                }
            })
            .collect();
        let count = |n: &AtomicU64| n.load(Ordering::Relaxed).to_string();
        Ok(html! {
            (tiles(&[
                ("subscribed now", listening.to_string()),
                ("published", count(&self.published)),
                ("heard by nobody (lost)", count(&self.to_nobody)),
                ("receivers, last PUBLISH", count(&self.last_receivers)),
                ("refused (503)", count(&self.refused)),
            ]))
            p.muted { "Channel " code { (self.channel) } ". The counts are this web process's own PUBLISHes since it started." }
            h2 { "Subscribers, as Redis sees them" }
            (table(&["client", "connected", "channels", "waiting in Redis"], rows, "nobody is subscribed: every mail published now is lost"))
            @if let Some(backlog) = &self.backlog {
                h2 { "The worker in this process" }
                (tiles(&[
                    ("backlog (heard, not sent)", backlog.len().to_string()),
                    ("dropped (backlog full)", backlog.dropped().to_string()),
                ]))
            }
            (unseen("A worker's backlog (mails it heard and has not sent) is in that worker's \
                     memory, not in Redis: this web role sees only the worker of its own process \
                     (--role all). \"Waiting in Redis\" is what Redis buffered for a subscriber \
                     that has not read it yet."))
        })
    }
}

impl EmailService for Watched {
    fn submit(&self, email: Email) -> BoxFuture<'_, Result<Map<String, Value>, Refusal>> {
        Box::pin(async move {
            let answer = self.publisher.submit(email).await;
            match &answer {
                Ok(fields) => {
                    let receivers = fields.get("receivers").and_then(Value::as_u64).unwrap_or(0);
                    self.published.fetch_add(1, Ordering::Relaxed);
                    self.last_receivers.store(receivers, Ordering::Relaxed);
                    if receivers == 0 {
                        self.to_nobody.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Err(_) => {
                    self.refused.fetch_add(1, Ordering::Relaxed);
                }
            }
            answer
        })
    }

    fn health(&self) -> BoxFuture<'_, Result<Value, Refusal>> {
        self.publisher.health()
    }

    fn parked(&self) -> BoxFuture<'_, Result<Vec<Email>, Refusal>> {
        self.publisher.parked()
    }

    fn dashboard<'a>(&'a self, request: &'a Request<'a>) -> Option<BoxFuture<'a, Reply>> {
        Some(Box::pin(self.page(request)))
    }

    fn extra_route<'a>(
        &'a self,
        method: &'a Method,
        path: &'a str,
        headers: &'a HeaderMap,
        body: Bytes,
    ) -> Option<BoxFuture<'a, (StatusCode, Value)>> {
        self.publisher.extra_route(method, path, headers, body)
    }
}
