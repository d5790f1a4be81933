//! `/dashboard` of the real web role: who is subscribed now (as Redis says), and what this
//! web process's PUBLISHes were told, including the mails heard by nobody.

mod common;

use common::*;
use testkit::{ChildProcess, DashboardClient};

#[tokio::test]
async fn the_page_shows_subscribers_and_mails_heard_by_nobody() {
    let redis = redis();
    let sink = sink().await;
    let web = web(&redis).await;
    publish(&web, "nobody").await;
    let mut browser = DashboardClient::new(&web.url(""));
    let page = browser.get("/dashboard").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        page.tile("subscribed now").as_deref(),
        Some("0"),
        "{}",
        page.body
    );
    assert_eq!(page.tile("heard by nobody (lost)").as_deref(), Some("1"));
    assert!(page.body.contains("nobody is subscribed"));

    let _worker = worker(&redis, &sink, 0).await;
    assert_eq!(publish(&web, "one").await, 1);
    let page = browser.get("/dashboard").await;
    assert_eq!(
        page.tile("subscribed now").as_deref(),
        Some("1"),
        "{}",
        page.body
    );
    assert_eq!(page.tile("published").as_deref(), Some("2"));
    assert_eq!(page.tile("heard by nobody (lost)").as_deref(), Some("1"));
    assert_eq!(page.tile("receivers, last PUBLISH").as_deref(), Some("1"));
    assert!(page.body.contains("waiting in Redis"));
    assert!(!page.body.contains("nobody is subscribed"));
    assert!(
        !page.body.contains("The worker in this process"),
        "a web role has no worker"
    );
    assert_eq!(browser.post_form("/dashboard", "").await.status, 405);
}

/// With `--role all` the worker runs in the web role's process, so the page shows its
/// backlog: the mails it heard and has not sent (here: held up by a long throttle).
#[tokio::test]
async fn with_role_all_the_page_shows_the_workers_backlog() {
    let sink = sink().await;
    let app = ChildProcess::start_http(
        BIN,
        ["--role", "all", "--throttle-ms", "60000"],
        &[("SMTP_URL", &sink.url())],
    )
    .await
    .unwrap();
    for subject in ["a", "b", "c", "d"] {
        assert_eq!(publish(&app, subject).await, 1);
    }
    let base = app.url("");
    testkit::wait_until("3 mails wait in the backlog", DEADLINE, || async {
        let page = DashboardClient::new(&base).get("/dashboard").await;
        (page.tile("backlog (heard, not sent)").as_deref() == Some("3")).then_some(())
    })
    .await;
    let page = DashboardClient::new(&base).get("/dashboard").await;
    assert_eq!(page.tile("dropped (backlog full)").as_deref(), Some("0"));
    assert_eq!(
        sink.deliveries().len(),
        1,
        "the throttle let more than one mail through"
    );
}
