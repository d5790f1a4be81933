//! `/dashboard`: the sends in flight and what became of the mails so far, from this very
//! process (the only place they exist). A status page: counts only, nothing to act on,
//! because nothing is kept to act on.

use crate::FireAndForget;
use hyper::StatusCode;
use kit::dashboard::widgets::{tiles, unseen};
use kit::dashboard::{guard, html, Reply, Request, Site};

const SITE: Site = Site {
    name: "Strategy 2 · fire and forget",
    pages: &[("", "Status")],
};

pub fn page(service: &FireAndForget, request: &Request<'_>) -> Reply {
    let visit = match guard::read_only(request) {
        Ok(visit) => visit,
        Err(reply) => return reply,
    };
    if !request.page().is_empty() {
        return visit.refuse(StatusCode::NOT_FOUND, "strategy 2 has one page: /dashboard");
    }
    let (sent, failed, abandoned) = service.tally.counts();
    let content = html! {
        (tiles(&[
            ("sends in flight", service.tasks.len().to_string()),
            ("most at once", service.max_in_flight.to_string()),
            ("sent", sent.to_string()),
            ("lost so far", (failed + abandoned).to_string()),
        ]))
        (unseen("A lost mail is kept nowhere: the client was told 200 before the send, so each \
                 one is an `email lost` line in this process's log and one more in the count \
                 above, and nothing can send it again."))
    };
    visit.page(&SITE, request, "Status", content)
}
