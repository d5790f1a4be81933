//! The web server child: kit's HTTP front, with every valid email handed to the supervisor.
//!
//! It answers `200` once the supervisor has the email (its `accepted` reply), not when the
//! email is sent: the supervisor may even be holding it because no worker is alive. The
//! answer says which, `"held": true|false`, with the supervisor's id for the email.
//!
//! Without a reply in time (the supervisor is frozen, or too busy), what the client is told
//! depends on where the email is, so that a `503` always means "not sent, retry":
//!
//! | the email is                                      | answer                          |
//! |---------------------------------------------------|---------------------------------|
//! | still queued in this process: taken back          | `503`: never handed on, never sent |
//! | written to the supervisor's socket, unconfirmed   | `202`: handed on, outcome unknown; a retry may send it twice |
//!
//! The supervisor's own "no" is a `503` too: with its backlog full (`--max-backlog`) it
//! answers `refused`, and the email was taken by nobody.
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

/// How long a request waits for the supervisor's reply. After that the email is taken back
/// if it is still in this process (`503`), or reported handed on without a confirmation
/// (`202`): a late supervisor still reads it and has it sent.
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
    ) -> Result<SupervisorMessage, NoReply> {
        let request = self.next_request.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.waiting.lock().unwrap().insert(request, tx);
        let Some(handover) = self.link.hand_over(make(request)) else {
            self.waiting.lock().unwrap().remove(&request);
            return Err(NoReply {
                why: "the supervisor is gone".into(),
                handed_on: false,
            });
        };
        let why = match tokio::time::timeout(REPLY_TIMEOUT, rx).await {
            Ok(Ok(reply)) => return Ok(reply),
            Ok(Err(_)) => "the supervisor is gone".to_string(),
            Err(_) => {
                self.waiting.lock().unwrap().remove(&request);
                format!("the supervisor did not answer within {REPLY_TIMEOUT:?}")
            }
        };
        // No reply. Taken back, the message can reach no one; too late for that, it is in
        // the socket, and a supervisor that wakes up will read it and act on it.
        Err(NoReply {
            why,
            handed_on: !handover.take_back(),
        })
    }

    fn deliver_reply(&self, reply: SupervisorMessage) {
        let request = match &reply {
            SupervisorMessage::Accepted { request, .. }
            | SupervisorMessage::Refused { request, .. }
            | SupervisorMessage::Pids { request, .. }
            | SupervisorMessage::Books { request, .. } => *request,
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

/// Why a request got no reply, and whether its message can still reach the supervisor.
struct NoReply {
    why: String,
    /// `false`: taken back (or never queued), so the supervisor never sees it.
    handed_on: bool,
}

impl NoReply {
    /// What the client of an email is told: `503` only when nothing will send the email, so
    /// that a client may always retry a `503`. An email handed on gets `202` with a
    /// `warning`, through a [`Refusal`] because kit answers every `Ok` with `200`, and `200`
    /// here means "the supervisor confirmed".
    fn for_an_email(self) -> Refusal {
        let NoReply { why, handed_on } = self;
        if handed_on {
            Refusal::new(
                StatusCode::ACCEPTED,
                format!(
                    "{why}, but the email was handed on to it: it may be sent, so sending it \
                     again may send it twice"
                ),
            )
        } else {
            Refusal::unavailable(format!(
                "{why}; the email was not handed on and will not be sent"
            ))
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
                .await
                .map_err(NoReply::for_an_email)?
            {
                SupervisorMessage::Accepted { id, held, .. } => {
                    let mut fields = Map::new();
                    fields.insert("id".into(), json!(id));
                    fields.insert("held".into(), json!(held));
                    Ok(fields)
                }
                // Refused, the email is nowhere but here: a retry later is safe.
                SupervisorMessage::Refused { reason, .. } => Err(Refusal::unavailable(reason)),
                other => Err(unexpected(other)),
            }
        })
    }

    /// `/dashboard`: the supervisor's books, asked for like `/healthz` asks for the pids.
    fn dashboard<'a>(
        &'a self,
        request: &'a kit::dashboard::Request<'a>,
    ) -> Option<BoxFuture<'a, kit::dashboard::Reply>> {
        Some(Box::pin(async move {
            let asked = self.ask(|request| ChildMessage::Books { request }).await;
            let books = match asked {
                Ok(SupervisorMessage::Books { books, .. }) => Ok(books),
                Ok(other) => Err(format!("unexpected answer from the supervisor: {other:?}")),
                Err(no_reply) => Err(no_reply.why),
            };
            crate::dashboard::page(request, books)
        }))
    }

    fn health(&self) -> BoxFuture<'_, Result<Value, Refusal>> {
        Box::pin(async move {
            let asked = self.ask(|request| ChildMessage::Health { request }).await;
            match asked.map_err(|no_reply| Refusal::unavailable(no_reply.why))? {
                SupervisorMessage::Pids { pids, .. } => {
                    Ok(serde_json::to_value(pids).expect("pids serialize"))
                }
                other => Err(unexpected(other)),
            }
        })
    }
}
