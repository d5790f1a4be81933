//! The happy path and bad input, through the real supervisor and its forked web server.

mod support;

use kit::testing::ChildProcess;
use serde_json::json;
use std::time::Duration;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn delivers_mail_sent_by_get_and_post_and_logs_for_its_children() {
    let sink = sink().await;
    let app = start(&sink, &["--throttle-ms", "0"]).await;

    let pids = pids(&app).await;
    let supervisor = pid_of(&pids, "supervisor").unwrap();
    let web = pid_of(&pids, "web").unwrap();
    let worker = wait_until("the worker is forked", || async {
        pid_of(&support::pids(&app).await, "worker")
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
    let long_path = format!("/you@example.com/subject/{}", "x".repeat(60 * 1024));

    let gets = [
        ("invalid percent escape", "/you@example.com/%E0%A4%A/text"),
        ("invalid hex escape", "/you@example.com/subject/%zz"),
        ("invalid UTF-8", "/you@example.com/%FF%FE/text"),
        ("missing text", "/you@example.com/subject"),
        ("missing subject and text", "/you@example.com"),
        ("nothing at all", "/"),
        ("too many segments", "/you@example.com/a/b/c"),
        ("empty to", "//subject/text"),
        ("to is not an address", "/not-an-address/subject/text"),
        ("to without a domain", "/you@/subject/text"),
        (
            "CR/LF in to",
            "/you@example.com%0D%0ABcc:%20evil@example.com/s/t",
        ),
        (
            "CR/LF in subject",
            "/you@example.com/Hi%0D%0ABcc:%20evil@example.com/t",
        ),
        (
            "CR/LF in text",
            "/you@example.com/s/line%0D%0A.%0D%0AMAIL%20FROM:x",
        ),
        ("a 60 KB path", long_path.as_str()),
    ];
    for (case, path) in gets {
        let answer = client().get(&app.url(path)).await.expect(case);
        assert_eq!(answer.status, 400, "{case}: {:?}", answer.json);
        assert!(
            answer.json["error"].is_string(),
            "{case}: {:?}",
            answer.json
        );
    }
    let posts: [(&str, &[u8]); 4] = [
        ("a body that is not JSON", b"to=you@example.com"),
        ("JSON that is not an object", b"[1, 2, 3]"),
        (
            "a missing field",
            br#"{"to":"you@example.com","subject":"s"}"#,
        ),
        (
            "CR/LF in a JSON field",
            br#"{"to":"you@example.com","subject":"a\r\nBcc: evil@example.com","text":"t"}"#,
        ),
    ];
    for (case, body) in posts {
        let answer = client()
            .post_raw(&app.url("/emails"), body.to_vec())
            .await
            .expect(case);
        assert_eq!(answer.status, 400, "{case}: {:?}", answer.json);
        assert!(
            answer.json["error"].is_string(),
            "{case}: {:?}",
            answer.json
        );
    }

    // Past 64 KB, hyper refuses the request line itself (414, no body) before kit sees
    // it; the HTTP client cannot even build such a URI, so this one goes over raw TCP.
    let status_line = raw_get(
        &app,
        &format!("/you@example.com/s/{}", "x".repeat(100 * 1024)),
    )
    .await;
    assert!(
        status_line.starts_with("HTTP/1.1 4"),
        "a 100 KB path: {status_line}"
    );

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

/// Sends `GET path` on a fresh connection and returns the status line.
async fn raw_get(app: &ChildProcess, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port.unwrap()))
        .await
        .unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    // The server may answer and close before it has read the whole request line.
    let _ = stream.write_all(request.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    answer.lines().next().unwrap_or_default().to_string()
}
