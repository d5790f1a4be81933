//! The web front: hyper 1.x, HTTP/1.1 and HTTP/2, one task per connection.
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
//! | anything malformed         | 400 `{"error": "..."}`; nothing is sent                  |
//!
//! Shutdown is graceful: on cancellation the listener closes, and requests already being
//! answered get up to [`GRACE`] to finish.

mod parse;

pub use parse::{email_from_json, email_from_path, percent_decode, BadRequest};

use crate::service::EmailService;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use serde_json::{json, Value};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// How long in-flight requests may take to finish after shutdown was asked for.
pub const GRACE: Duration = Duration::from_secs(10);
/// Largest request body read for `POST /emails`.
pub const MAX_BODY: usize = 128 * 1024;

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
    let builder = auto::Builder::new(TokioExecutor::new());
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Usually out of file descriptors: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(20)).await;
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

async fn handle(
    service: Arc<dyn EmailService>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (status, body) = route(service.as_ref(), req).await;
    Ok(json_response(status, &body))
}

async fn route(service: &dyn EmailService, req: Request<Incoming>) -> (StatusCode, Value) {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    match (&method, path.as_str()) {
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
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("request body over {MAX_BODY} bytes"),
            )
        }
    };
    if let Some(answer) = service.extra_route(&method, &path, body.clone()) {
        return answer.await;
    }
    let email = match (&method, path.as_str()) {
        (&Method::POST, "/emails") => email_from_json(&body),
        (&Method::GET, _) => email_from_path(&path),
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
