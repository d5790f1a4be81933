//! The one trait a strategy implements: what to do with a valid email.

use bytes::Bytes;
use hyper::{HeaderMap, Method, StatusCode};
use mailer::Email;
use serde_json::{json, Map, Value};
use std::future::Future;
use std::pin::Pin;

/// A boxed future, so that [`EmailService`] can be used as `Arc<dyn EmailService>`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A strategy's "no": the HTTP status and the message the client gets as `{"error": ...}`.
/// With a success status (`202`: taken, outcome unknown) it is a "yes, but": the message
/// comes as `{"warning": ...}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    pub message: String,
}

impl Refusal {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            message: message.into(),
        }
    }

    /// 503: the strategy cannot take work right now (Redis is down, a child is restarting).
    pub fn unavailable(message: impl Into<String>) -> Refusal {
        Refusal::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }
}

/// What a strategy does between "the web front has a valid email" and "the client is told".
///
/// The web front answers `200 {"email": {...}, ...fields}` with the fields `submit` returned,
/// or the refusal's status with `{"error": message}`. What `Ok` promises is the strategy's
/// lesson: strategy 1 returns after the SMTP server accepted the mail, strategy 2 before
/// anything was sent.
pub trait EmailService: Send + Sync + 'static {
    fn submit(&self, email: Email) -> BoxFuture<'_, Result<Map<String, Value>, Refusal>>;

    /// `GET /healthz`: `Ok` answers 200 with the value, `Err` answers its status.
    fn health(&self) -> BoxFuture<'_, Result<Value, Refusal>> {
        Box::pin(async { Ok(json!({ "status": "ok" })) })
    }

    /// `GET /parked`: the mails this strategy accepted, gave up on, and keeps where an
    /// operator can see them and act (strategy 5's `failed` list, strategy 6's dead letters).
    /// Parked is not lost: the harness counts a mail as parked when it is listed here. The
    /// default is a strategy that parks nothing: a failed mail is refused to the client, or
    /// lost.
    fn parked(&self) -> BoxFuture<'_, Result<Vec<Email>, Refusal>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    /// Routes of the strategy's own (strategy 5's `/resque/...` admin API, for example),
    /// tried before the email route. `None` means "not mine". The request's headers are
    /// given too: a route that changes something must tell who is asking (a token, the
    /// `Origin` a browser sends) and what the body is (`Content-Type`).
    /// `/dashboard` and every page below it: the strategy's HTML pages (see
    /// [`crate::dashboard`]). `None` (the default) means this strategy has no dashboard: 404.
    fn dashboard<'a>(
        &'a self,
        _request: &'a crate::dashboard::Request<'a>,
    ) -> Option<BoxFuture<'a, crate::dashboard::Reply>> {
        None
    }

    fn extra_route<'a>(
        &'a self,
        _method: &'a Method,
        _path: &'a str,
        _headers: &'a HeaderMap,
        _body: Bytes,
    ) -> Option<BoxFuture<'a, (StatusCode, Value)>> {
        None
    }
}
