//! What pub/sub delivers: one copy per subscribed worker, and nothing to a worker that was
//! not listening.

mod common;

use common::*;
use kit::client::HttpClient;
use serde_json::json;
use testkit::ChildProcess;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_web_one_worker_delivers() {
    let redis = redis();
    let sink = sink().await;
    let _worker = worker(&redis, &sink, 0).await;
    let web = web(&redis).await;

    let answer = HttpClient::default()
        .get(&web.url("/you%40example.com/Hello/W%C3%B6rld"))
        .await
        .unwrap();
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    assert_eq!(
        answer.json,
        json!({"email": {"to": "you@example.com", "subject": "Hello", "text": "Wörld"}, "receivers": 1})
    );
    let answer = HttpClient::default()
        .post_json(
            &web.url("/emails"),
            &json!({"to": "body@example.com", "subject": "From a body", "text": "hi"}),
        )
        .await
        .unwrap();
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    assert_eq!(receivers(&answer), 1);

    assert!(sink.wait_for(2, DEADLINE).await, "both mails arrive");
    let deliveries = sink.deliveries();
    assert_eq!(deliveries.len(), 2);
    assert_eq!(
        (deliveries[0].to.as_str(), deliveries[0].text.as_str()),
        ("you@example.com", "Wörld")
    );
    assert_eq!(deliveries[1].subject, "From a body");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_workers_mean_zero_receivers_and_no_mail() {
    let redis = redis();
    let sink = sink().await;
    let web = web(&redis).await;

    // The client is told 200: the lesson is that this 200 promises nothing.
    assert_eq!(publish(&web, "unheard").await, 0);
    expect_log(&web, "nobody is subscribed to emailz").await;

    // A worker that subscribes a moment later hears nothing of it: Redis kept no copy.
    let worker = worker(&redis, &sink, 0).await;
    assert_eq!(publish(&web, "heard").await, 1);
    assert!(sink.wait_for(1, DEADLINE).await, "the later mail arrives");
    assert!(
        !sink.wait_for(2, QUIET_PERIOD).await,
        "nothing else arrives"
    );
    let deliveries = sink.deliveries();
    assert_eq!(deliveries[0].subject, "heard");
    assert_eq!(count_lines(&worker, "Message from Redis!"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_require_receivers_a_mail_nobody_heard_is_a_503() {
    let redis = redis();
    let sink = sink().await;
    let web = ChildProcess::start_http(
        BIN,
        ["--role", "web", "--require-receivers"],
        &[("REDIS_URL", &redis.url())],
    )
    .await
    .expect("starting the web role");

    // Nobody listens: the client is told so, with the reason, and nothing is sent.
    let answer = send(&web, "unheard").await;
    assert_eq!(answer.status, 503, "{:?}", answer.json);
    let error = answer.json["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("no worker is subscribed to emailz"),
        "{:?}",
        answer.json
    );
    expect_log(&web, "the client was told 503").await;

    // Once a worker listens, the same web front answers 200 and the mail arrives.
    let _worker = worker(&redis, &sink, 0).await;
    assert_eq!(publish(&web, "heard").await, 1);
    assert!(sink.wait_for(1, DEADLINE).await, "the heard mail arrives");
    assert!(
        !sink.wait_for(2, QUIET_PERIOD).await,
        "the refused mail is never sent"
    );
    assert_eq!(sink.deliveries()[0].subject, "heard");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_deliver_every_mail_twice() {
    let redis = redis();
    let sink = sink().await;
    let _first = worker(&redis, &sink, 0).await;
    let _second = worker(&redis, &sink, 0).await;
    let web = web(&redis).await;

    let subjects: Vec<String> = (0..5).map(|i| format!("broadcast{i}")).collect();
    for subject in &subjects {
        assert_eq!(publish(&web, subject).await, 2, "both workers hear it");
    }
    assert!(sink.wait_for(10, DEADLINE).await, "two copies of each");
    assert!(!sink.wait_for(11, QUIET_PERIOD).await, "and no third");
    let copies = copies(&sink.deliveries());
    for subject in &subjects {
        assert_eq!(copies.get(subject), Some(&2), "{subject}: {copies:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_all_runs_the_whole_demo_with_a_private_redis() {
    let sink = sink().await;
    // No REDIS_URL: the process starts its own redis-server.
    let mut demo =
        ChildProcess::start_http(BIN, ["--throttle-ms", "0"], &[("SMTP_URL", &sink.url())])
            .await
            .unwrap();
    assert_eq!(publish(&demo, "demo").await, 1);
    assert!(sink.wait_for(1, DEADLINE).await);

    let logs = demo.logs();
    let port: u16 = logs
        .split("url=redis://127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("the private Redis is logged:\n{logs}"));
    assert!(kit::redis_server::ping(port));
    let status = demo.terminate(DEADLINE).await.expect("exits on SIGTERM");
    assert!(status.success(), "{status:?}\n{}", demo.logs());
    assert!(
        eventually(DEADLINE, || !kit::redis_server::ping(port)).await,
        "the private redis-server stops with the demo"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_roles_require_redis_url() {
    for role in ["web", "worker"] {
        let mut process = ChildProcess::start(BIN, ["--role", role], &[]).unwrap();
        assert!(
            eventually(DEADLINE, || process.try_wait().is_some()).await,
            "--role {role} without REDIS_URL exits"
        );
        let status = process.try_wait().unwrap();
        assert!(!status.success());
        assert!(
            process.logs().contains("need REDIS_URL"),
            "{}",
            process.logs()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_all_exits_when_its_port_is_taken() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let mut demo = ChildProcess::start(BIN, ["--port", &port], &[]).unwrap();
    assert!(
        eventually(DEADLINE, || demo.try_wait().is_some()).await,
        "still running without its web front:\n{}",
        demo.logs()
    );
    assert!(!demo.try_wait().unwrap().success());
    assert!(demo.logs().contains("cannot listen"), "{}", demo.logs());
}
