//! The web role: each valid email becomes a `sendEmail` job (with `--bus`, an
//! `email_requested` event), and the client is told as soon as Redis holds it. The
//! `/resque/...` admin routes are served next to it (see [`super::admin`]), and the
//! `/dashboard` pages (see [`super::dashboard`]).

use super::admin::Admin;
use super::bus_demo;
use super::dashboard::Dashboard;
use super::send_email::{CLASS, QUEUE};
use bytes::Bytes;
use hyper::{HeaderMap, Method, StatusCode};
use kit::{BoxFuture, EmailService, Refusal};
use mailer::Email;
use serde_json::{json, Map, Value};
use strategy_5::bus::Bus;
use strategy_5::Queue;

pub struct Web {
    pub queue: Queue,
    /// `--bus`: publish events instead of enqueueing jobs.
    pub bus: Option<Bus>,
    pub admin: Admin,
    pub dashboard: Dashboard,
}

impl EmailService for Web {
    fn submit(&self, email: Email) -> BoxFuture<'_, Result<Map<String, Value>, Refusal>> {
        Box::pin(async move {
            let mail = json!({ "to": email.to, "subject": email.subject, "text": email.text });
            if let Some(bus) = &self.bus {
                let Value::Object(attributes) = mail else {
                    unreachable!("json! of an object")
                };
                let event = bus
                    .publish(bus_demo::EVENT, &attributes)
                    .await
                    .map_err(|e| Refusal::unavailable(format!("could not publish: {e}")))?;
                let mut fields = Map::new();
                fields.insert(
                    "event".into(),
                    json!({ "bus_event_type": event["bus_event_type"], "bus_id": event["bus_id"] }),
                );
                return Ok(fields);
            }
            let args = vec![mail];
            let enqueued = self
                .queue
                .enqueue(QUEUE, CLASS, args.clone())
                .await
                .map_err(|e| Refusal::unavailable(format!("could not enqueue: {e}")))?;
            if !enqueued {
                return Err(Refusal::new(
                    StatusCode::CONFLICT,
                    "a plugin refused the job",
                ));
            }
            let mut fields = Map::new();
            fields.insert(
                "job".into(),
                json!({ "class": CLASS, "queue": QUEUE, "args": args }),
            );
            Ok(fields)
        })
    }

    fn health(&self) -> BoxFuture<'_, Result<Value, Refusal>> {
        Box::pin(async move {
            let pong: redis::RedisResult<String> = redis::cmd("PING")
                .query_async(&mut self.queue.connection())
                .await;
            match pong {
                Ok(_) => Ok(json!({ "status": "ok" })),
                Err(e) => Err(Refusal::unavailable(format!("redis: {e}"))),
            }
        })
    }

    /// The mails in `failed` that a retry would send: a `sendEmail` job's argument, or the
    /// attributes of a bus job that sends (see [`bus_demo::parked_email`]). Entries whose
    /// job is not a mail (another class, a broken payload, an audit app) are not listed.
    fn parked(&self) -> BoxFuture<'_, Result<Vec<Email>, Refusal>> {
        Box::pin(async move {
            let entries = self
                .queue
                .failed(0, -1)
                .await
                .map_err(|e| Refusal::unavailable(format!("could not read failed: {e}")))?;
            Ok(entries.iter().filter_map(bus_demo::parked_email).collect())
        })
    }

    fn dashboard<'a>(
        &'a self,
        request: &'a kit::dashboard::Request<'a>,
    ) -> Option<BoxFuture<'a, kit::dashboard::Reply>> {
        Some(Box::pin(self.dashboard.serve(&self.admin, request)))
    }

    fn extra_route<'a>(
        &'a self,
        method: &'a Method,
        path: &'a str,
        headers: &'a HeaderMap,
        body: Bytes,
    ) -> Option<BoxFuture<'a, (StatusCode, Value)>> {
        self.admin.route(method, path, headers, body)
    }
}
