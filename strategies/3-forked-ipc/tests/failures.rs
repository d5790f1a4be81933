//! SMTP failures: a transient one goes to the back of the queue and is tried again, after a
//! wait that doubles with each failure, up to `--max-attempts`; a permanent one (5xx) is
//! given up with an error line instead of cycling forever.

mod common;

use common::*;
use mailer::Faults;

#[tokio::test]
async fn transient_failures_are_retried_and_permanent_ones_given_up() {
    let sink = sink().await;
    let app = start(&sink, &["--throttle-ms", "0", "--retry-delay-ms", "50"]).await;

    sink.set_faults(Faults {
        permanent_failure_rate: 1.0,
        ..Faults::default()
    });
    send(&app, "refused", "for-good").await;
    assert!(
        app.wait_for_log("giving up: refused for good", DEADLINE)
            .await,
        "{}",
        app.logs()
    );

    sink.set_faults(Faults {
        failure_rate: 1.0,
        ..Faults::default()
    });
    send(&app, "retried", "later").await;
    wait_until("the worker has retried twice", || async {
        let retries = app
            .logs()
            .matches("failed sending email, trying again")
            .count();
        (retries >= 2).then_some(())
    })
    .await;
    sink.set_faults(Faults::default());
    wait_for_subject(&sink, "retried", 1).await;

    // The refused email was tried once and never again; nothing was sent twice.
    assert_eq!(sink.stats().permanent_failures, 1);
    assert!(delivered(&sink, "refused").is_empty());
    assert_eq!(sink.deliveries().len(), 1, "{:?}", sink.deliveries());
    assert!(app.logs().contains("attempt 3"), "{}", app.logs());
}

#[tokio::test]
async fn a_mail_that_keeps_failing_is_retried_with_growing_delays_then_given_up() {
    let sink = sink().await;
    let mut app = start(
        &sink,
        &[
            "--throttle-ms",
            "0",
            "--retry-delay-ms",
            "50",
            "--max-retry-delay-ms",
            "200",
            "--max-attempts",
            "5",
        ],
    )
    .await;
    sink.set_faults(Faults {
        failure_rate: 1.0,
        ..Faults::default()
    });
    send(&app, "doomed", "never").await;
    // The give-up line, or more attempts than allowed: a schedule without a last attempt
    // shows itself in a second at these delays.
    wait_until(
        "the worker gives up, or tries more than 5 times",
        || async {
            let gave_up = app.logs().contains("giving up after");
            (gave_up || sink.stats().transient_failures > 5).then_some(())
        },
    )
    .await;
    let logs = app.logs();
    assert!(
        logs.contains("giving up after 5 attempts: this email is lost"),
        "{} attempts and no give-up:\n{logs}",
        sink.stats().transient_failures
    );
    // The waits the worker announced, one per failure but the last: doubling, capped.
    let waits: Vec<usize> = logs
        .lines()
        .filter_map(|line| number_in_logs(line, "trying again in ", " ms"))
        .collect();
    assert_eq!(waits, [50, 100, 200, 200], "{logs}");

    // Given up is final: later mail goes through, and the doomed one is never tried again.
    sink.set_faults(Faults::default());
    send(&app, "after", "ok").await;
    wait_for_subject(&sink, "after", 1).await;
    assert!(delivered(&sink, "doomed").is_empty());
    assert_eq!(sink.stats().transient_failures, 5);

    app.terminate(DEADLINE).await.expect("exited in time");
    assert!(
        app.logs().contains("1 given up after --max-attempts"),
        "{}",
        app.logs()
    );
}
