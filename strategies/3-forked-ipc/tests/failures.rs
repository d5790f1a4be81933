//! SMTP failures: a transient one goes to the back of the queue and is tried again, a
//! permanent one (5xx) is given up with an error line instead of cycling forever.

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
            .matches("failed sending email, trying again :(")
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
