//! The page around a dashboard's data: one HTML document, its CSS and its script inline
//! (no CDN, no build step: a workshop machine may be offline), large type that scales with
//! the screen from a phone to a projector, and tables that scroll sideways rather than
//! squeeze.
//!
//! Live refresh: every 2 s the page's script fetches the page again and swaps in the new
//! `<main>` (the header, the navigation and a notice stay put); it pauses while the tab is
//! hidden. Without scripts, `<noscript>`'s meta refresh reloads the page every 5 s.

use super::{href, Reply, Request};
use hyper::header::{HeaderName, HeaderValue, CACHE_CONTROL};
use hyper::StatusCode;
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// How often a page re-fetches itself.
pub const REFRESH_MS: u32 = 2000;

/// One strategy's dashboard: its name and its pages, `(page, label)` with `""` the overview.
pub struct Site {
    pub name: &'static str,
    pub pages: &'static [(&'static str, &'static str)],
}

impl Site {
    /// A page of this site, 200, with its navigation and the notice of an action just done
    /// (shown through [`super::Visit::page`], which adds the headers).
    pub fn render(
        &self,
        nonce: &str,
        with_actions: bool,
        request: &Request<'_>,
        heading: &str,
        content: Markup,
    ) -> Reply {
        let current = request.page();
        let notice = request.query_param("notice");
        let document = html! {
            (DOCTYPE)
            html lang="en" {
                (head(&format!("{heading} · {}", self.name), nonce))
                body {
                    header {
                        a.brand href=(href("")) { (self.name) }
                        nav {
                            @for (page, label) in self.pages {
                                a href=(href(page)) aria-current=[(*page == current).then_some("page")] { (label) }
                            }
                        }
                    }
                    @if let Some(notice) = notice { p.notice role="status" { (notice) } }
                    main data-live=(REFRESH_MS) {
                        h1 { (heading) }
                        (content)
                    }
                    footer {
                        "Refreshes every " (REFRESH_MS / 1000) " s."
                        @if with_actions { " Actions are POSTs that carry this browser's session token." }
                    }
                    script nonce=(nonce) { (PreEscaped(SCRIPT)) }
                }
            }
        };
        Reply::html(StatusCode::OK, document)
    }
}

/// A page with no navigation: sign-in, and errors.
pub fn bare(title: &str, content: Markup, nonce: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title, nonce))
            body {
                header { a.brand href=(href("")) { "Dashboard" } }
                main { (content) }
            }
        }
    }
}

/// An error page: the status as its title, and what went wrong.
pub fn error_page(status: StatusCode, why: &str, nonce: &str) -> Reply {
    let title = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("error")
    );
    let body = html! {
        h1 { (title) }
        p.bad.problem { (why) }
        p { a href=(href("")) { "Back to the dashboard" } }
    };
    Reply::html(status, bare(&title, body, nonce))
}

fn head(title: &str, nonce: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            // No icon: without this line a browser asks for /favicon.ico, a 404.
            link rel="icon" href="data:,";
            title { (title) }
            style nonce=(nonce) { (PreEscaped(CSS)) }
            noscript { meta http-equiv="refresh" content="5"; }
        }
    }
}

/// The answer's security headers: only this answer's own script and style may run (by
/// `nonce`), nothing may frame it, nothing is cached (the data changes every second).
pub fn secure(mut reply: Reply, nonce: &str) -> Reply {
    let policy = format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; \
         connect-src 'self'; img-src 'self' data:; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'"
    );
    let mut add = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            reply.headers.push((HeaderName::from_static(name), value));
        }
    };
    add("content-security-policy", policy);
    add("x-content-type-options", "nosniff".into());
    add("referrer-policy", "same-origin".into());
    reply
        .headers
        .push((CACHE_CONTROL, HeaderValue::from_static("no-store")));
    reply
}

/// Live refresh, and a confirmation before a destructive action (`data-confirm`).
const SCRIPT: &str = r#"(function () {
  var main = document.querySelector('main[data-live]');
  document.addEventListener('submit', function (event) {
    var question = event.target.getAttribute('data-confirm');
    if (question && !window.confirm(question)) event.preventDefault();
  });
  if (!main) return;
  var every = Number(main.getAttribute('data-live')) || 2000;
  setInterval(function () {
    if (document.hidden) return;
    fetch(location.href, { credentials: 'same-origin', cache: 'no-store' })
      .then(function (answer) { return answer.ok ? answer.text() : null; })
      .then(function (text) {
        // Only <main> is parsed: the fresh page's <style> carries the nonce of another
        // answer, and parsing it here would be refused by this page's policy.
        var start = text ? text.indexOf('<main') : -1;
        var end = text ? text.lastIndexOf('</main>') : -1;
        if (start < 0 || end < start) return;
        var fragment = text.slice(start, end + '</main>'.length);
        var fresh = new DOMParser().parseFromString(fragment, 'text/html').querySelector('main');
        if (fresh) main.innerHTML = fresh.innerHTML;
      })
      .catch(function () { /* the server is away: keep showing the last page */ });
  }, every);
})();"#;

const CSS: &str = r#"
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #ffffff; --muted: #57606a; --line: #d0d7de;
  --accent: #0a58ca; --bad: #b42318; --good: #067647; --panel: #f6f8fa; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9da7b3;
  --line: #30363d; --accent: #79a8ff; --bad: #ff8a80; --good: #6fdc9c; --panel: #161b22; } }
html { font-size: clamp(17px, 0.85rem + 0.55vw, 26px); }
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; line-height: 1.45;
  color: var(--fg); background: var(--bg); }
header { display: flex; flex-wrap: wrap; gap: .3rem 1.2rem; align-items: baseline;
  padding: .6rem 1rem; border-bottom: 2px solid var(--line); background: var(--panel); }
.brand { font-weight: 700; font-size: 1.1rem; color: var(--fg); text-decoration: none; }
nav { display: flex; flex-wrap: wrap; gap: .2rem 1rem; }
nav a { color: var(--accent); text-decoration: none; }
nav a[aria-current=page] { color: var(--fg); font-weight: 700; border-bottom: 3px solid var(--accent); }
main { padding: 0 1rem 1rem; max-width: 90rem; }
h1 { font-size: 1.6rem; margin: .8rem 0 .5rem; }
h2 { font-size: 1.2rem; margin: 1.3rem 0 .4rem; }
a { color: var(--accent); }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); white-space: nowrap; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .85em; overflow-wrap: anywhere; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(10rem, 1fr)); gap: .6rem; margin: .5rem 0; }
.tile { border: 1px solid var(--line); border-radius: .5rem; padding: .4rem .8rem; background: var(--panel); }
.tile b { display: block; font-size: 1.9rem; font-variant-numeric: tabular-nums; }
.tile span { color: var(--muted); font-size: .85rem; }
.notice { margin: .6rem 1rem; padding: .5rem .8rem; border-left: 5px solid var(--good); background: var(--panel); }
.unseen { border: 1px dashed var(--line); border-radius: .5rem; padding: .4rem .8rem; color: var(--muted); }
.muted { color: var(--muted); } .bad { color: var(--bad); } .good { color: var(--good); }
form.inline { display: inline; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; margin: .6rem 0; }
button { font: inherit; font-size: .9rem; padding: .25rem .8rem; border-radius: .4rem; cursor: pointer;
  border: 1px solid var(--accent); background: var(--accent); color: #fff; }
button.danger { border-color: var(--bad); background: var(--bad); }
input { font: inherit; padding: .2rem .4rem; }
svg.chart { width: 100%; max-width: 48rem; height: auto; }
footer { padding: 1rem; color: var(--muted); font-size: .8rem; }
"#;
