//! `/dashboard` of the real binary: the supervisor's children with their pids and restarts,
//! and the emails in its care, as the web server child asks the supervisor for them.

mod common;

use common::*;
use testkit::DashboardClient;

#[tokio::test]
async fn the_page_shows_the_children_their_restarts_and_the_books() {
    let sink = sink().await;
    let app = start(&sink, &[]).await;
    send(&app, "one", "x").await;
    wait_for_subject(&sink, "one", 1).await;
    let mut browser = DashboardClient::new(&app.url(""));
    let page = browser.get("/dashboard").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let worker = worker_pid(&app).await;
    let row = |body: &str, child: &str| {
        let start = body.find(&format!("<td>{child}</td>")).unwrap();
        body[start..start + body[start..].find("</tr>").unwrap()].to_owned()
    };
    assert!(
        row(&page.body, "email worker").contains(&format!(">{worker}<")),
        "{}",
        page.body
    );
    assert!(row(&page.body, "email worker").ends_with("<td class=\"num\">0</td>"));
    assert_eq!(page.tile("accepted").as_deref(), Some("1"), "{}", page.body);
    assert_eq!(page.tile("sent").as_deref(), Some("1"));

    kill_the_worker(&app).await;
    let base = app.url("");
    wait_until("the worker is back, counted as a restart", || async {
        let page = DashboardClient::new(&base).get("/dashboard").await;
        row(&page.body, "email worker")
            .ends_with("<td class=\"num\">1</td>")
            .then_some(())
    })
    .await;
    assert_eq!(browser.post_form("/dashboard", "").await.status, 405);
}
