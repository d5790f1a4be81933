//! The dashboards' shared base: `/dashboard` and the pages under it, server-rendered HTML
//! that a person opens in a browser, on a phone or on a workshop's projector.
//!
//! A strategy's web front answers `/dashboard...` through [`crate::EmailService::dashboard`]
//! with a [`Reply`]; this module gives it everything that is not its own data:
//!
//! * [`layout`]: the page around the data ([`Site`]: title, navigation, inline CSS, large
//!   type, tables that scroll sideways on a phone) and the live refresh (a tiny inline
//!   script re-fetches the page every 2 s and swaps its `<main>`; without scripts, a meta
//!   refresh does it).
//! * [`guard`]: who may look and who may act. Actions are form POSTs that must carry the
//!   session's token (a cookie and a hidden field that must match), from this server's own
//!   origin, and, with `--admin-token`, from a browser that signed in with it
//!   (`/dashboard/login`). A cross-site form cannot read the token, so it cannot act.
//! * [`form`]: the POST bodies those forms send, decoded strictly (400 otherwise).
//! * [`widgets`]: small pieces each dashboard uses (a table of counts, a time span, a chart).
//!
//! Every value that came from Redis or from a client is shown through maud, which escapes
//! it: a job whose payload holds `<script>` shows the text `<script>`, it does not run.
//! The answer's `Content-Security-Policy` allows only the page's own script and style (by a
//! nonce fresh for each answer), so even a value that slipped through could not run code.
//!
//! See ARCHITECTURE.md, section "shared/kit".

pub mod form;
pub mod guard;
pub mod layout;
pub mod widgets;

pub use guard::{Gate, Visit};
pub use layout::Site;
pub use maud::{html, Markup, PreEscaped};

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use hyper::{HeaderMap, Method, StatusCode};

/// The path every dashboard lives under.
pub const ROOT: &str = "/dashboard";

/// One request to `/dashboard...`, as the web front read it.
pub struct Request<'a> {
    pub method: &'a Method,
    /// The whole path, `/dashboard` included.
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

impl Request<'_> {
    /// The path below `/dashboard`: `""` for the overview, `"/failed"` for a page.
    pub fn page(&self) -> &str {
        let rest = self.path.strip_prefix(ROOT).unwrap_or(self.path);
        rest.strip_suffix('/').unwrap_or(rest)
    }

    /// A query parameter, decoded as a form field is; `None` when absent or malformed.
    pub fn query_param(&self, name: &str) -> Option<String> {
        form::Form::parse(self.query?.as_bytes())
            .ok()?
            .get(name)
            .map(str::to_owned)
    }
}

/// What the web front sends back for a dashboard request.
pub struct Reply {
    pub status: StatusCode,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
}

impl Reply {
    /// A page (or an error page) as HTML; the header of its policy comes from [`layout`].
    pub fn html(status: StatusCode, markup: Markup) -> Reply {
        Reply {
            status,
            headers: vec![(
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            )],
            body: Bytes::from(markup.into_string()),
        }
    }

    /// `303 See Other`: after an action, the browser GETs the page that shows its effect
    /// (so a reload does not repeat the action).
    pub fn see_other(location: &str) -> Reply {
        let mut reply = Reply {
            status: StatusCode::SEE_OTHER,
            headers: Vec::new(),
            body: Bytes::new(),
        };
        if let Ok(value) = HeaderValue::from_str(location) {
            reply.headers.push((hyper::header::LOCATION, value));
        }
        reply
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Reply {
        self.headers.push((name, value));
        self
    }
}

/// `/dashboard` or a path below it.
pub fn is_dashboard_path(path: &str) -> bool {
    path == ROOT
        || path
            .strip_prefix(ROOT)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// A link to a dashboard page: `href("/failed")` is `/dashboard/failed`.
pub fn href(page: &str) -> String {
    format!("{ROOT}{page}")
}

/// `href(page)` with a message for the page to show (after an action).
pub fn href_with_notice(page: &str, notice: &str) -> String {
    format!("{ROOT}{page}?notice={}", form::encode(notice))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dashboard_and_below_are_dashboard_paths() {
        assert!(is_dashboard_path("/dashboard"));
        assert!(is_dashboard_path("/dashboard/failed"));
        assert!(!is_dashboard_path("/dashboards"));
        assert!(!is_dashboard_path("/a@b.c/dashboard/x"));
    }
}
