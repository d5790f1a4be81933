//! A supervisor that stops reading (SIGSTOP here; a stalled machine does the same): what
//! the web server's answers promise then. `503`: the email never left the web server, so
//! it is never sent and a retry is safe. `202`: it was handed on and not confirmed, so it
//! may be sent; a retry may send it twice.

mod common;

use common::*;
use hyper::StatusCode;
use std::collections::BTreeSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_from_a_stopped_supervisor_is_never_sent() {
    let sink = sink().await;
    let app = start(&sink, &["--throttle-ms", "0"]).await;
    let supervisor = pid_of(&pids(&app).await, "supervisor").unwrap();
    worker_pid(&app).await;

    sigstop(supervisor);
    // Small emails fit in the socket to the supervisor; large ones fill it, and those the
    // web server could not write are still its own when their wait for a reply ends.
    let client = client();
    let small = (0..100).map(|i| (format!("small{i}"), "x".to_string()));
    let large = (0..20).map(|i| (format!("large{i}"), "y".repeat(60_000)));
    let requests: Vec<_> = small
        .chain(large)
        .map(|(subject, text)| {
            let (client, url) = (client.clone(), app.url("/emails"));
            tokio::spawn(async move {
                let email =
                    serde_json::json!({"to": "you@example.com", "subject": subject, "text": text});
                let answer = client.post_json(&url, &email).await.expect("POST /emails");
                (subject, answer)
            })
        })
        .collect();
    let mut refused = BTreeSet::new();
    let mut handed_on = BTreeSet::new();
    for request in requests {
        let (subject, answer) = request.await.unwrap();
        match answer.status {
            StatusCode::SERVICE_UNAVAILABLE => refused.insert(subject),
            status if status.is_success() => handed_on.insert(subject),
            status => panic!("{subject}: {status} {:?}", answer.json),
        };
    }
    sigcont(supervisor);

    // Emails reach the worker in the order the web server wrote them: once one sent after
    // all of them has arrived, every email that was handed on has arrived before it.
    send(&app, "marker", "last").await;
    wait_for_subject(&sink, "marker", 1).await;
    let delivered: BTreeSet<String> = sink
        .deliveries()
        .into_iter()
        .map(|d| d.subject)
        .filter(|s| s != "marker")
        .collect();
    let sent_after_a_503: Vec<_> = refused.intersection(&delivered).collect();
    assert!(
        sent_after_a_503.is_empty(),
        "{} emails answered 503 were sent anyway: {sent_after_a_503:?}",
        sent_after_a_503.len()
    );
    assert_eq!(delivered, handed_on, "every email handed on is sent");
    assert!(!refused.is_empty(), "the large emails fill the socket");
    assert!(!handed_on.is_empty(), "the first emails fit in the socket");
    eprintln!(
        "supervisor stopped: {} answered 503 and not sent, {} handed on and sent",
        refused.len(),
        handed_on.len()
    );
}
