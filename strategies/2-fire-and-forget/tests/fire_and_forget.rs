//! Strategy 2 as a real process: fast answers, and every way it loses mail without a word.

use hyper::StatusCode;
use kit::client::HttpClient;
use kit::testing::{check_bad_requests, ChildProcess};
use mailer::{Faults, Latency, Sink, SinkConfig};
use std::time::Duration;

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

/// Sends `count` mails and waits until the sink is holding all of them in DATA.
async fn send_and_wait_in_flight(sink: &Sink, web: &ChildProcess, count: usize) {
    let client = HttpClient::default();
    for i in 0..count {
        let answer = client
            .get(&web.url(&format!("/you@example.com/m{i}/x")))
            .await
            .unwrap();
        assert_eq!(answer.status, StatusCode::OK);
    }
    for _ in 0..2000 {
        if sink.stats().data_started as usize >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the sends never reached the sink");
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
    assert!(sink.wait_for(1, Duration::from_secs(30)).await);
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
    assert!(
        web.wait_for_log("email lost", Duration::from_secs(20))
            .await
    );
    assert!(sink.deliveries().is_empty());
}

#[tokio::test]
async fn sigkill_loses_every_send_in_flight() {
    let (sink, mut web) = start(slow(1000), &[]).await;
    send_and_wait_in_flight(&sink, &web, 5).await;
    web.kill();
    for _ in 0..1000 {
        if sink.stats().aborted == 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(sink.stats().aborted, 5);
    assert!(sink.deliveries().is_empty(), "five 200s, zero mails");
}

#[tokio::test]
async fn sigterm_abandons_what_does_not_finish_within_the_drain_time() {
    let (sink, mut web) = start(slow(3000), &["--drain-ms", "100"]).await;
    send_and_wait_in_flight(&sink, &web, 3).await;
    let status = web
        .terminate(Duration::from_secs(30))
        .await
        .expect("exited");
    assert!(status.success(), "{status}");
    let logs = web.logs();
    assert!(logs.contains("lost=3"), "{logs}");
    assert!(logs.contains("in-flight sends abandoned"), "{logs}");
}

#[tokio::test]
async fn sigterm_drains_sends_that_finish_in_time() {
    let (sink, mut web) = start(slow(500), &["--drain-ms", "20000"]).await;
    send_and_wait_in_flight(&sink, &web, 3).await;
    let status = web
        .terminate(Duration::from_secs(30))
        .await
        .expect("exited");
    assert!(status.success(), "{status}");
    assert!(web.logs().contains("drained=3"), "{}", web.logs());
    assert_eq!(sink.deliveries().len(), 3);
}

#[tokio::test]
async fn bad_input_is_a_400_and_sends_nothing() {
    let (sink, web) = start(Faults::default(), &[]).await;
    let failures = check_bad_requests(&web.url("")).await;
    assert!(failures.is_empty(), "{failures:#?}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(sink.deliveries().is_empty());
    assert_eq!(sink.stats().data_started, 0);
}
