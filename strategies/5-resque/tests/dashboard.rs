//! `/dashboard` over real Redis, the real sink and the real binary: each page shows what the
//! queue holds (and shows a payload's markup as text), each action changes the failed list
//! as it says, and an action without this browser's token, with a malformed form or for an
//! entry that is not there is refused with a 4xx and changes nothing.

mod common;

use common::DEADLINE;
use kit::client::HttpClient;
use kit::RedisServer;
use mailer::{Faults, Sink, SinkConfig};
use serde_json::json;
use std::time::Duration;
use testkit::{wait_until, ChildProcess, DashboardClient};

const BIN: &str = env!("CARGO_BIN_EXE_strategy-5");

/// Redis, a sink that refuses every mail for now, and the binary with one worker slot.
async fn failing_app() -> (RedisServer, Sink, ChildProcess) {
    let redis = RedisServer::start().unwrap();
    let config = SinkConfig {
        faults: Faults {
            failure_rate: 1.0,
            ..Faults::default()
        },
        ..SinkConfig::default()
    };
    let sink = Sink::start_local(config).await.unwrap();
    let app = ChildProcess::start_http(
        BIN,
        ["--role", "all", "--min", "1", "--max", "1"],
        &[("REDIS_URL", &redis.url()), ("SMTP_URL", &sink.url())],
    )
    .await
    .unwrap();
    (redis, sink, app)
}

/// Sends `n` mails and waits until all of them are in the failed list.
async fn fail_mails(app: &ChildProcess, texts: &[&str]) {
    let client = HttpClient::new(Duration::from_secs(5));
    for text in texts {
        let answer = client
            .get(&app.url(&format!("/u@example.com/hello/{text}")))
            .await
            .unwrap();
        assert_eq!(answer.status, 200, "{}", answer.json);
    }
    let url = app.url("/resque/failed");
    wait_until("the mails are failed entries", DEADLINE, || async {
        let failed = client.get(&url).await.ok()?;
        (failed.json["count"] == texts.len()).then_some(())
    })
    .await;
}

async fn failed_count(app: &ChildProcess) -> serde_json::Value {
    let client = HttpClient::new(Duration::from_secs(5));
    client.get(&app.url("/resque/failed")).await.unwrap().json["count"].clone()
}

#[tokio::test]
async fn every_page_shows_what_the_queue_holds_and_markup_from_a_payload_as_text() {
    let (redis, _sink, app) = failing_app().await;
    fail_mails(&app, &["%3Cscript%3Ealert(1)%3C%2Fscript%3E"]).await;
    // A delayed job, through the library, as a producer would schedule one.
    let queue = strategy_5::Queue::connect(&redis.url()).await.unwrap();
    queue
        .enqueue_in(
            3_600_000,
            "emailQueue",
            "sendEmail",
            vec![json!({"to": "later@example.com"})],
            false,
        )
        .await
        .unwrap();
    let mut browser = DashboardClient::new(&app.url(""));
    let worker = queue.workers().await.unwrap().into_keys().next().unwrap();
    let pages: [(&str, &[&str]); 8] = [
        ("/dashboard", &["Overview", "emailQueue", "failed list"]),
        (
            "/dashboard/working",
            &["Working", "no worker is working on a job"],
        ),
        (
            "/dashboard/failed",
            &[
                "SMTPError",
                "&lt;script&gt;alert(1)&lt;/script&gt;",
                "Retry all",
            ],
        ),
        ("/dashboard/queues", &["emailQueue", "(0 jobs)"]),
        (
            "/dashboard/workers",
            &[&worker, "Multi-worker in this process"],
        ),
        (
            "/dashboard/delayed",
            &["later@example.com", "<span class=\"muted\">in "],
        ),
        (
            "/dashboard/processing",
            &["no job is held in a processing list"],
        ),
        (
            "/dashboard/stats",
            &["processed", "Counters", "runtime lag"],
        ),
    ];
    for (path, expected) in pages {
        let page = browser.get(path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        assert_eq!(
            page.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        for text in expected {
            assert!(
                page.body.contains(text),
                "{path} lacks {text:?}: {}",
                page.body
            );
        }
        assert!(
            !page.body.contains("<script>alert"),
            "{path} runs a payload's script"
        );
    }
    // The worker's counts, as resque-web reads them: it failed one job, processed none.
    let workers = browser.get("/dashboard/workers").await.body;
    let row = workers
        .split("<tr>")
        .find(|row| row.contains(&worker))
        .unwrap();
    assert!(
        row.contains("<td class=\"num\">0</td><td class=\"num\">1</td>"),
        "{row}"
    );
    assert_eq!(browser.get("/dashboard/nothing").await.status, 404);
    // The multi-worker of this process measures its runtime lag; once it has, the stats
    // page charts it.
    let base = app.url("");
    wait_until(
        "the stats page charts the runtime lag",
        DEADLINE,
        || async {
            let stats = DashboardClient::new(&base).get("/dashboard/stats").await;
            stats
                .body
                .contains("aria-label=\"runtime lag\"")
                .then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn retry_sends_the_mail_remove_and_clear_empty_the_list() {
    let (_redis, sink, app) = failing_app().await;
    fail_mails(&app, &["one", "two", "three", "four"]).await;
    sink.set_faults(Faults::default());
    let mut browser = DashboardClient::new(&app.url(""));
    assert_eq!(browser.get("/dashboard/failed").await.status, 200);

    let retried = browser
        .act("/dashboard/failed/retry", &[("index", "0")])
        .await;
    assert_eq!(retried.status, 303, "{}", retried.body);
    let location = retried.header("location").unwrap().to_owned();
    assert!(
        location.starts_with("/dashboard/failed?notice="),
        "{location}"
    );
    assert!(
        sink.wait_for(1, DEADLINE).await,
        "the retried mail was not sent"
    );
    assert_eq!(
        sink.deliveries()[0].text,
        "one",
        "index 0 is the oldest failure"
    );
    assert_eq!(failed_count(&app).await, 3);
    assert!(browser
        .get(&location)
        .await
        .body
        .contains("Job 0 is back on its queue."));

    let removed = browser
        .act("/dashboard/failed/remove", &[("index", "0")])
        .await;
    assert_eq!(removed.status, 303, "{}", removed.body);
    assert_eq!(failed_count(&app).await, 2);

    let all = browser.act("/dashboard/failed/retry-all", &[]).await;
    assert_eq!(all.status, 303, "{}", all.body);
    assert!(
        sink.wait_for(3, DEADLINE).await,
        "retry all did not send both mails"
    );
    assert_eq!(failed_count(&app).await, 0);
    assert_eq!(sink.deliveries().len(), 3, "the removed mail was sent");
}

#[tokio::test]
async fn clear_empties_the_list_and_sends_nothing() {
    let (_redis, sink, app) = failing_app().await;
    fail_mails(&app, &["one", "two"]).await;
    sink.set_faults(Faults::default());
    let mut browser = DashboardClient::new(&app.url(""));
    browser.get("/dashboard/failed").await;
    let cleared = browser.act("/dashboard/failed/clear", &[]).await;
    assert_eq!(cleared.status, 303, "{}", cleared.body);
    assert_eq!(failed_count(&app).await, 0);
    let page = browser.get(cleared.header("location").unwrap()).await;
    assert!(
        page.body.contains("2 failed jobs were deleted."),
        "{}",
        page.body
    );
    assert!(sink.deliveries().is_empty());
}

#[tokio::test]
async fn bad_actions_are_refused_and_change_nothing() {
    let (_redis, sink, app) = failing_app().await;
    fail_mails(&app, &["one"]).await;
    let mut browser = DashboardClient::new(&app.url(""));
    browser.get("/dashboard/failed").await;
    let token = browser
        .get("/dashboard/failed")
        .await
        .hidden_field("token")
        .unwrap();
    let cases: [(&str, String, u16); 7] = [
        (
            "/dashboard/failed/retry",
            format!("token={token}&index=7"),
            404,
        ),
        (
            "/dashboard/failed/remove",
            format!("token={token}&index=7"),
            404,
        ),
        (
            "/dashboard/failed/retry",
            format!("token={token}&index=first"),
            400,
        ),
        (
            "/dashboard/failed/retry",
            format!("token={token}&index=-1"),
            400,
        ),
        (
            "/dashboard/failed/retry",
            format!("token={token}&index=%zz"),
            400,
        ),
        ("/dashboard/failed/retry", "index=0".into(), 403),
        (
            "/dashboard/failed/clear",
            "token=0123456789abcdef0123456789abcdef".into(),
            403,
        ),
    ];
    for (path, body, status) in cases {
        let page = browser.post_form(path, &body).await;
        assert_eq!(page.status, status, "{path} {body}: {}", page.body);
        assert!(
            page.body.contains("class=\"bad problem\""),
            "{path} {body}: {}",
            page.body
        );
    }
    // A page on another site posting the right-looking form: refused by its origin.
    let cross_site = browser
        .send(
            "POST",
            "/dashboard/failed/clear",
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Origin", "http://evil.example"),
            ],
            &format!("token={token}"),
        )
        .await;
    assert_eq!(cross_site.status, 403, "{}", cross_site.body);
    // A browser with no session cookie (a cross-site request carries none).
    let mut stranger = DashboardClient::new(&app.url(""));
    let fresh = stranger
        .post_form("/dashboard/failed/clear", &format!("token={token}"))
        .await;
    assert_eq!(fresh.status, 403, "{}", fresh.body);
    assert_eq!(
        failed_count(&app).await,
        1,
        "a refused action changed the failed list"
    );
    assert!(sink.deliveries().is_empty());
}

/// With `--admin-token`, an action needs a browser that signed in with it.
#[tokio::test]
async fn with_an_admin_token_actions_need_a_signed_in_browser() {
    let redis = RedisServer::start().unwrap();
    let app = ChildProcess::start_http(
        BIN,
        ["--role", "web"],
        &[("REDIS_URL", &redis.url()), ("ADMIN_TOKEN", "s3cret")],
    )
    .await
    .unwrap();
    // A failed entry, so that the failed page has its buttons (and their token).
    let entry = json!({"queue": "emailQueue", "payload": {"class": "sendEmail", "args": []}});
    let queue = strategy_5::Queue::connect(&redis.url()).await.unwrap();
    let failed_key = strategy_5::Keys::default().failed();
    let _: () = redis::AsyncCommands::rpush(&mut queue.connection(), failed_key, entry.to_string())
        .await
        .unwrap();
    let mut browser = DashboardClient::new(&app.url(""));
    assert_eq!(
        browser.get("/dashboard/failed").await.status,
        200,
        "reading on loopback is open"
    );
    assert_eq!(
        browser.act("/dashboard/failed/clear", &[]).await.status,
        401
    );
    let wrong = browser
        .post_form("/dashboard/login", "admin_token=guess")
        .await;
    assert_eq!(wrong.status, 401);
    let right = browser
        .post_form("/dashboard/login", "admin_token=s3cret")
        .await;
    assert_eq!(right.status, 303, "{}", right.body);
    browser.get("/dashboard/failed").await;
    let cleared = browser.act("/dashboard/failed/clear", &[]).await;
    assert_eq!(cleared.status, 303, "{}", cleared.body);
    assert_eq!(failed_count(&app).await, 0);
}

/// With `--bus`, the bus page lists the demo's applications, their subscriptions and the
/// bus queues, as `/resque/bus/...` reads them.
#[tokio::test]
async fn the_bus_page_shows_the_apps_subscriptions_and_queues() {
    let redis = RedisServer::start().unwrap();
    let sink = Sink::start_local(SinkConfig::default()).await.unwrap();
    let app = ChildProcess::start_http(
        BIN,
        ["--role", "all", "--bus", "--bus-app", "offload_audit"],
        &[("REDIS_URL", &redis.url()), ("SMTP_URL", &sink.url())],
    )
    .await
    .unwrap();
    let mut browser = DashboardClient::new(&app.url(""));
    let page = browser.get("/dashboard/bus").await;
    assert_eq!(page.status, 200, "{}", page.body);
    for text in [
        "offload_audit, offload_mailer",
        "bus_incoming",
        "offload_mailer_default",
        "email_requested",
    ] {
        assert!(
            page.body.contains(text),
            "the bus page lacks {text:?}: {}",
            page.body
        );
    }
}
