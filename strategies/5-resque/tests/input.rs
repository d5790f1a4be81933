//! Bad input through the web role: every malformed request is a 400 JSON error and no job;
//! the web role alone runs, so nothing could take a job off the queue before it is counted.

use kit::client::HttpClient;
use kit::RedisServer;
use redis::AsyncCommands;
use testkit::{check_bad_requests, ChildProcess};

const BIN: &str = env!("CARGO_BIN_EXE_strategy-5");
const EMAIL_QUEUE: &str = "resque:queue:emailQueue";

#[tokio::test]
async fn bad_input_is_refused_and_nothing_is_enqueued() {
    let redis = RedisServer::start().unwrap();
    let web = ChildProcess::start_http(BIN, ["--role", "web"], &[("REDIS_URL", &redis.url())])
        .await
        .unwrap();
    let mut con = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();

    let failures = check_bad_requests(&web.url("")).await;
    assert!(failures.is_empty(), "{failures:#?}\n{}", web.logs());
    let queued: usize = con.llen(EMAIL_QUEUE).await.unwrap();
    assert_eq!(queued, 0, "a refused request became a job");

    // One valid mail afterwards is exactly one job: the table above reached a live queue.
    let answer = HttpClient::default()
        .get(&web.url("/ada@example.com/Hello/World"))
        .await
        .unwrap();
    assert_eq!(answer.status, 200, "{}", answer.json);
    let queued: usize = con.llen(EMAIL_QUEUE).await.unwrap();
    assert_eq!(queued, 1);
}
