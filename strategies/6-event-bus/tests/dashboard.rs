//! `/dashboard` of the web role over real Redis, the real sink and real consumer processes,
//! on both backends: the groups page shows each partition's head, the group's position,
//! lag and lease holder; dead letters are listed (their payload's markup as text), a retry
//! publishes the event again and it is sent, a replay makes the group read again; bad
//! forms, unknown letters and a missing token are 4xx and change nothing.

mod common;

use common::DEADLINE;
use kit::client::HttpClient;
use kit::RedisServer;
use mailer::{Faults, Sink, SinkConfig};
use std::time::Duration;
use testkit::dashboard::encode_form;
use testkit::{wait_until, ChildProcess, DashboardClient};

const BIN: &str = env!("CARGO_BIN_EXE_strategy-6");

struct Running {
    _redis: RedisServer,
    sink: Sink,
    web: ChildProcess,
    consumer: ChildProcess,
}

/// A web role and a `mailer` consumer on `backend`, with a sink that refuses every mail
/// for now and one attempt per event, so each mail becomes a dead letter.
async fn start(backend: &str) -> Running {
    let redis = RedisServer::start().unwrap();
    let failing = Faults {
        failure_rate: 1.0,
        ..Faults::default()
    };
    let sink = Sink::start_local(SinkConfig {
        faults: failing,
        ..SinkConfig::default()
    })
    .await
    .unwrap();
    let envs = [("REDIS_URL", redis.url()), ("SMTP_URL", sink.url())];
    let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let web = ChildProcess::start_http(BIN, ["--role", "web", "--backend", backend], &envs)
        .await
        .unwrap();
    let consumer_args = [
        "--role",
        "consumer",
        "--backend",
        backend,
        "--max-attempts",
        "1",
    ];
    let consumer = ChildProcess::start(BIN, consumer_args, &envs).unwrap();
    assert!(
        consumer.wait_for_log("consumer ready", DEADLINE).await,
        "{}",
        consumer.logs()
    );
    Running {
        _redis: redis,
        sink,
        web,
        consumer,
    }
}

async fn parked(web: &ChildProcess) -> serde_json::Value {
    let client = HttpClient::new(Duration::from_secs(5));
    client.get(&web.url("/parked")).await.unwrap().json["count"].clone()
}

/// Sends mails whose text carries markup, and waits until each is a dead letter.
async fn dead_letters(run: &Running, n: usize) {
    let client = HttpClient::new(Duration::from_secs(5));
    for i in 0..n {
        let path = format!("/user{i}@example.com/hi/%3Cb%3Ebold{i}%3C%2Fb%3E");
        let answer = client.get(&run.web.url(&path)).await.unwrap();
        assert_eq!(answer.status, 200, "{}", answer.json);
    }
    wait_until("every mail is a dead letter", DEADLINE, || async {
        (parked(&run.web).await == n).then_some(())
    })
    .await;
}

async fn pages_show_the_groups_and_dead_letters(backend: &str) {
    let run = start(backend).await;
    dead_letters(&run, 2).await;
    let mut browser = DashboardClient::new(&run.web.url(""));
    let groups = browser.get("/dashboard").await;
    assert_eq!(groups.status, 200, "{}", groups.body);
    let member = run
        .consumer
        .logs()
        .split("member ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_owned();
    for text in [
        "<b>mailer</b>",
        backend,
        &format!("<code>{member}</code>"),
        "Replay from start",
    ] {
        assert!(
            groups.body.contains(text),
            "groups page lacks {text:?}: {}",
            groups.body
        );
    }
    // Every event was handled (parked counts as handled): no partition shows lag.
    let lags: Vec<&str> = groups
        .body
        .split("<td class=\"num lag\">")
        .skip(1)
        .map(|rest| rest.split('<').next().unwrap())
        .collect();
    assert_eq!(lags, ["0"; 4], "{}", groups.body);
    let dead = browser.get("/dashboard/dead").await;
    assert_eq!(dead.status, 200);
    assert!(
        dead.body.contains("&lt;b&gt;bold0&lt;/b&gt;"),
        "{}",
        dead.body
    );
    assert!(
        !dead.body.contains("<b>bold"),
        "a payload's markup is rendered"
    );
    let retention = browser.get("/dashboard/retention").await;
    assert!(
        retention.body.contains("first retained"),
        "{}",
        retention.body
    );
    assert_eq!(browser.get("/dashboard/nothing").await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_show_the_groups_and_dead_letters_on_lists() {
    pages_show_the_groups_and_dead_letters("lists").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_show_the_groups_and_dead_letters_on_streams() {
    pages_show_the_groups_and_dead_letters("streams").await;
}

async fn retry_sends_a_dead_letter_and_replay_reads_again(backend: &str) {
    let run = start(backend).await;
    dead_letters(&run, 2).await;
    run.sink.set_faults(Faults::default());
    let mut browser = DashboardClient::new(&run.web.url(""));
    let dead = browser.get("/dashboard/dead").await;
    let retry = dead.form_fields("/dashboard/dead/retry");
    let done = browser
        .post_form("/dashboard/dead/retry", &encode_form(&retry))
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(
        run.sink.wait_for(1, DEADLINE).await,
        "the retried event was not sent"
    );
    assert_eq!(
        parked(&run.web).await,
        1,
        "the retried letter is still parked"
    );
    // The same form again: that letter is gone, so nothing is published.
    let again = browser
        .post_form("/dashboard/dead/retry", &encode_form(&retry))
        .await;
    assert_eq!(again.status, 404, "{}", again.body);

    // Replay the other letter's partition from its event: the group reads it again.
    let dead = browser.get("/dashboard/dead").await;
    let done = browser.submit(&dead, "/dashboard/replay").await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(
        run.sink.wait_for(2, DEADLINE).await,
        "the replayed event was not sent"
    );
    assert_eq!(run.sink.deliveries().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_sends_a_dead_letter_and_replay_reads_again_on_lists() {
    retry_sends_a_dead_letter_and_replay_reads_again("lists").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_sends_a_dead_letter_and_replay_reads_again_on_streams() {
    retry_sends_a_dead_letter_and_replay_reads_again("streams").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_actions_are_refused_and_change_nothing() {
    let run = start("lists").await;
    dead_letters(&run, 1).await;
    run.sink.set_faults(Faults::default());
    let mut browser = DashboardClient::new(&run.web.url(""));
    let dead = browser.get("/dashboard/dead").await;
    let fields = dead.form_fields("/dashboard/dead/retry");
    let with = |name: &str, value: &str| {
        let mut changed = fields.clone();
        changed.retain(|(n, _)| n != name);
        if !value.is_empty() {
            changed.push((name.to_owned(), value.to_owned()));
        }
        encode_form(&changed)
    };
    let cases = [
        ("/dashboard/dead/retry", with("index", "7"), 404),
        ("/dashboard/dead/retry", with("position", "99"), 404),
        ("/dashboard/dead/retry", with("index", "first"), 400),
        ("/dashboard/dead/retry", with("partition", "-1"), 400),
        ("/dashboard/dead/retry", with("partition", "99"), 400),
        ("/dashboard/dead/retry", with("group", ""), 400),
        ("/dashboard/dead/retry", with("token", ""), 403),
        ("/dashboard/replay", with("to", "yesterday"), 400),
        ("/dashboard/replay", with("partition", "99"), 400),
        ("/dashboard/nothing", with("index", "0"), 404),
    ];
    for (path, body, status) in cases {
        let page = browser.post_form(path, &body).await;
        assert_eq!(page.status, status, "{path} {body}: {}", page.body);
    }
    assert_eq!(
        parked(&run.web).await,
        1,
        "a refused action changed the dead letters"
    );
    assert!(
        run.sink.deliveries().is_empty(),
        "a refused action sent mail"
    );
}

/// The web role's dashboard acts on the log: beyond loopback it does not start without a
/// token, and says which flag is missing.
#[tokio::test]
async fn a_web_role_beyond_loopback_needs_an_admin_token() {
    let redis = RedisServer::start().unwrap();
    // A documentation address (TEST-NET-1): not loopback, and not this machine's.
    let mut web = ChildProcess::start(
        BIN,
        ["--role", "web", "--host", "192.0.2.1", "--port", "0"],
        &[("REDIS_URL", &redis.url())],
    )
    .unwrap();
    let status = wait_until("the web role exits", DEADLINE, || {
        let exited = web.try_wait();
        async move { exited }
    })
    .await;
    assert!(!status.success(), "{}", web.logs());
    assert!(web.logs().contains("--admin-token"), "{}", web.logs());
}
