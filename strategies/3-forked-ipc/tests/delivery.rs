//! The happy path and bad input, through the real supervisor and its forked web server.

mod common;

use common::*;
use serde_json::json;
use std::time::Duration;
use testkit::check_bad_requests;

#[tokio::test]
async fn delivers_mail_sent_by_get_and_post_and_logs_for_its_children() {
    let sink = sink().await;
    let app = start(&sink, &["--throttle-ms", "0"]).await;

    let pids = pids(&app).await;
    let supervisor = pid_of(&pids, "supervisor").unwrap();
    let web = pid_of(&pids, "web").unwrap();
    let worker = wait_until("the worker is forked", || async {
        pid_of(&common::pids(&app).await, "worker")
    })
    .await;
    assert_eq!(supervisor as u32, app.pid().unwrap(), "{pids}");
    assert!(web != supervisor && worker != supervisor && web != worker);

    let answer = send(&app, "Hello", "W%C3%B6rld").await;
    assert_eq!(
        answer["email"],
        json!({"to": "you@example.com", "subject": "Hello", "text": "Wörld"})
    );
    assert!(answer["id"].is_u64(), "{answer}");
    let posted = client()
        .post_json(
            &app.url("/emails"),
            &json!({"to": "them@example.com", "subject": "Posted", "text": "body"}),
        )
        .await
        .unwrap();
    assert_eq!(posted.status, 200, "{:?}", posted.json);

    let hello = wait_for_subject(&sink, "Hello", 1).await;
    assert_eq!(hello[0].to, "you@example.com");
    assert_eq!(hello[0].text, "Wörld");
    let posted = wait_for_subject(&sink, "Posted", 1).await;
    assert_eq!(posted[0].to, "them@example.com");

    // Children never print: the supervisor prints for them, in the original's words.
    assert!(
        app.wait_for_log("email sent!", Duration::from_secs(10))
            .await,
        "{}",
        app.logs()
    );
    let logs = app.logs();
    for line in [
        format!("[master @ {supervisor}] started master"),
        format!("[web server @ {web}] ready on port"),
        format!("[email worker @ {worker}] ready!"),
        format!("[master @ {supervisor}] got an email to send from the webserver"),
        format!("[email worker @ {worker}] trying to send an email..."),
        format!("[email worker @ {worker}] email sent!"),
    ] {
        assert!(logs.contains(&line), "missing {line:?} in:\n{logs}");
    }
}

#[tokio::test]
async fn bad_input_gets_a_400_json_error_and_sends_nothing() {
    let sink = sink().await;
    let app = start(&sink, &["--throttle-ms", "0"]).await;
    let web = pid_of(&pids(&app).await, "web").unwrap();

    let mut failures = check_bad_requests(&app.url("")).await;
    // A few more shapes than the shared table has.
    let gets = [
        ("nothing at all", "/"),
        ("too many segments", "/you@example.com/a/b/c"),
        ("to without a domain", "/you@/subject/text"),
    ];
    for (case, path) in gets {
        let answer = client().get(&app.url(path)).await.expect(case);
        if answer.status != 400 || !answer.json["error"].is_string() {
            failures.push(format!("{case}: got {} {}", answer.status, answer.json));
        }
    }
    let answer = client()
        .post_raw(&app.url("/emails"), &b"[1, 2, 3]"[..])
        .await
        .unwrap();
    if answer.status != 400 || !answer.json["error"].is_string() {
        failures.push(format!(
            "JSON that is not an object: got {} {}",
            answer.status, answer.json
        ));
    }
    assert!(failures.is_empty(), "{failures:#?}");

    // Nothing crashed: the same web server answers.
    assert_eq!(pid_of(&pids(&app).await, "web"), Some(web));
    assert!(!app.logs().contains("died"), "{}", app.logs());
    // Mail leaves in order: once a valid mail sent last has arrived, anything a bad
    // request had let through would have arrived before it.
    send(&app, "Valid", "last").await;
    wait_for_subject(&sink, "Valid", 1).await;
    let deliveries = sink.deliveries();
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    assert!(deliveries[0]
        .header_names
        .iter()
        .all(|h| !h.eq_ignore_ascii_case("bcc")));
    assert_eq!(
        app.logs().matches("got an email to send").count(),
        1,
        "{}",
        app.logs()
    );
}
