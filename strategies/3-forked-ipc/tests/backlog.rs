//! The supervisor's books bound the backlog: at most `--max-backlog` emails are held or in
//! the worker at once, and past that the web server answers `503 "backlog full"`. A
//! frozen worker (SIGSTOP) cannot make the supervisor's memory grow, nor its own.

mod common;

use common::*;
use hyper::StatusCode;

/// What each process may use with 40 emails of 60 KB in its care: the processes start
/// at about 11 MiB (debug build), the emails weigh 2.4 MB. Were the 600 emails sent below
/// all kept, they would weigh 36 MB.
const MEMORY_BOUND_KIB: u64 = 30 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_backlog_answers_503_and_bounds_the_memory_of_every_process() {
    let sink = sink().await;
    let app = start(&sink, &["--throttle-ms", "0", "--max-backlog", "40"]).await;
    let supervisor = pid_of(&pids(&app).await, "supervisor").unwrap();
    let worker = worker_pid(&app).await;
    wait_until("the worker is ready", || async {
        app.logs().contains("ready! worker ready").then_some(())
    })
    .await;

    sigstop(worker);
    let client = client();
    let text = "x".repeat(60_000);
    let (mut accepted, mut full) = (0, 0);
    for i in 0..600 {
        let answer = post(&client, &app, &format!("big{i}"), &text).await;
        match answer.status {
            StatusCode::OK => accepted += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                let error = answer.json["error"].as_str().unwrap_or_default();
                assert!(error.contains("backlog full"), "{error}");
                full += 1;
            }
            status => panic!("big{i}: {status}"),
        }
    }
    assert_eq!(
        accepted, 40,
        "the backlog takes exactly --max-backlog emails"
    );
    assert_eq!(full, 560);
    let rss = memory_kib(supervisor, "VmRSS");
    assert!(
        rss < MEMORY_BOUND_KIB,
        "the supervisor holds {rss} KiB for 40 emails"
    );

    sigcont(worker);
    wait_until("the 40 accepted emails are sent", || async {
        (sink.deliveries().len() >= 40).then_some(())
    })
    .await;
    let peak = memory_kib(worker, "VmHWM");
    assert!(peak < MEMORY_BOUND_KIB, "the worker peaked at {peak} KiB");
    // Sent, they leave the books: there is room again.
    send(&app, "after", "room-again").await;
    wait_for_subject(&sink, "after", 1).await;
    assert_eq!(
        sink.deliveries().len(),
        41,
        "only the accepted emails are sent"
    );
    eprintln!("backlog of 40 full: supervisor {rss} KiB, worker at most {peak} KiB");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emails_held_while_no_worker_is_ready_count_in_the_backlog() {
    let sink = sink().await;
    // The first check comes a minute after the start: a killed worker stays dead.
    let app = start(
        &sink,
        &["--max-backlog", "5", "--check-interval-ms", "60000"],
    )
    .await;
    kill_the_worker(&app).await;

    let client = client();
    for i in 0..5 {
        let answer = post(&client, &app, "held", &format!("h{i}")).await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.json);
        assert_eq!(answer.json["held"], true, "{:?}", answer.json);
    }
    let answer = post(&client, &app, "held", "one too many").await;
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{:?}",
        answer.json
    );
    let error = answer.json["error"].as_str().unwrap_or_default();
    assert!(error.contains("backlog full"), "{error}");
}
