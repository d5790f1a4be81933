//! Strategy 2 as a real process: fast answers, and every way it loses mail without a word.

use hyper::StatusCode;
use kit::client::HttpClient;
use mailer::{Faults, Latency, Sink, SinkConfig};
use std::time::Duration;
use testkit::{check_bad_requests, wait_until, ChildProcess, DashboardClient};

/// Ends a stuck test; never what makes one pass (CI is a loaded 2-core machine).
const DEADLINE: Duration = Duration::from_secs(30);

async fn start(faults: Faults, extra_args: &[&str]) -> (Sink, ChildProcess) {
    let sink = Sink::start_local(SinkConfig {
        faults,
        ..SinkConfig::default()
    })
    .await
    .unwrap();
    let web = ChildProcess::start_http(
        env!("CARGO_BIN_EXE_strategy-2"),
        extra_args,
        &[("SMTP_URL", &sink.url())],
    )
    .await
    .unwrap();
    (sink, web)
}

fn slow(ms: u64) -> Faults {
    Faults {
        latency: Latency::fixed(ms),
        ..Faults::default()
    }
}

/// `GET /you@example.com/<subject>/<text>`, which must be answered 200.
async fn send(web: &ChildProcess, subject: &str, text: &str) {
    let answer = HttpClient::default()
        .get(&web.url(&format!("/you@example.com/{subject}/{text}")))
        .await
        .unwrap();
    assert_eq!(answer.status, StatusCode::OK);
}

/// Sends `count` mails and waits until the sink is holding all of them in DATA.
async fn send_and_wait_in_flight(sink: &Sink, web: &ChildProcess, count: usize) {
    for i in 0..count {
        send(web, &format!("m{i}"), "x").await;
    }
    wait_until("every send is in DATA at the sink", DEADLINE, || async {
        (sink.stats().data_started as usize >= count).then_some(())
    })
    .await;
}

#[tokio::test]
async fn answers_before_the_mail_is_sent_and_sends_it_later() {
    let (sink, web) = start(slow(2000), &[]).await;
    let answer = HttpClient::default()
        .get(&web.url("/you@example.com/Hello/World"))
        .await
        .unwrap();
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json["email"]["subject"], "Hello");
    // The sink holds every message for 2 s, so nothing can have arrived yet.
    assert!(sink.deliveries().is_empty());
    assert!(sink.wait_for(1, DEADLINE).await);
}

#[tokio::test]
async fn a_failed_send_is_lost_and_only_the_log_knows() {
    let (sink, web) = start(
        Faults {
            failure_rate: 1.0,
            ..Faults::default()
        },
        &[],
    )
    .await;
    let answer = HttpClient::default()
        .get(&web.url("/you@example.com/Hello/World"))
        .await
        .unwrap();
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "the client is told all is well"
    );
    assert!(web.wait_for_log("email lost", DEADLINE).await);
    assert!(sink.deliveries().is_empty());
}

#[tokio::test]
async fn sigkill_loses_every_send_in_flight() {
    let (sink, mut web) = start(slow(1000), &[]).await;
    send_and_wait_in_flight(&sink, &web, 5).await;
    web.kill();
    // The sink notices each hang-up once its delay is over.
    wait_until(
        "the sink saw all five senders hang up",
        DEADLINE,
        || async { (sink.stats().aborted == 5).then_some(()) },
    )
    .await;
    assert!(sink.deliveries().is_empty(), "five 200s, zero mails");
}

#[tokio::test]
async fn sigterm_abandons_what_does_not_finish_within_the_drain_time() {
    let (sink, mut web) = start(slow(3000), &["--drain-ms", "100"]).await;
    send_and_wait_in_flight(&sink, &web, 3).await;
    let status = web.terminate(DEADLINE).await.expect("exited");
    assert!(status.success(), "{status}");
    let logs = web.logs();
    assert!(logs.contains("lost=3"), "{logs}");
    assert!(logs.contains("in-flight sends abandoned"), "{logs}");
}

#[tokio::test]
async fn sigterm_drains_sends_that_finish_in_time() {
    let (sink, mut web) = start(slow(500), &["--drain-ms", "20000"]).await;
    send_and_wait_in_flight(&sink, &web, 3).await;
    let status = web.terminate(DEADLINE).await.expect("exited");
    assert!(status.success(), "{status}");
    assert!(web.logs().contains("drained=3"), "{}", web.logs());
    assert_eq!(sink.deliveries().len(), 3);
}

#[tokio::test]
async fn bad_input_is_a_400_and_sends_nothing() {
    let (sink, web) = start(Faults::default(), &[]).await;
    let failures = check_bad_requests(&web.url("")).await;
    assert!(failures.is_empty(), "{failures:#?}");
    // A 400 is answered before any send is spawned. A valid mail sent last must then be
    // the only one to arrive: waiting for it gives a slipped-through send time to show up.
    let answer = HttpClient::default()
        .get(&web.url("/you@example.com/Valid/last"))
        .await
        .unwrap();
    assert_eq!(answer.status, StatusCode::OK);
    assert!(sink.wait_for(1, DEADLINE).await);
    let subjects: Vec<String> = sink.deliveries().into_iter().map(|d| d.subject).collect();
    assert_eq!(subjects, ["Valid"]);
    assert_eq!(sink.stats().data_started, 1);
}

#[tokio::test]
async fn the_summary_counts_every_email_lost_line() {
    // Two sends the server refuses, then three still in DATA when the drain time is over:
    // five mails lost, each with its "email lost" line, and the summary must say five.
    let (sink, mut web) = start(
        Faults {
            failure_rate: 1.0,
            ..Faults::default()
        },
        &["--drain-ms", "100"],
    )
    .await;
    for i in 0..2 {
        send(&web, "refused", &format!("r{i}")).await;
    }
    wait_until("two sends failed", DEADLINE, || async {
        (web.logs().matches("email lost").count() == 2).then_some(())
    })
    .await;
    sink.set_faults(slow(3000));
    for i in 0..3 {
        send(&web, "slow", &format!("s{i}")).await;
    }
    wait_until("three sends are in DATA at the sink", DEADLINE, || async {
        (sink.stats().data_started >= 5).then_some(())
    })
    .await;

    let status = web.terminate(DEADLINE).await.expect("exited");
    assert!(status.success(), "{status}");
    let logs = web.logs();
    let lost_lines = logs.lines().filter(|l| l.contains("email lost")).count();
    assert_eq!(lost_lines, 5, "{logs}");
    assert!(
        logs.contains(&format!("lost={lost_lines}")),
        "the summary does not count the {lost_lines} lost mails above it:\n{logs}"
    );
    assert!(sink.deliveries().is_empty());
}

#[tokio::test]
async fn past_max_in_flight_the_web_answers_503_and_starts_no_send() {
    let (sink, web) = start(slow(3000), &["--max-in-flight", "3"]).await;
    send_and_wait_in_flight(&sink, &web, 3).await;
    let client = HttpClient::default();
    let answer = client
        .get(&web.url("/you@example.com/over/the-limit"))
        .await
        .unwrap();
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{:?}",
        answer.json
    );
    assert!(
        answer.json["error"]
            .as_str()
            .unwrap_or_default()
            .contains("too many sends in flight"),
        "{:?}",
        answer.json
    );

    // Once the three sends are over, their slots are free again.
    assert!(sink.wait_for(3, DEADLINE).await);
    wait_until("a send slot is free again", DEADLINE, || async {
        let answer = client
            .get(&web.url("/you@example.com/room/again"))
            .await
            .unwrap();
        (answer.status == StatusCode::OK).then_some(())
    })
    .await;
    assert!(sink.wait_for(4, DEADLINE).await);
    let subjects: Vec<String> = sink.deliveries().into_iter().map(|d| d.subject).collect();
    assert!(!subjects.contains(&"over".to_string()), "{subjects:?}");
    assert_eq!(sink.stats().data_started, 4, "a 503 started a send");
}

/// `/dashboard` shows the sends in flight while the mail server is slow, and the mails lost
/// so far when it refuses them.
#[tokio::test]
async fn the_dashboard_shows_sends_in_flight_and_mails_lost() {
    let (sink, web) = start(slow(60_000), &["--max-in-flight", "50"]).await;
    send_and_wait_in_flight(&sink, &web, 3).await;
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
    let (_sink, web) = start(refusing, &[]).await;
    send(&web, "a", "x").await;
    send(&web, "b", "x").await;
    let base = web.url("");
    wait_until("2 mails are lost", DEADLINE, || async {
        let page = DashboardClient::new(&base).get("/dashboard").await;
        (page.tile("lost so far").as_deref() == Some("2")).then_some(())
    })
    .await;
}
