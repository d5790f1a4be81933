//! `/dashboard`: the supervisor's children and their restarts, and where the emails in its
//! care are, as the web server child gets them from the supervisor (a `books` frame, asked
//! for like `/healthz` asks for the pids). A status page: counts only, nothing to act on.

use crate::protocol::Books;
use hyper::StatusCode;
use kit::dashboard::widgets::{table, tiles, unseen};
use kit::dashboard::{guard, html, Reply, Request, Site};

const SITE: Site = Site {
    name: "Strategy 3 · forked IPC",
    pages: &[("", "Status")],
};

pub fn page(request: &Request<'_>, books: Result<Books, String>) -> Reply {
    let visit = match guard::read_only(request) {
        Ok(visit) => visit,
        Err(reply) => return reply,
    };
    if !request.page().is_empty() {
        return visit.refuse(StatusCode::NOT_FOUND, "strategy 3 has one page: /dashboard");
    }
    let books = match books {
        Ok(books) => books,
        Err(why) => return visit.refuse(StatusCode::SERVICE_UNAVAILABLE, &why),
    };
    let pid = |pid: Option<i32>| pid.map_or("dead (re-fork due)".to_string(), |p| p.to_string());
    let children = [
        ("web server", Some(books.pids.web), books.restarts[0]),
        ("email worker", Some(books.pids.worker), books.restarts[1]),
        (
            "mail sink",
            books.pids.mail_sink.map(Some),
            books.restarts[2],
        ),
    ];
    let rows = children
        .iter()
        .filter_map(|(name, pids, restarts)| {
            let pids = (*pids)?;
            Some(html! { tr { td { (name) } td.num { (pid(pids)) } td.num { (restarts) } } })
        })
        .collect();
    let content = html! {
        p { "Supervisor pid " code { (books.pids.supervisor) } ". It forks the children and re-forks one that dies." }
        (table(&["child", "pid", "restarts"], rows, "no children"))
        h2 { "Emails in the supervisor's care" }
        (tiles(&[
            ("held (no worker ready)", books.held.to_string()),
            ("in the worker", books.in_worker.to_string()),
            ("most at once", books.max_backlog.to_string()),
        ]))
        h2 { "So far" }
        (tiles(&[
            ("accepted", books.accepted.to_string()),
            ("sent", books.sent.to_string()),
            ("dropped (5xx)", books.refused.to_string()),
            ("turned away (503)", books.turned_away.to_string()),
            ("out of attempts", books.out_of_attempts.to_string()),
            ("lost with a worker", books.lost_with_worker.to_string()),
            ("handed again (--ack)", books.handed_again.to_string()),
        ]))
        (unseen("The worker's in-memory queue lives in the worker process: \"in the worker\" \
                 counts what the supervisor handed it and has not heard back about, an upper \
                 bound of that queue. A SIGKILL of the worker loses exactly those."))
    };
    visit.page(&SITE, request, "Status", content)
}
