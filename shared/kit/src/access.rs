//! Who may use a strategy's admin routes (strategy 5's `/resque/...` JSON API) and its
//! dashboard's actions. They act on the queue (`POST /resque/failed/retry` sends every
//! parked mail again) and show what it holds (the failed list holds addresses), so a
//! request must come from an operator, not from a web page open in an operator's browser,
//! and, beyond this machine, not from just anyone on the network:
//!
//! * A POST must say its body is JSON (`Content-Type: application/json`; 415 otherwise). A
//!   page may send a cross-origin POST with a text or form body without asking first; with
//!   a JSON body the browser asks first (a CORS preflight), and this server never says yes.
//! * A POST that names an `Origin` (browsers do) must name this server's own (403). On
//!   loopback that means a loopback address with this port: a page whose name was made to
//!   point at 127.0.0.1 (DNS rebinding) has an origin of its own name, not of this server.
//! * With `--admin-token`, a POST needs `Authorization: Bearer <token>` (401). Listening
//!   beyond loopback is allowed only with a token, and then every admin request needs it.
//!
//! GETs from this machine stay open: `curl localhost:8080/resque/stats` works as before.
//!
//! A browser cannot send a bearer token, and its form POSTs are not JSON: the dashboard's
//! own rules ([`crate::dashboard::guard`]) are built on the same pieces ([`AdminAccess::token`],
//! [`AdminAccess::is_own_origin`], [`same_secret`]).

use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, ORIGIN};
use hyper::{HeaderMap, Method, StatusCode};
use std::net::IpAddr;

/// The rules of one web front: where it listens, and its token, if any.
#[derive(Clone)]
pub struct AdminAccess {
    token: Option<String>,
    /// Listening on a loopback address: only this machine can connect.
    loopback: bool,
    /// `host:port` names of this server that a loopback request may use.
    own_authorities: Vec<String>,
}

impl AdminAccess {
    /// Refuses a web front on a non-loopback `host` without a token: its admin routes and
    /// dashboard would be open to the network.
    pub fn new(host: &str, port: u16, token: Option<String>) -> anyhow::Result<AdminAccess> {
        let loopback = is_loopback(host);
        if !loopback && token.is_none() {
            anyhow::bail!(
                "--host {host} is not a loopback address, so anyone who can reach it could use \
                 its admin routes and dashboard actions: give a token with --admin-token (or ADMIN_TOKEN), \
                 or listen on 127.0.0.1"
            );
        }
        let mut own_authorities: Vec<String> = ["127.0.0.1", "localhost", "[::1]", host]
            .iter()
            .map(|name| format!("{name}:{port}"))
            .collect();
        own_authorities.dedup();
        Ok(AdminAccess {
            token: token.filter(|t| !t.is_empty()),
            loopback,
            own_authorities,
        })
    }

    /// `Ok` if the request may go on; else the status and why, for the `{"error": ...}`.
    pub fn check(&self, method: &Method, headers: &HeaderMap) -> Result<(), (StatusCode, String)> {
        // Reading leaves the queue as it was; anything else acts on it.
        let acts = !matches!(*method, Method::GET | Method::HEAD);
        if let Some(token) = &self.token {
            if (acts || !self.loopback) && !bearer_is(headers, token) {
                return Err((
                    StatusCode::UNAUTHORIZED,
                    "admin routes need Authorization: Bearer <the --admin-token>".into(),
                ));
            }
        }
        if !acts {
            return Ok(());
        }
        self.check_origin(headers)
            .map_err(|why| (StatusCode::FORBIDDEN, format!("admin {why}")))?;
        let content_type = header(headers, CONTENT_TYPE).unwrap_or_default();
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        if !essence.eq_ignore_ascii_case("application/json") {
            return Err((
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("admin POSTs take Content-Type: application/json, not {content_type:?}"),
            ));
        }
        Ok(())
    }

    /// The `--admin-token`, if one was given.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// Listening on loopback only: reading needs no token.
    pub fn loopback(&self) -> bool {
        self.loopback
    }

    /// The request's `Origin`, if it names one, is this server's own; `Err` says why not.
    pub fn check_origin(&self, headers: &HeaderMap) -> Result<(), String> {
        match headers.get(ORIGIN) {
            None => Ok(()),
            Some(origin) => {
                let origin = origin.to_str().unwrap_or_default();
                if self.is_own_origin(origin, header(headers, HOST)) {
                    Ok(())
                } else {
                    Err(format!(
                        "requests from another origin ({origin}) are refused"
                    ))
                }
            }
        }
    }

    /// A browser's `Origin` is `scheme://host:port`; this server's is `http://` and the
    /// name it was reached by, which on loopback must be one of its own loopback names.
    pub fn is_own_origin(&self, origin: &str, host: Option<&str>) -> bool {
        let Some(authority) = origin.strip_prefix("http://") else {
            return false;
        };
        if self.loopback {
            self.own_authorities.iter().any(|own| own == authority)
        } else {
            host == Some(authority)
        }
    }
}

/// `localhost` or a loopback IP (`127.0.0.1`, `::1`); a host name is taken as reachable.
fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

pub(crate) fn header(headers: &HeaderMap, name: hyper::header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// `Authorization: Bearer <token>`.
pub fn bearer_is(headers: &HeaderMap, token: &str) -> bool {
    header(headers, AUTHORIZATION)
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|given| same_secret(given, token))
}

/// Two secrets compared without an early exit, so the time an answer takes does not tell
/// how much of a guess was right.
pub fn same_secret(given: &str, secret: &str) -> bool {
    given.len() == secret.len()
        && given
            .bytes()
            .zip(secret.bytes())
            .fold(0u8, |differs, (a, b)| differs | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn headers(pairs: &[(hyper::header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn a_public_host_needs_a_token_and_then_every_admin_request_does() {
        assert!(AdminAccess::new("0.0.0.0", 8080, None).is_err());
        assert!(AdminAccess::new("127.0.0.1", 8080, None).is_ok());
        assert!(AdminAccess::new("localhost", 8080, None).is_ok());
        let public = AdminAccess::new("0.0.0.0", 8080, Some("s3cret".into())).unwrap();
        let refused = public.check(&Method::GET, &headers(&[]));
        assert_eq!(refused.unwrap_err().0, StatusCode::UNAUTHORIZED);
        let wrong = headers(&[(AUTHORIZATION, "Bearer s3creT")]);
        assert_eq!(
            public.check(&Method::GET, &wrong).unwrap_err().0,
            StatusCode::UNAUTHORIZED
        );
        let right = headers(&[(AUTHORIZATION, "Bearer s3cret")]);
        assert!(public.check(&Method::GET, &right).is_ok());
        let post = headers(&[
            (AUTHORIZATION, "Bearer s3cret"),
            (CONTENT_TYPE, "application/json"),
            (HOST, "box.example:8080"),
            (ORIGIN, "http://box.example:8080"),
        ]);
        assert!(public.check(&Method::POST, &post).is_ok());
    }

    #[test]
    fn on_loopback_only_this_servers_loopback_origins_are_its_own() {
        let local = AdminAccess::new("127.0.0.1", 8080, None).unwrap();
        let post = |origin: &str| {
            let mut h = headers(&[(CONTENT_TYPE, "application/json; charset=utf-8")]);
            h.insert(ORIGIN, HeaderValue::from_str(origin).unwrap());
            h.insert(HOST, HeaderValue::from_static("127.0.0.1:8080"));
            local.check(&Method::POST, &h).map_err(|(status, _)| status)
        };
        assert_eq!(post("http://localhost:8080"), Ok(()));
        assert_eq!(post("http://127.0.0.1:8080"), Ok(()));
        assert_eq!(post("http://127.0.0.1:9090"), Err(StatusCode::FORBIDDEN));
        assert_eq!(
            post("http://rebound.example:8080"),
            Err(StatusCode::FORBIDDEN)
        );
        assert_eq!(post("null"), Err(StatusCode::FORBIDDEN));
        assert!(local.check(&Method::GET, &headers(&[])).is_ok());
    }
}
