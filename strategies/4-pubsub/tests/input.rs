//! Bad input never becomes a mail: the web role refuses it before PUBLISH, and the worker
//! skips anything on the channel that is not a valid email.

mod common;

use common::*;
use kit::client::HttpClient;
use redis::AsyncCommands;
use serde_json::json;
use testkit::check_bad_requests;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_and_nothing_is_published() {
    let redis = redis();
    let sink = sink().await;
    let worker = worker(&redis, &sink, 0).await;
    let web = web(&redis).await;
    let client = HttpClient::default();

    // The contract's table, shared by every strategy.
    let failures = check_bad_requests(&web.url("")).await;
    assert!(failures.is_empty(), "{failures:#?}");

    // And what the table leaves out.
    for path in ["/you@example.com/Hello/World/extra", "/"] {
        let answer = client.get(&web.url(path)).await.unwrap();
        assert_eq!(answer.status, 400, "{path}: {:?}", answer.json);
        assert!(
            answer.json["error"].is_string(),
            "{path}: {:?}",
            answer.json
        );
    }
    let bad_bodies = [
        json!({"to": "", "subject": "s", "text": "t"}),
        json!({"to": "a@example.com", "subjet": "typo", "text": "t"}),
    ];
    for body in &bad_bodies {
        let answer = client.post_json(&web.url("/emails"), body).await.unwrap();
        assert_eq!(answer.status, 400, "{body}: {:?}", answer.json);
        assert!(
            answer.json["error"].is_string(),
            "{body}: {:?}",
            answer.json
        );
    }
    let answer = client.get(&web.url("/favicon.ico")).await.unwrap();
    assert_eq!(answer.status, 404);

    // One good mail last: when it has arrived, anything published before it would have too.
    assert_eq!(publish(&web, "good").await, 1);
    assert!(sink.wait_for(1, DEADLINE).await);
    assert!(!sink.wait_for(2, QUIET_PERIOD).await);
    assert_eq!(sink.deliveries()[0].subject, "good");
    assert_eq!(
        count_lines(&worker, "Message from Redis!"),
        1,
        "only the good mail was published:\n{}",
        worker.logs()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_on_the_channel_is_skipped() {
    let redis_server = redis();
    let sink = sink().await;
    let worker = worker(&redis_server, &sink, 0).await;
    let mut redis = connect(&redis_server).await;

    // Anyone with access to Redis can publish on the channel, redis-cli included.
    let garbage = [
        "not json".to_string(),
        json!({"to": "nobody", "subject": "s", "text": "t"}).to_string(),
        json!({"to": "a@example.com", "subject": "s\r\nBcc: x@example.com", "text": "t"})
            .to_string(),
    ];
    for payload in &garbage {
        let receivers: u64 = redis.publish("emailz", payload).await.unwrap();
        assert_eq!(receivers, 1);
    }
    let good = json!({"to": "a@example.com", "subject": "good", "text": "t"}).to_string();
    let receivers: u64 = redis.publish("emailz", &good).await.unwrap();
    assert_eq!(receivers, 1);

    assert!(sink.wait_for(1, DEADLINE).await, "{}", worker.logs());
    assert!(!sink.wait_for(2, QUIET_PERIOD).await);
    assert_eq!(sink.deliveries()[0].subject, "good");
    assert_eq!(
        count_lines(&worker, "ignoring a message that is not a valid email"),
        garbage.len(),
        "{}",
        worker.logs()
    );
}
