//! `/dashboard` of the real binary: the sends in flight while the mail server is slow, and
//! the mails lost so far when it refuses them.

use kit::client::HttpClient;
use mailer::{Faults, Latency, Sink, SinkConfig};
use std::time::Duration;
use testkit::{wait_until, ChildProcess, DashboardClient};

const DEADLINE: Duration = Duration::from_secs(30);

async fn start(faults: Faults) -> (Sink, ChildProcess) {
    let sink = Sink::start_local(SinkConfig {
        faults,
        ..SinkConfig::default()
    })
    .await
    .unwrap();
    let web = ChildProcess::start_http(
        env!("CARGO_BIN_EXE_strategy-2"),
        ["--max-in-flight", "50"],
        &[("SMTP_URL", &sink.url())],
    )
    .await
    .unwrap();
    (sink, web)
}

async fn send(web: &ChildProcess, count: usize) {
    for i in 0..count {
        let answer = HttpClient::default()
            .get(&web.url(&format!("/you@example.com/m{i}/x")))
            .await
            .unwrap();
        assert_eq!(answer.status, 200);
    }
}

#[tokio::test]
async fn the_page_shows_sends_in_flight_and_mails_lost() {
    let slow = Faults {
        latency: Latency::fixed(60_000),
        ..Faults::default()
    };
    let (sink, web) = start(slow).await;
    send(&web, 3).await;
    wait_until("the sink holds 3 sends", DEADLINE, || async {
        (sink.stats().data_started >= 3).then_some(())
    })
    .await;
    let mut browser = DashboardClient::new(&web.url(""));
    let page = browser.get("/dashboard").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        page.tile("sends in flight").as_deref(),
        Some("3"),
        "{}",
        page.body
    );
    assert_eq!(page.tile("most at once").as_deref(), Some("50"));
    assert_eq!(page.tile("lost so far").as_deref(), Some("0"));
    assert_eq!(browser.post_form("/dashboard", "").await.status, 405);
    assert_eq!(browser.get("/dashboard/other").await.status, 404);

    let refusing = Faults {
        permanent_failure_rate: 1.0,
        ..Faults::default()
    };
    let (_sink, web) = start(refusing).await;
    send(&web, 2).await;
    let base = web.url("");
    wait_until("2 mails are lost", DEADLINE, || async {
        let page = DashboardClient::new(&base).get("/dashboard").await;
        (page.tile("lost so far").as_deref() == Some("2")).then_some(())
    })
    .await;
}
