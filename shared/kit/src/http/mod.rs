//! The web front: hyper 1.x, HTTP/1.1, one task per connection.
//!
//! Routes (the contract every strategy keeps):
//!
//! | request                    | answer                                                  |
//! |----------------------------|---------------------------------------------------------|
//! | `GET /<to>/<subject>/<text>` | the strategy's answer for that email                  |
//! | `POST /emails` (JSON body) | the same, for clients that prefer a body                |
//! | `GET /healthz`             | 200 when the strategy can accept work                   |
//! | `GET /parked`              | `{"parked": [emails]}`: accepted, given up on, visible   |
//! | `GET /favicon.ico`         | 404: a browser's icon request is not an email           |
//! | `/dashboard...`            | the strategy's HTML pages, or 404 when it has none      |
//! | anything malformed         | 400 `{"error": "..."}`; nothing is sent                  |
//!
//! Shutdown is graceful: on cancellation the listener closes, and requests already being
//! answered get up to [`GRACE`] to finish.
//!
//! A client that is slow on purpose must not lock everyone else out: each socket costs the
//! process a file descriptor, and the strategy needs descriptors of its own (Redis, SMTP).
//! So a connection must finish its request headers within [`Limits::header_timeout`] (the
//! same clock runs while a kept-alive connection sits idle between requests), and at most
//! [`Limits::max_connections`] are open at once: past that, new clients wait in the
//! kernel's accept queue until one closes, instead of the process running out of
//! descriptors.

mod parse;

pub use parse::{email_from_json, email_from_path, percent_decode, BadRequest};

use crate::service::EmailService;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use serde_json::{json, Value};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// How long in-flight requests may take to finish after shutdown was asked for.
pub const GRACE: Duration = Duration::from_secs(10);
/// Largest request body read for `POST /emails`.
pub const MAX_BODY: usize = 128 * 1024;

/// How many clients, and how slow, the web front puts up with.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections open at once; the next client waits in the accept queue.
    pub max_connections: usize,
    /// Longest wait for a request's headers, and for the next request on an idle
    /// kept-alive connection; then the connection is closed.
    pub header_timeout: Duration,
}

impl Default for Limits {
    /// Half the process's file descriptors (`ulimit -n`), at most 4096: the other half is
    /// for the strategy's own connections (Redis, SMTP, child processes).
    fn default() -> Limits {
        Limits {
            max_connections: (open_files_limit() / 2).clamp(16, 4096),
            header_timeout: Duration::from_secs(10),
        }
    }
}

/// The soft limit on open files of this process.
fn open_files_limit() -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own and reads nothing else.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 1024;
    }
    usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX)
}

/// Binds `addr`, logging the address in the words of the original demo.
pub async fn bind(addr: &str) -> anyhow::Result<TcpListener> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    announce(listener.local_addr()?);
    Ok(listener)
}

/// The original demo's first words, for a server that bound its socket some other way.
pub fn announce(local: std::net::SocketAddr) {
    tracing::info!("Server running at {local}");
    tracing::info!("send an email and message to /TO_ADDRESS/SUBJECT/YOUR_MESSAGE");
}

/// Serves the contract's routes until `shutdown` is cancelled, then drains connections.
pub async fn serve(
    listener: TcpListener,
    service: Arc<dyn EmailService>,
    shutdown: CancellationToken,
) {
    serve_with(listener, service, shutdown, Limits::default()).await
}

/// [`serve`] with other [`Limits`].
pub async fn serve_with(
    listener: TcpListener,
    service: Arc<dyn EmailService>,
    shutdown: CancellationToken,
    limits: Limits,
) {
    // HTTP/1 only: telling HTTP/1 from HTTP/2 means waiting for a client's first 24 bytes
    // with no clock running, so a client that connects and says nothing would hold its
    // socket forever. Every client of the contract (curl, browsers, the harness) speaks
    // HTTP/1.1 to a plain-text server.
    let mut builder = auto::Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut backoff = AcceptBackoff::default();
    let mut at_cap = false;
    loop {
        // A slot first, then accept: at the cap, new clients wait in the kernel's queue.
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => {
                at_cap = false;
                slot
            }
            Err(_) => {
                if !at_cap {
                    at_cap = true;
                    tracing::warn!(
                        cap = limits.max_connections,
                        "{} connections are open, the most this server takes: new clients wait \
                     until one closes (a client that sends nothing is closed after {:?})",
                        limits.max_connections,
                        limits.header_timeout
                    );
                }
                tokio::select! {
                    slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
                    _ = shutdown.cancelled() => break,
                }
            }
        };
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => {
                        backoff.succeeded();
                        stream
                    }
                    Err(e) => {
                        // Usually out of file descriptors: wait for some to close instead
                        // of spinning (and logging) in a tight loop.
                        backoff.failed(&e).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let service = service.clone();
                let handler = service_fn(move |req| handle(service.clone(), req));
                let conn = builder.serve_connection(TokioIo::new(stream), handler).into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                    // The slot is given back when the connection is gone.
                    drop(slot);
                });
            }
            _ = shutdown.cancelled() => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some HTTP connections were still open after {GRACE:?}");
    }
}

/// The accept loop's wait after a failed accept: 10 ms, doubling to 1 s, logged once per
/// streak of failures.
#[derive(Default)]
struct AcceptBackoff {
    failures: u32,
}

impl AcceptBackoff {
    async fn failed(&mut self, error: &std::io::Error) {
        if self.failures == 0 {
            tracing::warn!(%error, "accept failed: waiting for connections to close");
        }
        self.failures = self.failures.saturating_add(1);
        let wait = Duration::from_millis(10 << self.failures.min(7)).min(Duration::from_secs(1));
        tokio::time::sleep(wait).await;
    }

    fn succeeded(&mut self) {
        if self.failures > 0 {
            tracing::info!(failures = self.failures, "accepting connections again");
            self.failures = 0;
        }
    }
}

async fn handle(
    service: Arc<dyn EmailService>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (head, body) = req.into_parts();
    if crate::dashboard::is_dashboard_path(head.uri.path()) {
        return Ok(dashboard(service.as_ref(), head, body).await);
    }
    let (status, body) = route(service.as_ref(), head, body).await;
    Ok(json_response(status, &body))
}

/// `/dashboard...`: the strategy's page, or a JSON 404 when it has no dashboard.
async fn dashboard(
    service: &dyn EmailService,
    head: hyper::http::request::Parts,
    body: Incoming,
) -> Response<Full<Bytes>> {
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            let (status, value) = error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("request body over {MAX_BODY} bytes"),
            );
            return json_response(status, &value);
        }
    };
    let request = crate::dashboard::Request {
        method: &head.method,
        path: head.uri.path(),
        query: head.uri.query(),
        headers: &head.headers,
        body: &body,
    };
    let Some(answer) = service.dashboard(&request) else {
        let (status, value) = error(StatusCode::NOT_FOUND, "this strategy has no dashboard");
        return json_response(status, &value);
    };
    let reply = answer.await;
    let mut response = Response::new(Full::new(reply.body));
    *response.status_mut() = reply.status;
    for (name, value) in reply.headers {
        response.headers_mut().append(name, value);
    }
    response
}

async fn route(
    service: &dyn EmailService,
    head: hyper::http::request::Parts,
    body: Incoming,
) -> (StatusCode, Value) {
    let (method, path) = (&head.method, head.uri.path());
    match (method, path) {
        (&Method::GET, "/healthz") => {
            return match service.health().await {
                Ok(value) => (StatusCode::OK, value),
                Err(refusal) => (refusal.status, json!({ "error": refusal.message })),
            };
        }
        (&Method::GET, "/parked") => {
            return match service.parked().await {
                Ok(emails) => (
                    StatusCode::OK,
                    json!({ "count": emails.len(), "parked": emails }),
                ),
                Err(refusal) => (refusal.status, json!({ "error": refusal.message })),
            };
        }
        (_, "/favicon.ico") => return error(StatusCode::NOT_FOUND, "no favicon here"),
        _ => {}
    }
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("request body over {MAX_BODY} bytes"),
            )
        }
    };
    if let Some(answer) = service.extra_route(method, path, &head.headers, body.clone()) {
        return answer.await;
    }
    let email = match (method, path) {
        (&Method::POST, "/emails") => email_from_json(&body),
        (&Method::GET, _) => email_from_path(path),
        _ => {
            return error(
                StatusCode::METHOD_NOT_ALLOWED,
                "use GET /<to>/<subject>/<text> or POST /emails",
            )
        }
    };
    let email = match email {
        Ok(email) => email,
        Err(bad) => return error(StatusCode::BAD_REQUEST, &bad.to_string()),
    };
    let echoed = json!({ "to": email.to, "subject": email.subject, "text": email.text });
    match service.submit(email).await {
        Ok(mut fields) => {
            fields.shift_insert(0, "email".to_string(), echoed);
            (StatusCode::OK, Value::Object(fields))
        }
        // A strategy's answer that is neither a plain yes nor a no (strategy 3's 202:
        // handed on, outcome unknown) is a success status with a warning, not an error.
        Err(refusal) if refusal.status.is_success() => (
            refusal.status,
            json!({ "email": echoed, "warning": refusal.message }),
        ),
        Err(refusal) => (
            refusal.status,
            json!({ "error": refusal.message, "email": echoed }),
        ),
    }
}

fn error(status: StatusCode, message: &str) -> (StatusCode, Value) {
    (status, json!({ "error": message }))
}

fn json_response(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let mut bytes = serde_json::to_vec_pretty(body).unwrap_or_default();
    bytes.push(b'\n');
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(bytes)))
        .expect("a static header is valid")
}
