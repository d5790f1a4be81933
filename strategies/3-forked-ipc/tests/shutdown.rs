//! SIGTERM: the web server stops, the worker finishes the email it is sending and says how
//! many it abandons, the supervisor exits 0 and leaves no child behind. A SIGKILLed
//! supervisor leaves none either.

mod common;

use common::*;

#[tokio::test]
async fn sigterm_stops_every_process_in_order_and_exits_zero() {
    let sink = sink().await;
    // The first email goes out at once, the other nine 2 s apart: the SIGTERM has 18 s to
    // land while the queue is not empty, however slow the machine.
    let mut app = start(&sink, &["--throttle-ms", "2000"]).await;
    let children = wait_until("every child is forked", || async {
        let pids = pids(&app).await;
        Some([pid_of(&pids, "web")?, pid_of(&pids, "worker")?])
    })
    .await;
    for i in 0..10 {
        send(&app, "queued", &format!("q{i}")).await;
    }
    wait_for_subject(&sink, "queued", 1).await;

    let status = app.terminate(DEADLINE).await.expect("exited in time");
    assert_eq!(status.code(), Some(0), "{}", app.logs());

    let logs = app.logs();
    let abandoned = number_in_logs(&logs, "abandoning ", " queued emails")
        .unwrap_or_else(|| panic!("the worker did not say what it abandoned:\n{logs}"));
    let delivered = delivered(&sink, "queued").len();
    // Every accepted email is accounted for: delivered, or abandoned with a log line.
    assert_eq!(delivered + abandoned, 10, "{logs}");
    assert!(abandoned > 0, "the worker drained its whole queue: {logs}");
    let web_stopped = logs.find(&format!("[web server @ {}] stopped", children[0]));
    let worker_stopped = logs.find(&format!("[email worker @ {}] stopped", children[1]));
    assert!(web_stopped.is_some() && worker_stopped.is_some(), "{logs}");
    assert!(
        web_stopped < worker_stopped,
        "the worker stopped before the web server: {logs}"
    );
    for pid in children {
        assert!(!is_running(pid), "child {pid} outlived the supervisor");
    }
}

#[tokio::test]
async fn children_die_with_a_killed_supervisor() {
    let sink = sink().await;
    let mut app = start(&sink, &["--throttle-ms", "0"]).await;
    let children = wait_until("every child is forked", || async {
        let pids = pids(&app).await;
        Some([pid_of(&pids, "web")?, pid_of(&pids, "worker")?])
    })
    .await;
    app.kill();
    // Each child is told twice: SIGTERM (PR_SET_PDEATHSIG) and the end of its socket.
    for pid in children {
        wait_until(&format!("child {pid} is gone"), || async {
            (!is_running(pid)).then_some(())
        })
        .await;
    }
}
