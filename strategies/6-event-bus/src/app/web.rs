//! The web front: each valid email becomes one `emailEvent` in the log. The client's 200
//! means "it is in Redis, at this partition and offset": every group will see it.

use super::dashboard::Dashboard;
use super::handlers::MAILER_GROUP;
use kit::{BoxFuture, EmailService, Refusal};
use mailer::Email;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use strategy_6::{Log, NewEvent};

pub struct Publisher {
    pub log: Log,
    /// `/dashboard`: groups, lag, leases, dead letters (see [`super::dashboard`]).
    pub dashboard: Dashboard,
}

impl EmailService for Publisher {
    fn submit(&self, email: Email) -> BoxFuture<'_, Result<Map<String, Value>, Refusal>> {
        Box::pin(async move {
            let payload = serde_json::to_value(&email).expect("an email serializes");
            let event = NewEvent::new("emailEvent", email.to.clone(), payload);
            match self.log.publish(event).await {
                Ok(appended) => {
                    tracing::info!(
                        id = %appended.id,
                        partition = appended.partition,
                        offset = %appended.position,
                        "email : {}",
                        json!(email)
                    );
                    let mut fields = Map::new();
                    fields.insert("event".into(), json!(appended));
                    Ok(fields)
                }
                Err(e) => {
                    tracing::error!(error = %e, "could not publish: the client gets 503");
                    Err(Refusal::unavailable(format!(
                        "the event log is unavailable: {e}"
                    )))
                }
            }
        })
    }

    fn dashboard<'a>(
        &'a self,
        request: &'a kit::dashboard::Request<'a>,
    ) -> Option<BoxFuture<'a, kit::dashboard::Reply>> {
        Some(Box::pin(self.dashboard.serve(request)))
    }

    /// The mails the `mailer` group gave up on: its dead letters, whose events carry the
    /// email as their payload. (Other groups' dead letters are not mail that went unsent.)
    fn parked(&self) -> BoxFuture<'_, Result<Vec<Email>, Refusal>> {
        Box::pin(async move {
            let letters =
                self.log.dead_letters(MAILER_GROUP).await.map_err(|e| {
                    Refusal::unavailable(format!("could not read dead letters: {e}"))
                })?;
            Ok(letters
                .iter()
                .filter_map(|letter| Email::deserialize(&letter.event["payload"]).ok())
                .collect())
        })
    }

    /// 200 while the web can append, which is all it needs to take work. It lists the
    /// partitions a group's consumer cannot read (`stuck`): their events are accepted and
    /// wait, in order, for an operator to repair the key the report names. Still 200, not
    /// 503: the other partitions flow, and a load balancer that pulled this web front out
    /// would refuse their mail too, for a fault no web front can fix.
    fn health(&self) -> BoxFuture<'_, Result<Value, Refusal>> {
        Box::pin(async move {
            match self.log.stuck().await {
                Ok(stuck) if stuck.is_empty() => Ok(json!({ "status": "ok", "stuck": [] })),
                Ok(stuck) => Ok(json!({ "status": "degraded", "stuck": stuck })),
                Err(e) => Err(Refusal::unavailable(format!("redis: {e}"))),
            }
        })
    }
}
