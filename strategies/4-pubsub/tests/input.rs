//! Bad input never becomes a mail: the web role refuses it before PUBLISH, and the worker
//! skips anything on the channel that is not a valid email.

mod common;

use common::*;
use kit::client::HttpClient;
use redis::AsyncCommands;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_and_nothing_is_published() {
    let redis = redis();
    let sink = sink().await;
    let worker = worker(&redis, &sink, 0).await;
    let web = web(&redis).await;
    let client = HttpClient::default();

    let long_text = "a".repeat(60 * 1024);
    let bad_paths = [
        "/a%40example.com/%E0%A4%A/text".to_string(), // truncated escape
        "/a%40example.com/%zz/text".to_string(),      // not hex
        "/a%40example.com/%FF%FE/text".to_string(),   // not UTF-8
        "/a%40example.com/only-two".to_string(),
        "/a%40example.com".to_string(),
        "/".to_string(),
        "/a%40example.com/s/t/extra".to_string(),
        "//subject/text".to_string(), // empty `to`
        "/not-an-address/subject/text".to_string(),
        "/a%40example.com%0D%0ABcc%3A%20x%40example.com/s/t".to_string(), // CR/LF in `to`
        "/a%40example.com/Hi%0D%0ABcc%3A%20x%40example.com/t".to_string(), // CR/LF in `subject`
        "/a%40example.com/s/line%0Abreak".to_string(),                    // LF in `text`
        format!("/a%40example.com/s/{long_text}"),                        // over the path limit
    ];
    for path in &bad_paths {
        let answer = client.get(&web.url(path)).await.unwrap();
        let shown: String = path.chars().take(60).collect();
        assert_eq!(answer.status, 400, "{shown}: {:?}", answer.json);
        assert!(
            answer.json["error"].is_string(),
            "{shown}: {:?}",
            answer.json
        );
    }

    // 100 KB is past what the HTTP layer (hyper) parses at all: it answers 414 itself,
    // before any route runs, so without a JSON body. (hyper's client will not even send
    // such a request, hence the raw socket.)
    let huge = format!("/a%40example.com/s/{}", "a".repeat(100 * 1024));
    assert_eq!(raw_get_status(web.port.unwrap(), &huge).await, "414");

    let bad_bodies = [
        "not json".to_string(),
        json!({"to": "a@example.com", "subject": "s"}).to_string(),
        json!({"to": "", "subject": "s", "text": "t"}).to_string(),
        json!({"to": "nobody", "subject": "s", "text": "t"}).to_string(),
        json!({"to": "a@example.com", "subject": "s\r\nBcc: x@example.com", "text": "t"})
            .to_string(),
        json!({"to": "a@example.com", "subjet": "typo", "text": "t"}).to_string(),
    ];
    for body in &bad_bodies {
        let answer = client
            .post_raw(&web.url("/emails"), body.clone())
            .await
            .unwrap();
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
    let client = redis::Client::open(redis_server.url()).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();

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

/// The status code of a `GET` written by hand on a fresh connection.
async fn raw_get_status(port: u16, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    // The server may answer and close before it has read everything we send.
    let _ = stream.write_all(request.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    answer
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("no status line in {answer:?}"))
        .to_string()
}
