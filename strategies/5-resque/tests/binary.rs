//! The `strategy-5` binary as a real child process: the demo, the admin API, the failed
//! list and its retry, the Retry plugin, a graceful SIGTERM, and split roles riding out a
//! Redis restart.

mod common;

use common::{sink, DEADLINE};
use kit::client::HttpClient;
use kit::{RedisOptions, RedisServer};
use mailer::{Faults, Latency, Sink};
use serde_json::json;
use std::time::Duration;
use testkit::{wait_until, ChildProcess};

const BIN: &str = env!("CARGO_BIN_EXE_strategy-5");

fn failing() -> Faults {
    Faults {
        failure_rate: 1.0,
        ..Faults::default()
    }
}

async fn start(redis: &RedisServer, sink: &Sink, extra: &[&str]) -> ChildProcess {
    let mut args = vec!["--role", "all"];
    args.extend_from_slice(extra);
    ChildProcess::start_http(
        BIN,
        args,
        &[("REDIS_URL", &redis.url()), ("SMTP_URL", &sink.url())],
    )
    .await
    .unwrap()
}

/// Redis, a sink that takes `latency_ms` per mail, and the binary with one worker slot, once
/// that slot takes jobs.
async fn one_slot(latency_ms: u64) -> (RedisServer, Sink, ChildProcess) {
    let redis = RedisServer::start().unwrap();
    let sink = sink(Faults {
        latency: Latency::fixed(latency_ms),
        ..Faults::default()
    })
    .await;
    let app = start(&redis, &sink, &["--min", "1", "--max", "1"]).await;
    assert!(
        app.wait_for_log("worker ready", DEADLINE).await,
        "{}",
        app.logs()
    );
    (redis, sink, app)
}

async fn wait_json(
    client: &HttpClient,
    url: &str,
    check: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    wait_until(&format!("{url} matches"), DEADLINE, || async {
        let answer = client.get(url).await.ok()?;
        check(&answer.json).then_some(answer.json)
    })
    .await
}

#[tokio::test]
async fn demo_enqueues_and_the_worker_sends() {
    let redis = RedisServer::start().unwrap();
    let sink = sink(Faults::default()).await;
    let app = start(&redis, &sink, &[]).await;
    assert!(
        app.wait_for_log("worker ready", DEADLINE).await,
        "{}",
        app.logs()
    );
    let client = HttpClient::new(Duration::from_secs(5));
    let answer = client
        .get(&app.url("/ada@example.com/Hello/World"))
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.json["email"],
        json!({"to":"ada@example.com","subject":"Hello","text":"World"})
    );
    assert_eq!(
        answer.json["job"],
        json!({"class":"sendEmail","queue":"emailQueue","args":[{"to":"ada@example.com","subject":"Hello","text":"World"}]})
    );
    assert!(sink.wait_for(1, DEADLINE).await);
    assert_eq!(sink.deliveries()[0].to, "ada@example.com");
    assert!(
        app.wait_for_log("job success emailQueue", DEADLINE).await,
        "{}",
        app.logs()
    );

    let stats = wait_json(&client, &app.url("/resque/stats"), |s| {
        s["stats"]["processed"] == 1
    })
    .await;
    assert_eq!(stats["queues"]["emailQueue"], 0);
    assert!(stats["multi_worker"]["slots"].as_u64().unwrap() >= 1);
    let workers = client.get(&app.url("/resque/workers")).await.unwrap();
    assert_eq!(
        workers.json["workers"].as_object().unwrap().len() as u64,
        stats["multi_worker"]["slots"].as_u64().unwrap()
    );
    assert_eq!(
        client.get(&app.url("/resque/queues")).await.unwrap().json,
        json!({"queues": {"emailQueue": 0}})
    );
    assert_eq!(
        client.get(&app.url("/resque/delayed")).await.unwrap().json,
        json!({"delayed": {}})
    );
    assert_eq!(
        client.get(&app.url("/resque/nope")).await.unwrap().status,
        404
    );
    // Bad input is the web front's 400, never a job.
    assert_eq!(
        client
            .get(&app.url("/not-an-address/x/y"))
            .await
            .unwrap()
            .status,
        400
    );
}

#[tokio::test]
async fn failed_list_fills_when_the_sink_fails_and_retry_empties_it() {
    let redis = RedisServer::start().unwrap();
    let sink = sink(failing()).await;
    let app = start(&redis, &sink, &[]).await;
    let client = HttpClient::new(Duration::from_secs(5));
    for i in 0..3 {
        let answer = client
            .get(&app.url(&format!("/u{i}@example.com/s/t")))
            .await
            .unwrap();
        assert_eq!(answer.status, 200);
    }
    let failed = wait_json(&client, &app.url("/resque/failed"), |f| f["count"] == 3).await;
    assert_eq!(failed["failed"][0]["exception"], "SMTPError");
    assert_eq!(failed["failed"][0]["queue"], "emailQueue");
    assert_eq!(failed["failed"][0]["payload"]["class"], "sendEmail");

    sink.set_faults(Faults::default());
    let one = client
        .post_json(&app.url("/resque/failed/retry"), &json!({"index": 0}))
        .await
        .unwrap();
    assert_eq!(one.json, json!({"retried": 1}));
    assert!(sink.wait_for(1, DEADLINE).await);
    let rest = client
        .post_json(&app.url("/resque/failed/retry"), &json!({}))
        .await
        .unwrap();
    assert_eq!(rest.json, json!({"retried": 2}));
    assert!(sink.wait_for(3, DEADLINE).await);
    wait_json(&client, &app.url("/resque/failed"), |f| f["count"] == 0).await;
    let bad = client
        .post_json(&app.url("/resque/failed/retry"), &json!({"index": 7}))
        .await
        .unwrap();
    assert_eq!(bad.status, 404, "{}", bad.json);
    assert!(bad.json["error"].is_string());
    // Not an object: refused, rather than read as {} (retry all).
    let not_object = client
        .post_json(&app.url("/resque/failed/retry"), &json!([0]))
        .await
        .unwrap();
    assert_eq!(not_object.status, 400, "{}", not_object.json);
    let wrong_method = client.get(&app.url("/resque/failed/retry")).await.unwrap();
    assert_eq!(wrong_method.status, 405, "{}", wrong_method.json);
}

/// `GET /parked` is how the load harness learns what was parked: the mails in `failed`, and
/// nothing that is not a mail.
#[tokio::test]
async fn parked_lists_the_mails_of_the_failed_list() {
    let redis = RedisServer::start().unwrap();
    let sink = sink(failing()).await;
    let app = start(&redis, &sink, &[]).await;
    let client = HttpClient::new(Duration::from_secs(5));
    let empty = client.get(&app.url("/parked")).await.unwrap();
    assert_eq!(empty.json, json!({"count": 0, "parked": []}));
    for i in 0..2 {
        let answer = client
            .get(&app.url(&format!("/u{i}@example.com/parked%20{i}/t")))
            .await
            .unwrap();
        assert_eq!(answer.status, 200);
    }
    wait_json(&client, &app.url("/resque/failed"), |f| f["count"] == 2).await;
    // A failed job of another class, whose argument is not a mail, is not parked mail.
    let mut redis_conn = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let foreign = json!({"worker": "x:1:q", "queue": "q", "payload": {"class": "other", "queue": "q", "args": [7]},
                         "exception": "E", "error": "e", "backtrace": [], "failed_at": "now"});
    let _: () = redis::cmd("RPUSH")
        .arg("resque:failed")
        .arg(foreign.to_string())
        .query_async(&mut redis_conn)
        .await
        .unwrap();
    let parked = client.get(&app.url("/parked")).await.unwrap();
    assert_eq!(parked.status, 200);
    assert_eq!(parked.json["count"], 2, "{}", parked.json);
    let mut subjects: Vec<&str> = parked.json["parked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|email| email["subject"].as_str().unwrap())
        .collect();
    subjects.sort();
    assert_eq!(subjects, ["parked 0", "parked 1"]);
}

#[tokio::test]
async fn retry_plugin_keeps_failures_out_of_the_failed_list() {
    let redis = RedisServer::start().unwrap();
    let sink = sink(failing()).await;
    let app = start(
        &redis,
        &sink,
        &[
            "--retry",
            "5",
            "--retry-delay-ms",
            "300",
            "--scheduler-poll-ms",
            "100",
        ],
    )
    .await;
    let client = HttpClient::new(Duration::from_secs(5));
    assert_eq!(
        client
            .get(&app.url("/grace@example.com/s/t"))
            .await
            .unwrap()
            .status,
        200
    );
    assert!(
        app.wait_for_log("reEnqueue job (retry)", DEADLINE).await,
        "{}",
        app.logs()
    );
    sink.set_faults(Faults::default());
    assert!(sink.wait_for(1, DEADLINE).await, "{}", app.logs());
    let failed = client.get(&app.url("/resque/failed")).await.unwrap();
    assert_eq!(failed.json["count"], 0);
    let stats = client.get(&app.url("/resque/stats")).await.unwrap();
    assert!(stats.json["stats"]["failed"].as_u64().unwrap() >= 1);
}

#[tokio::test]
async fn retry_plugin_sends_a_permanent_smtp_refusal_straight_to_failed() {
    let redis = RedisServer::start().unwrap();
    let sink = sink(Faults {
        permanent_failure_rate: 1.0,
        ..Faults::default()
    })
    .await;
    let app = start(&redis, &sink, &["--retry", "5", "--retry-delay-ms", "300"]).await;
    let client = HttpClient::new(Duration::from_secs(5));
    let answer = client.get(&app.url("/ada@example.com/s/t")).await.unwrap();
    assert_eq!(answer.status, 200);
    let failed = wait_json(&client, &app.url("/resque/failed"), |f| f["count"] == 1).await;
    assert_eq!(failed["failed"][0]["exception"], "SMTPError");
    // A retry would have been logged before the failure that filled the list.
    assert!(!app.logs().contains("reEnqueue"), "{}", app.logs());
    assert_eq!(
        client.get(&app.url("/resque/delayed")).await.unwrap().json,
        json!({"delayed": {}})
    );
}

#[tokio::test]
async fn sigterm_finishes_the_running_job_and_unregisters() {
    let redis = RedisServer::start().unwrap();
    let sink = sink(Faults {
        latency: Latency::fixed(1500),
        ..Faults::default()
    })
    .await;
    let mut worker = ChildProcess::start(
        BIN,
        ["--role", "worker", "--max", "1"],
        &[
            ("REDIS_URL", redis.url().as_str()),
            ("SMTP_URL", sink.url().as_str()),
        ],
    )
    .unwrap();
    assert!(
        worker.wait_for_log("worker ready", DEADLINE).await,
        "{}",
        worker.logs()
    );
    let queue = strategy_5::Queue::connect(&redis.url()).await.unwrap();
    queue
        .enqueue(
            "emailQueue",
            "sendEmail",
            vec![json!({"to":"slow@example.com","subject":"s","text":"t"})],
        )
        .await
        .unwrap();
    assert!(
        worker.wait_for_log("working job", DEADLINE).await,
        "{}",
        worker.logs()
    );
    let status = worker
        .terminate(Duration::from_secs(20))
        .await
        .expect("exited");
    assert!(status.success(), "{status:?}\n{}", worker.logs());
    assert_eq!(sink.deliveries().len(), 1, "{}", worker.logs());
    assert!(worker.logs().contains("job success"));
    assert!(queue.workers().await.unwrap().is_empty());
    assert_eq!(queue.failed_count().await.unwrap(), 0);
}

#[tokio::test]
async fn split_roles_carry_on_after_a_redis_restart() {
    let mut redis = RedisServer::start_with(RedisOptions {
        aof: true,
        ..RedisOptions::default()
    })
    .unwrap();
    let sink = sink(Faults::default()).await;
    let envs = [
        ("REDIS_URL", redis.url()),
        ("SMTP_URL", sink.url().to_string()),
    ];
    let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let worker = ChildProcess::start(BIN, ["--role", "worker", "--max", "2"], &envs).unwrap();
    let web = ChildProcess::start_http(BIN, ["--role", "web"], &envs)
        .await
        .unwrap();
    assert!(
        worker.wait_for_log("worker ready", DEADLINE).await,
        "{}",
        worker.logs()
    );
    let client = HttpClient::new(Duration::from_secs(5));
    let before = client
        .get(&web.url("/before@example.com/s/t"))
        .await
        .unwrap();
    assert_eq!(before.status, 200);
    assert!(sink.wait_for(1, DEADLINE).await, "{}", worker.logs());

    redis.restart().unwrap();
    // The web front answers 503 until its connection is back, then enqueues again; the
    // worker, whose blocking pop broke with the old server, must pick the job up.
    wait_until("the web front enqueues again", DEADLINE, || async {
        let answer = client.get(&web.url("/after@example.com/s/t")).await.ok()?;
        (answer.status == 200).then_some(())
    })
    .await;
    wait_until("the mail sent after the restart", DEADLINE, || async {
        sink.deliveries()
            .iter()
            .any(|d| d.to == "after@example.com")
            .then_some(())
    })
    .await;
    assert!(!worker.logs().contains("panicked"), "{}", worker.logs());
}

/// A worker waiting for work is not news: at the default level the log says what happened
/// to each job, not that the worker paused again after every burst of jobs.
#[tokio::test]
async fn bursts_of_jobs_log_no_pause_lines_at_the_default_level() {
    let (_redis, sink, app) = one_slot(200).await;
    let client = HttpClient::new(Duration::from_secs(5));
    for burst in 0..3 {
        // The second job of a burst waits while the first is sent: the worker takes it
        // without waiting, then goes idle again.
        for i in 0..2 {
            let answer = client
                .get(&app.url(&format!("/b{burst}-{i}@example.com/s/t")))
                .await
                .unwrap();
            assert_eq!(answer.status, 200);
        }
        assert!(
            sink.wait_for(2 * (burst + 1), DEADLINE).await,
            "{}",
            app.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let logs = app.logs();
    assert_eq!(logs.matches("worker paused").count(), 0, "{logs}");
    assert_eq!(logs.matches("worker polling").count(), 0, "{logs}");
}

/// `/resque/stats` speaks in numbers, and each name means one thing: `stats.failed` counts
/// the jobs that have failed (retried attempts too), `failed_entries` is how many entries
/// the failed list holds now.
#[tokio::test]
async fn stats_are_numbers_and_each_name_has_one_meaning() {
    let redis = RedisServer::start().unwrap();
    let sink = sink(failing()).await;
    let app = start(&redis, &sink, &["--min", "1", "--max", "1"]).await;
    let client = HttpClient::new(Duration::from_secs(5));
    for i in 0..2 {
        let answer = client
            .get(&app.url(&format!("/u{i}@example.com/s/t")))
            .await
            .unwrap();
        assert_eq!(answer.status, 200);
    }
    wait_json(&client, &app.url("/resque/failed"), |f| f["count"] == 2).await;
    // Retried and failed again: one more failure, still two entries.
    let retried = client
        .post_json(&app.url("/resque/failed/retry"), &json!({"index": 0}))
        .await
        .unwrap();
    assert_eq!(retried.json, json!({"retried": 1}));
    let stats = wait_json(&client, &app.url("/resque/stats"), |s| {
        s["stats"]["failed"] == 3
    })
    .await;
    for (name, value) in stats["stats"].as_object().unwrap() {
        assert!(
            value.is_i64(),
            "stats.{name} is {value}, not a number: {stats}"
        );
    }
    assert_eq!(stats["failed_entries"], 2, "{stats}");
    assert!(stats.get("failed").is_none(), "{stats}");
    assert_eq!(stats["workers"], 1, "{stats}");
}

/// `/resque/workers`: an idle worker works on nothing (null), a busy one on its job, and
/// when each started is a time of its own.
#[tokio::test]
async fn idle_workers_work_on_nothing_and_show_when_they_started() {
    let (_redis, _sink, app) = one_slot(1500).await;
    let client = HttpClient::new(Duration::from_secs(5));
    let url = app.url("/resque/workers");
    let idle = client.get(&url).await.unwrap().json;
    let workers = idle["workers"].as_object().unwrap();
    assert_eq!(workers.len(), 1, "{idle}");
    for worker in workers.values() {
        assert_eq!(worker["working_on"], serde_json::Value::Null, "{idle}");
        let started = worker["started_at"].as_str().unwrap_or_default();
        assert!(
            chrono::DateTime::parse_from_rfc3339(started).is_ok(),
            "started_at is not a time: {idle}"
        );
    }
    let answer = client.get(&app.url("/ada@example.com/s/t")).await.unwrap();
    assert_eq!(answer.status, 200);
    let busy = wait_json(&client, &url, |w| {
        w["workers"]
            .as_object()
            .is_some_and(|all| all.values().any(|w| w["working_on"].is_object()))
    })
    .await;
    let worker = busy["workers"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap();
    assert_eq!(
        worker["working_on"]["payload"]["class"], "sendEmail",
        "{busy}"
    );
    assert_eq!(
        worker["started_at"],
        workers.values().next().unwrap()["started_at"]
    );
}

/// Request headers, name and value.
type Headers<'a> = &'a [(&'a str, &'a str)];

/// A POST to `path` with exactly these headers, over a plain socket (the test client adds
/// its own): the status and the JSON answer.
async fn raw_post(
    base: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, serde_json::Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let authority = base.strip_prefix("http://").unwrap().trim_end_matches('/');
    let mut stream = tokio::net::TcpStream::connect(authority).await.unwrap();
    let mut request = format!("POST {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let status = answer.split(' ').nth(1).unwrap().parse().unwrap();
    let json = answer
        .split_once("\r\n\r\n")
        .and_then(|(_, body)| serde_json::from_str(body).ok())
        .unwrap_or_default();
    (status, json)
}

/// A page open in an operator's browser must not retry the failed list: a POST from
/// another origin, or one whose body is not declared JSON, is refused and changes nothing.
/// The server's own origin, with a JSON body, still retries.
#[tokio::test]
async fn admin_posts_from_other_origins_or_without_json_are_refused() {
    let redis = RedisServer::start().unwrap();
    let sink = sink(failing()).await;
    let app = start(&redis, &sink, &["--min", "1", "--max", "1"]).await;
    let client = HttpClient::new(Duration::from_secs(5));
    let answer = client.get(&app.url("/u@example.com/s/t")).await.unwrap();
    assert_eq!(answer.status, 200);
    wait_json(&client, &app.url("/resque/failed"), |f| f["count"] == 1).await;
    let base = app.url("");
    let own = format!("http://127.0.0.1:{}", app.port.unwrap());
    let cases: [(Headers, &str, u16); 5] = [
        // The request from the defect: what any page can send without asking.
        (
            &[
                ("Content-Type", "text/plain"),
                ("Origin", "http://evil.example"),
            ],
            "",
            403,
        ),
        (
            &[
                ("Content-Type", "application/json"),
                ("Origin", "http://evil.example"),
            ],
            "{}",
            403,
        ),
        (&[("Content-Type", "text/plain")], "{}", 415),
        (&[], "{}", 415),
        (&[("Content-Type", "application/json")], "", 400),
    ];
    for (headers, body, status) in cases {
        let (got, json) = raw_post(&base, "/resque/failed/retry", headers, body).await;
        assert_eq!(got, status, "{headers:?} {body:?}: {json}");
        assert!(json["error"].is_string(), "{headers:?}: {json}");
    }
    assert_eq!(
        client.get(&app.url("/resque/failed")).await.unwrap().json["count"],
        1,
        "a refused request changed the failed list"
    );
    let headers = [
        ("Content-Type", "application/json"),
        ("Origin", own.as_str()),
    ];
    let (got, json) = raw_post(&base, "/resque/failed/retry", &headers, "{}").await;
    assert_eq!((got, json), (200, json!({"retried": 1})));
}

/// With `--admin-token`, an admin POST needs it; GETs from this machine stay open. Without a
/// token the web role does not start on an address beyond loopback.
#[tokio::test]
async fn admin_token_guards_posts_and_is_required_beyond_loopback() {
    let redis = RedisServer::start().unwrap();
    // A documentation address (TEST-NET-1): not loopback, and not this machine's, so the
    // process could not listen there even if it tried.
    let mut open = ChildProcess::start(
        BIN,
        ["--role", "web", "--host", "192.0.2.1", "--port", "0"],
        &[("REDIS_URL", &redis.url())],
    )
    .unwrap();
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = open.try_wait() {
            break status;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "still running: {}",
            open.logs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(!status.success(), "{}", open.logs());
    assert!(open.logs().contains("--admin-token"), "{}", open.logs());

    let app = ChildProcess::start_http(
        BIN,
        ["--role", "web"],
        &[("REDIS_URL", &redis.url()), ("ADMIN_TOKEN", "s3cret")],
    )
    .await
    .unwrap();
    let client = HttpClient::new(Duration::from_secs(5));
    let stats = client.get(&app.url("/resque/stats")).await.unwrap();
    assert_eq!(stats.status, 200, "{}", stats.json);
    let base = app.url("");
    let json_body = ("Content-Type", "application/json");
    for (auth, status) in [
        (None, 401),
        (Some("Bearer guess"), 401),
        (Some("Bearer s3cret"), 200),
    ] {
        let mut headers = vec![json_body];
        headers.extend(auth.map(|a| ("Authorization", a)));
        let (got, json) = raw_post(&base, "/resque/failed/retry", &headers, "{}").await;
        assert_eq!(got, status, "{auth:?}: {json}");
    }
}
