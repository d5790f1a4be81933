//! `/dashboard` of the real web role: who is subscribed now (as Redis says), and what this
//! web process's PUBLISHes were told, including the mails heard by nobody.

mod common;

use common::*;
use testkit::DashboardClient;

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
    assert_eq!(browser.post_form("/dashboard", "").await.status, 405);
}
