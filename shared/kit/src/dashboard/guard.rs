//! Who may look at a dashboard and who may act through it.
//!
//! The rules are [`AdminAccess`]'s, the same as the JSON admin routes': reading from this
//! machine is open; beyond loopback (which needs `--admin-token` to start at all) every
//! request must be signed in; an action must come from this server's own origin and, with
//! a token, from a signed-in browser. A browser cannot send `Authorization: Bearer`, so it
//! signs in once at `/dashboard/login` and keeps the token in a cookie (HttpOnly,
//! SameSite=Strict: a cross-site request does not carry it).
//!
//! Against cross-site forms, each browser gets a session token of its own: a random value
//! in the `offload_session` cookie, and the same value in a hidden field of every action
//! form of the pages it is shown. An action whose field does not match its cookie is
//! refused with 403: a page on another site can make the browser POST here, but it cannot
//! read this server's pages, so it cannot know the value to put in the field (and with
//! SameSite=Strict the cookie is not even sent along).
//!
//! ```text
//! GET  /dashboard/failed ──► Gate::enter ──► Visit (session token; a Set-Cookie if new)
//!                                            page with <input type=hidden name=token>
//! POST /dashboard/failed/retry  token=… ──► Gate::enter: signed in? own origin? form?
//!                                            token == cookie? ──► Visit with the form
//!                                            (else 401 / 403 / 415 / 400, a page saying why)
//! ```

use super::form::{self, Form};
use super::layout::{self, Site};
use super::{href, Reply, Request};
use crate::access::{bearer_is, header, same_secret, AdminAccess};
use hyper::header::{HeaderValue, CONTENT_TYPE, COOKIE, SET_COOKIE};
use hyper::{HeaderMap, Method, StatusCode};
use maud::{html, Markup};

const SESSION_COOKIE: &str = "offload_session";
const ADMIN_COOKIE: &str = "offload_admin";

/// The door of one dashboard: the web front's [`AdminAccess`] rules, applied to browsers.
pub struct Gate {
    access: AdminAccess,
}

/// One request that was let in.
pub struct Visit {
    session: String,
    /// The browser had no (valid) session cookie: the answer sets one.
    new_session: bool,
    /// A fresh value for this answer's `Content-Security-Policy`.
    nonce: String,
    /// An action's fields (empty for a GET); its token was already checked.
    pub form: Form,
}

impl Gate {
    pub fn new(access: AdminAccess) -> Gate {
        Gate { access }
    }

    /// Lets the request in, or answers it: the sign-in page, or a page saying why not.
    pub fn enter(&self, request: &Request<'_>) -> Result<Visit, Reply> {
        let (session, new_session) = match cookie(request.headers, SESSION_COOKIE) {
            Some(value) if is_session_token(&value) => (value, false),
            _ => (random_hex(), true),
        };
        let mut visit = Visit {
            session,
            new_session,
            nonce: random_hex(),
            form: Form::default(),
        };
        if request.page() == "/login" {
            return Err(self.login(request, &visit));
        }
        let acts = !matches!(*request.method, Method::GET | Method::HEAD);
        if (acts || !self.access.loopback()) && !self.signed_in(request.headers) {
            return Err(visit.finish(login_page(
                &visit,
                StatusCode::UNAUTHORIZED,
                "this dashboard needs the --admin-token: sign in",
            )));
        }
        if !acts {
            return Ok(visit);
        }
        if *request.method != Method::POST {
            return Err(visit.refuse(
                StatusCode::METHOD_NOT_ALLOWED,
                "dashboard actions are POSTs",
            ));
        }
        visit.form = self.action_form(request, &visit)?;
        Ok(visit)
    }

    /// The checks of an action, in the order a person can fix them.
    fn action_form(&self, request: &Request<'_>, visit: &Visit) -> Result<Form, Reply> {
        if let Err(why) = self.access.check_origin(request.headers) {
            return Err(visit.refuse(StatusCode::FORBIDDEN, &why));
        }
        let content_type = header(request.headers, CONTENT_TYPE).unwrap_or_default();
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        if !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            return Err(visit.refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                &format!("dashboard actions are forms, not {content_type:?}"),
            ));
        }
        let form =
            Form::parse(request.body).map_err(|why| visit.refuse(StatusCode::BAD_REQUEST, &why))?;
        let matches = form
            .get("token")
            .is_some_and(|token| !visit.new_session && same_secret(token, &visit.session));
        if !matches {
            return Err(visit.refuse(
                StatusCode::FORBIDDEN,
                "this action's token is missing or is not this browser's session: \
                 reload the page and try again",
            ));
        }
        Ok(form)
    }

    fn signed_in(&self, headers: &HeaderMap) -> bool {
        let Some(token) = self.access.token() else {
            return true;
        };
        bearer_is(headers, token)
            || cookie(headers, ADMIN_COOKIE)
                .is_some_and(|given| same_secret(&given, &form::encode(token)))
    }

    /// `GET /dashboard/login`: the form; `POST`: the token, checked, kept in a cookie.
    fn login(&self, request: &Request<'_>, visit: &Visit) -> Reply {
        let Some(token) = self.access.token() else {
            return visit.finish(Reply::see_other(&href("")));
        };
        if *request.method != Method::POST {
            return visit.finish(login_page(visit, StatusCode::OK, ""));
        }
        if let Err(why) = self.access.check_origin(request.headers) {
            return visit.refuse(StatusCode::FORBIDDEN, &why);
        }
        let given = Form::parse(request.body)
            .ok()
            .and_then(|form| form.get("admin_token").map(str::to_owned))
            .unwrap_or_default();
        if !same_secret(&given, token) {
            return visit.finish(login_page(
                visit,
                StatusCode::UNAUTHORIZED,
                "that is not the --admin-token",
            ));
        }
        let cookie = format!(
            "{ADMIN_COOKIE}={}; Path=/dashboard; HttpOnly; SameSite=Strict",
            form::encode(token)
        );
        let reply = Reply::see_other(&href(""));
        match HeaderValue::from_str(&cookie) {
            Ok(value) => visit.finish(reply.with_header(SET_COOKIE, value)),
            Err(_) => visit.refuse(
                StatusCode::BAD_REQUEST,
                "the token cannot be kept in a cookie",
            ),
        }
    }
}

/// A status page with nothing to act on (strategies 2 to 4): it shows counts, no address
/// and no mail, so it is open like `/healthz` to whoever can reach the web front, and sets
/// no cookie. Only GET (405 otherwise).
pub fn read_only(request: &Request<'_>) -> Result<Visit, Reply> {
    let visit = Visit {
        session: String::new(),
        new_session: false,
        nonce: random_hex(),
        form: Form::default(),
    };
    if matches!(*request.method, Method::GET | Method::HEAD) {
        Ok(visit)
    } else {
        Err(visit.refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "this page has nothing to act on: GET it",
        ))
    }
}

impl Visit {
    /// The session's token, for a form's hidden field.
    pub fn token(&self) -> &str {
        &self.session
    }

    /// A button that POSTs to `action` (a dashboard page, `"/failed/retry"`) with the
    /// session's token and `fields`. With `confirm`, the browser asks first.
    pub fn button(
        &self,
        action: &str,
        label: &str,
        fields: &[(&str, String)],
        confirm: Option<&str>,
    ) -> Markup {
        html! {
            form.inline method="post" action=(href(action)) data-confirm=[confirm] {
                input type="hidden" name="token" value=(self.session);
                @for (name, value) in fields {
                    input type="hidden" name=(name) value=(value);
                }
                button.danger[confirm.is_some()] type="submit" { (label) }
            }
        }
    }

    /// The answer, with the session cookie when this browser had none.
    pub fn finish(&self, mut reply: Reply) -> Reply {
        if self.new_session {
            let cookie = format!(
                "{SESSION_COOKIE}={}; Path=/dashboard; HttpOnly; SameSite=Strict",
                self.session
            );
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                reply.headers.push((SET_COOKIE, value));
            }
        }
        layout::secure(reply, &self.nonce)
    }

    /// A page of `site` (200), with this visit's headers.
    pub fn page(
        &self,
        site: &Site,
        request: &Request<'_>,
        heading: &str,
        content: Markup,
    ) -> Reply {
        let with_actions = !self.session.is_empty();
        self.finish(site.render(&self.nonce, with_actions, request, heading, content))
    }

    /// An error page: the status and why, for a person (4xx: what to change).
    pub fn refuse(&self, status: StatusCode, why: &str) -> Reply {
        self.finish(layout::error_page(status, why, &self.nonce))
    }
}

fn login_page(visit: &Visit, status: StatusCode, problem: &str) -> Reply {
    let body = html! {
        h1 { "Sign in" }
        @if !problem.is_empty() { p.bad { (problem) } }
        form method="post" action=(href("/login")) {
            label { "Admin token " input type="password" name="admin_token" autocomplete="current-password"; }
            " "
            button type="submit" { "Sign in" }
        }
    };
    Reply::html(status, layout::bare("Sign in", body, &visit.nonce))
}

/// A cookie's value, from any of the request's `Cookie` headers.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name).then(|| value.to_owned())
        })
}

fn is_session_token(value: &str) -> bool {
    value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

/// 128 random bits as hex, from the operating system's generator (via `rand`'s
/// cryptographically secure thread generator).
fn random_hex() -> String {
    format!("{:032x}", rand::random::<u128>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::{HOST, ORIGIN};

    fn request<'a>(
        method: &'a Method,
        path: &'a str,
        headers: &'a HeaderMap,
        body: &'a [u8],
    ) -> Request<'a> {
        Request {
            method,
            path,
            query: None,
            headers,
            body,
        }
    }

    fn headers(pairs: &[(hyper::header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    const SESSION: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn an_action_needs_the_sessions_own_token_and_a_form() {
        let gate = Gate::new(AdminAccess::new("127.0.0.1", 8080, None).unwrap());
        let post = Method::POST;
        let cookie = format!("{SESSION_COOKIE}={SESSION}");
        let form = "application/x-www-form-urlencoded";
        let good = headers(&[
            (COOKIE, &cookie),
            (CONTENT_TYPE, form),
            (HOST, "127.0.0.1:8080"),
            (ORIGIN, "http://127.0.0.1:8080"),
        ]);
        let body = format!("token={SESSION}&index=0");
        let visit = gate
            .enter(&request(
                &post,
                "/dashboard/failed/retry",
                &good,
                body.as_bytes(),
            ))
            .ok()
            .unwrap();
        assert_eq!(visit.form.integer("index"), Ok(0));

        let status = |h: &HeaderMap, body: &str| {
            gate.enter(&request(
                &post,
                "/dashboard/failed/retry",
                h,
                body.as_bytes(),
            ))
            .err()
            .unwrap()
            .status
        };
        assert_eq!(status(&good, "index=0"), StatusCode::FORBIDDEN);
        assert_eq!(
            status(&good, "token=ffffffffffffffffffffffffffffffff"),
            StatusCode::FORBIDDEN
        );
        assert_eq!(status(&good, "token=%zz"), StatusCode::BAD_REQUEST);
        let no_cookie = headers(&[(CONTENT_TYPE, form)]);
        assert_eq!(status(&no_cookie, &body), StatusCode::FORBIDDEN);
        let elsewhere = headers(&[
            (COOKIE, &cookie),
            (CONTENT_TYPE, form),
            (ORIGIN, "http://evil.example"),
        ]);
        assert_eq!(status(&elsewhere, &body), StatusCode::FORBIDDEN);
        let json = headers(&[(COOKIE, &cookie), (CONTENT_TYPE, "application/json")]);
        assert_eq!(status(&json, &body), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }

    #[test]
    fn with_a_token_beyond_loopback_a_browser_signs_in_first() {
        let gate = Gate::new(AdminAccess::new("0.0.0.0", 8080, Some("s3cret".into())).unwrap());
        let (get, post) = (Method::GET, Method::POST);
        let none = HeaderMap::new();
        let refused = gate
            .enter(&request(&get, "/dashboard", &none, b""))
            .err()
            .unwrap();
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        let form = headers(&[(CONTENT_TYPE, "application/x-www-form-urlencoded")]);
        let wrong = gate
            .enter(&request(
                &post,
                "/dashboard/login",
                &form,
                b"admin_token=guess",
            ))
            .err()
            .unwrap();
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        let right = gate
            .enter(&request(
                &post,
                "/dashboard/login",
                &form,
                b"admin_token=s3cret",
            ))
            .err()
            .unwrap();
        assert_eq!(right.status, StatusCode::SEE_OTHER);
        let set = right.headers.iter().filter(|(name, _)| *name == SET_COOKIE);
        let admin = set
            .map(|(_, v)| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with(ADMIN_COOKIE))
            .unwrap();
        let signed_in = headers(&[(COOKIE, admin.split(';').next().unwrap())]);
        assert!(gate
            .enter(&request(&get, "/dashboard", &signed_in, b""))
            .is_ok());
    }
}
