//! Strategy 1 as a real process, driven over HTTP, sending to a real SMTP sink.

use hyper::StatusCode;
use kit::client::HttpClient;
use mailer::{Faults, Sink, SinkConfig};
use serde_json::json;
use std::time::Duration;
use testkit::{check_bad_requests, wait_until, ChildProcess};

/// Ends a stuck test; never what makes one pass (CI is a loaded 2-core machine).
const DEADLINE: Duration = Duration::from_secs(30);

async fn start(faults: Faults) -> (Sink, ChildProcess) {
    let sink = Sink::start_local(SinkConfig {
        faults,
        ..SinkConfig::default()
    })
    .await
    .unwrap();
    let web = ChildProcess::start_http(
        env!("CARGO_BIN_EXE_strategy-1"),
        [] as [&str; 0],
        &[("SMTP_URL", &sink.url())],
    )
    .await
    .unwrap();
    (sink, web)
}

#[tokio::test]
async fn answers_200_only_after_the_server_accepted_the_mail() {
    let (sink, web) = start(Faults::default()).await;
    let answer = HttpClient::default()
        .get(&web.url("/you@example.com/Hello/World"))
        .await
        .unwrap();
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.json["email"],
        json!({"to": "you@example.com", "subject": "Hello", "text": "World"})
    );
    // Already there when the answer came: the send happened inside the request.
    let deliveries = sink.deliveries();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(answer.json["message_id"], json!(deliveries[0].message_id));
    assert!(
        web.wait_for_log("Sent an email to you@example.com", DEADLINE)
            .await
    );
}

#[tokio::test]
async fn post_emails_does_the_same() {
    let (sink, web) = start(Faults::default()).await;
    let answer = HttpClient::default()
        .post_json(
            &web.url("/emails"),
            &json!({"to": "you@example.com", "subject": "Posted", "text": "Body"}),
        )
        .await
        .unwrap();
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(sink.deliveries()[0].subject, "Posted");
}

#[tokio::test]
async fn an_smtp_failure_is_a_502_with_the_error_and_never_logged_as_sent() {
    let (sink, web) = start(Faults {
        failure_rate: 1.0,
        ..Faults::default()
    })
    .await;
    let client = HttpClient::default();
    let answer = client
        .get(&web.url("/you@example.com/Hello/World"))
        .await
        .unwrap();
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY);
    let error = answer.json["error"].as_str().unwrap();
    assert!(
        error.contains("transient") && error.contains("451"),
        "{error}"
    );

    sink.set_faults(Faults {
        permanent_failure_rate: 1.0,
        ..Faults::default()
    });
    let answer = client
        .get(&web.url("/you@example.com/Hello/World"))
        .await
        .unwrap();
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY);
    assert!(answer.json["error"].as_str().unwrap().contains("554"));

    assert!(sink.deliveries().is_empty());
    assert!(web.wait_for_log("sending failed", DEADLINE).await);
    assert!(!web.logs().contains("Sent an email"));
}

#[tokio::test]
async fn bad_input_is_a_400_and_sends_nothing() {
    let (sink, web) = start(Faults::default()).await;
    let failures = check_bad_requests(&web.url("")).await;
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(sink.deliveries().is_empty());
    // And the process is still serving.
    let client = HttpClient::default();
    assert_eq!(
        client.get(&web.url("/healthz")).await.unwrap().status,
        StatusCode::OK
    );
    assert_eq!(
        client.get(&web.url("/favicon.ico")).await.unwrap().status,
        StatusCode::NOT_FOUND
    );
    assert!(sink.deliveries().is_empty(), "the favicon became a mail");
    // Nothing runs in the background here, so there is no dashboard: a 404 that says so,
    // not an email to a recipient called "dashboard".
    let dashboard = client.get(&web.url("/dashboard")).await.unwrap();
    assert_eq!(dashboard.status, StatusCode::NOT_FOUND);
    assert_eq!(dashboard.json["error"], "this strategy has no dashboard");
    assert!(sink.deliveries().is_empty(), "/dashboard became a mail");
}

#[tokio::test]
async fn sigterm_finishes_the_send_a_client_is_waiting_for() {
    let (sink, web) = start(Faults {
        latency: mailer::Latency::fixed(500),
        ..Faults::default()
    })
    .await;
    let url = web.url("/you@example.com/Slow/World");
    let request = tokio::spawn(async move { HttpClient::default().get(&url).await });
    wait_until("the message is in DATA at the sink", DEADLINE, || async {
        (sink.stats().data_started > 0).then_some(())
    })
    .await;
    let mut web = web;
    let status = web.terminate(DEADLINE).await.expect("exited");
    assert!(status.success(), "{status}");
    assert_eq!(request.await.unwrap().unwrap().status, StatusCode::OK);
    assert_eq!(sink.deliveries().len(), 1);
}

#[tokio::test]
async fn without_smtp_url_the_demo_starts_its_own_sink_and_logs_the_delivery() {
    let web = ChildProcess::start_http(env!("CARGO_BIN_EXE_strategy-1"), [] as [&str; 0], &[])
        .await
        .unwrap();
    let answer = HttpClient::default()
        .get(&web.url("/you@example.com/Hello/World"))
        .await
        .unwrap();
    assert_eq!(answer.status, StatusCode::OK);
    assert!(web.logs().contains("started the embedded mail sink"));
    assert!(
        web.wait_for_log("mail delivered", DEADLINE).await,
        "{}",
        web.logs()
    );
}

#[tokio::test]
async fn sigterm_still_stops_it_when_nobody_reads_its_output() {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    use std::process::{Command, Stdio};

    let port = kit::redis_server::free_port();
    let mut web = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_strategy-1"))
            .args(["--port", &port.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = HttpClient::default();
    wait_until("it answers /healthz", DEADLINE, || async {
        let answer = client.get(&format!("{base}/healthz")).await.ok()?;
        (answer.status == StatusCode::OK).then_some(())
    })
    .await;

    // The reader goes away, as `| head` does: every log line from now on hits a broken pipe.
    drop(web.0.stdout.take());
    drop(web.0.stderr.take());
    let answer = client
        .get(&format!("{base}/you@example.com/Hello/World"))
        .await
        .unwrap();
    assert_eq!(answer.status, StatusCode::OK);

    kill(Pid::from_raw(web.0.id() as i32), Signal::SIGTERM).unwrap();
    let status = wait_until("it exits after SIGTERM", DEADLINE, || {
        let exited = web.0.try_wait().unwrap();
        async move { exited }
    })
    .await;
    assert!(status.success(), "{status}");
}

/// Kills the process if the test ends early, so no server is left behind.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
