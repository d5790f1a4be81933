//! The web server child: kit's HTTP front, with every valid email handed to the supervisor.
//!
//! It answers `200` once the supervisor has the email (its `accepted` reply), not when the
//! email is sent: the supervisor may even be holding it because no worker is alive. The
//! answer says which, `"held": true|false`, with the supervisor's id for the email.
//!
//! The listening socket is not ours: the supervisor bound it before forking and keeps it
//! open. While this process is dead, the kernel still completes TCP handshakes on it and
//! queues the connections, and the re-forked web server accepts them: a client sees a slow
//! answer instead of "connection refused".

use crate::link::{Incoming, Link};
use crate::protocol::{ChildMessage, SupervisorMessage};
use hyper::StatusCode;
use kit::{BoxFuture, EmailService, Refusal};
use mailer::Email;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

/// How long a request waits for the supervisor before it is answered 503. The request is
/// already in the supervisor's socket by then: a late supervisor still takes the email and
/// has it sent, so a client that retries after that 503 gets the mail twice.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

pub async fn run(
    link: Link,
    mut incoming: Incoming,
    listener: std::net::TcpListener,
) -> anyhow::Result<()> {
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let port = listener.local_addr()?.port();
    let shutdown = kit::shutdown::on_signal();
    let front = Arc::new(WebFront {
        link: link.clone(),
        waiting: Mutex::default(),
        next_request: AtomicU64::new(1),
    });

    let replies = tokio::spawn({
        let (front, shutdown) = (front.clone(), shutdown.clone());
        async move {
            while let Some(reply) = incoming.next().await {
                front.deliver_reply(reply);
            }
            // The supervisor is gone, and with it every email's way to a worker.
            shutdown.cancel();
            front.waiting.lock().unwrap().clear();
        }
    });

    link.send(ChildMessage::Ready {
        detail: format!("ready on port {port}"),
    });
    kit::http::serve(listener, front, shutdown).await;
    replies.abort();
    Ok(())
}

struct WebFront {
    link: Link,
    /// Requests sent to the supervisor, by request number, waiting for its reply.
    waiting: Mutex<HashMap<u64, oneshot::Sender<SupervisorMessage>>>,
    next_request: AtomicU64,
}

impl WebFront {
    /// Sends `make(request number)` to the supervisor and waits for the reply to it.
    async fn ask(
        &self,
        make: impl FnOnce(u64) -> ChildMessage,
    ) -> Result<SupervisorMessage, Refusal> {
        let request = self.next_request.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.waiting.lock().unwrap().insert(request, tx);
        if !self.link.send(make(request)) {
            self.waiting.lock().unwrap().remove(&request);
            return Err(Refusal::unavailable("the supervisor is gone"));
        }
        match tokio::time::timeout(REPLY_TIMEOUT, rx).await {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(_)) => Err(Refusal::unavailable("the supervisor is gone")),
            Err(_) => {
                self.waiting.lock().unwrap().remove(&request);
                Err(Refusal::unavailable(format!(
                    "the supervisor did not answer within {REPLY_TIMEOUT:?}"
                )))
            }
        }
    }

    fn deliver_reply(&self, reply: SupervisorMessage) {
        let request = match &reply {
            SupervisorMessage::Accepted { request, .. }
            | SupervisorMessage::Pids { request, .. } => *request,
            SupervisorMessage::Deliver { .. } => {
                tracing::warn!("got an email to deliver, but this is the web server");
                return;
            }
        };
        if let Some(waiter) = self.waiting.lock().unwrap().remove(&request) {
            // The client may have hung up meanwhile; then nobody waits for the answer.
            let _ = waiter.send(reply);
        }
    }
}

fn unexpected(reply: SupervisorMessage) -> Refusal {
    Refusal::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("unexpected answer from the supervisor: {reply:?}"),
    )
}

impl EmailService for WebFront {
    fn submit(&self, email: Email) -> BoxFuture<'_, Result<Map<String, Value>, Refusal>> {
        Box::pin(async move {
            match self
                .ask(|request| ChildMessage::Submit { request, email })
                .await?
            {
                SupervisorMessage::Accepted { id, held, .. } => {
                    let mut fields = Map::new();
                    fields.insert("id".into(), json!(id));
                    fields.insert("held".into(), json!(held));
                    Ok(fields)
                }
                other => Err(unexpected(other)),
            }
        })
    }

    fn health(&self) -> BoxFuture<'_, Result<Value, Refusal>> {
        Box::pin(async move {
            match self.ask(|request| ChildMessage::Health { request }).await? {
                SupervisorMessage::Pids { pids, .. } => {
                    Ok(serde_json::to_value(pids).expect("pids serialize"))
                }
                other => Err(unexpected(other)),
            }
        })
    }
}
