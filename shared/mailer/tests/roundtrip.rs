//! lettre against the sink over real TCP: every outcome the sink can inject, as the client sees it.

use mailer::{Email, Faults, Latency, Mailer, SendError, Sink, SinkConfig};
use std::time::{Duration, Instant};

async fn sink_with(faults: Faults) -> Sink {
    Sink::start_local(SinkConfig {
        faults,
        ..SinkConfig::default()
    })
    .await
    .unwrap()
}

fn email(subject: &str) -> Email {
    Email::new("you@example.com", subject, "World").unwrap()
}

#[tokio::test]
async fn an_accepted_message_is_decoded_and_written_to_the_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("mail.jsonl");
    let sink = Sink::start_local(SinkConfig {
        ledger: Some(ledger.clone()),
        ..SinkConfig::default()
    })
    .await
    .unwrap();
    let mailer = Mailer::from_url(&sink.url(), 2).unwrap();
    let sent = Email::new(
        "you@example.com",
        "Grüße ✓ from offload",
        "Wörld, 100% of it",
    )
    .unwrap();
    let message_id = mailer.send(&sent).await.unwrap();

    let deliveries = sink.deliveries();
    assert_eq!(deliveries.len(), 1);
    let got = &deliveries[0];
    assert_eq!(
        (got.to.as_str(), got.subject.as_str(), got.text.as_str()),
        (
            "you@example.com",
            "Grüße ✓ from offload",
            "Wörld, 100% of it"
        )
    );
    assert_eq!(got.message_id, message_id);

    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&ledger)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    let keys: Vec<&str> = lines[0]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(keys, ["to", "subject", "text", "message_id", "received_at"]);
    assert!(
        chrono::DateTime::parse_from_rfc3339(lines[0]["received_at"].as_str().unwrap()).is_ok()
    );
    assert_eq!(
        mailer::ledger::read(&ledger).unwrap()[0].message_id,
        message_id
    );
}

#[tokio::test]
async fn only_the_expected_headers_reach_the_server() {
    let sink = sink_with(Faults::default()).await;
    let mailer = Mailer::from_url(&sink.url(), 1).unwrap();
    mailer
        .send(&email("Hello: Bcc: evil@example.com"))
        .await
        .unwrap();
    let mut names = sink.deliveries()[0].header_names.clone();
    names.sort();
    assert_eq!(
        names,
        [
            "Content-Transfer-Encoding",
            "Content-Type",
            "Date",
            "From",
            "Message-ID",
            "Subject",
            "To"
        ]
    );
}

#[tokio::test]
async fn a_transient_failure_is_reported_as_transient_and_not_recorded() {
    let sink = sink_with(Faults {
        failure_rate: 1.0,
        ..Faults::default()
    })
    .await;
    let mailer = Mailer::from_url(&sink.url(), 1).unwrap();
    let error = mailer.send(&email("x")).await.unwrap_err();
    assert!(error.is_transient(), "{error}");
    assert!(error.to_string().contains("451"), "{error}");
    assert!(sink.deliveries().is_empty());
    assert_eq!(sink.stats().transient_failures, 1);
}

#[tokio::test]
async fn a_permanent_failure_is_reported_as_permanent() {
    let sink = sink_with(Faults {
        permanent_failure_rate: 1.0,
        ..Faults::default()
    })
    .await;
    let mailer = Mailer::from_url(&sink.url(), 1).unwrap();
    let error = mailer.send(&email("x")).await.unwrap_err();
    assert!(matches!(error, SendError::Permanent(_)), "{error}");
    assert!(sink.deliveries().is_empty());
}

#[tokio::test]
async fn a_dropped_connection_is_transient_and_the_next_send_recovers() {
    let sink = sink_with(Faults {
        drop_rate: 1.0,
        ..Faults::default()
    })
    .await;
    let mailer = Mailer::from_url(&sink.url(), 1).unwrap();
    assert!(mailer.send(&email("x")).await.unwrap_err().is_transient());
    assert_eq!(sink.stats().dropped, 1);

    sink.set_faults(Faults::default());
    mailer.send(&email("y")).await.unwrap();
    assert_eq!(sink.deliveries().len(), 1);
    assert_eq!(sink.deliveries()[0].subject, "y");
}

#[tokio::test]
async fn latency_holds_the_answer_back() {
    let sink = sink_with(Faults {
        latency: Latency::fixed(150),
        ..Faults::default()
    })
    .await;
    let mailer = Mailer::from_url(&sink.url(), 1).unwrap();
    let started = Instant::now();
    mailer.send(&email("slow")).await.unwrap();
    // A lower bound only: the sink must not answer before its injected latency.
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn a_dropped_sink_takes_its_open_connections_with_it() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let sink = sink_with(Faults::default()).await;
    // A connection opened before the drop, like one waiting in a client's pool.
    let stream = tokio::net::TcpStream::connect(sink.addr()).await.unwrap();
    let mut conn = BufReader::new(stream);
    let mut reply = String::new();
    conn.read_line(&mut reply).await.unwrap();
    assert!(reply.starts_with("220"), "{reply:?}");
    drop(sink);
    for command in [
        "HELO test\r\n",
        "MAIL FROM:<a@example.com>\r\n",
        "RCPT TO:<you@example.com>\r\n",
        "DATA\r\n",
        "Subject: after the drop\r\n\r\nbody\r\n.\r\n",
    ] {
        reply.clear();
        let written = conn.get_mut().write_all(command.as_bytes()).await;
        if written.is_err() || matches!(conn.read_line(&mut reply).await, Ok(0) | Err(_)) {
            return; // closed: nothing can be delivered to a sink that is gone
        }
    }
    panic!("a dropped sink took a whole message; its last reply: {reply:?}");
}

#[tokio::test]
async fn a_refused_connection_is_transient() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mailer = Mailer::from_url(&format!("smtp://127.0.0.1:{port}"), 1).unwrap();
    assert!(mailer.send(&email("x")).await.unwrap_err().is_transient());
}

#[tokio::test]
async fn concurrent_sends_share_the_pool_and_all_arrive() {
    let sink = sink_with(Faults {
        latency: Latency::fixed(20),
        ..Faults::default()
    })
    .await;
    let mailer = Mailer::from_url(&sink.url(), 4).unwrap();
    let sends = (0..40).map(|i| {
        let mailer = mailer.clone();
        tokio::spawn(async move { mailer.send(&email(&format!("m{i}"))).await })
    });
    for send in sends {
        send.await.unwrap().unwrap();
    }
    let mut subjects: Vec<String> = sink.deliveries().into_iter().map(|d| d.subject).collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), 40);
}

#[tokio::test]
async fn a_raw_smtp_client_gets_auth_and_dot_stuffing_right() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let sink = sink_with(Faults::default()).await;
    let stream = tokio::net::TcpStream::connect(sink.addr()).await.unwrap();
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut expect = async |code: &str| loop {
        let line = lines.next_line().await.unwrap().unwrap();
        assert!(line.starts_with(code), "expected {code}, got {line}");
        if line.as_bytes().get(3) != Some(&b'-') {
            break;
        }
    };
    expect("220").await;
    for (command, code) in [
        ("EHLO test", "250"),
        ("AUTH PLAIN AHVzZXIAcGFzcw==", "235"),
        ("MAIL FROM:<a@example.com>", "250"),
        ("RCPT TO:<you@example.com>", "250"),
        ("DATA", "354"),
    ] {
        write
            .write_all(format!("{command}\r\n").as_bytes())
            .await
            .unwrap();
        expect(code).await;
    }
    write
        .write_all(b"To: you@example.com\r\nSubject: dots\r\n\r\n..leading dot\r\n.\r\n")
        .await
        .unwrap();
    expect("250").await;
    write.write_all(b"QUIT\r\n").await.unwrap();
    expect("221").await;
    assert_eq!(sink.deliveries()[0].text, ".leading dot");
}

#[tokio::test]
async fn a_client_that_hangs_up_during_the_delay_gets_nothing_recorded() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sink = sink_with(Faults {
        latency: Latency::fixed(300),
        ..Faults::default()
    })
    .await;
    let mut stream = tokio::net::TcpStream::connect(sink.addr()).await.unwrap();
    stream
        .write_all(b"HELO t\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<you@example.com>\r\nDATA\r\nSubject: gone\r\n\r\nbody\r\n.\r\n")
        .await
        .unwrap();
    // Read until the 354, so the whole message is in, then hang up.
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains("354") {
        let mut buf = [0u8; 512];
        let n = stream.read(&mut buf).await.unwrap();
        seen.extend_from_slice(&buf[..n]);
    }
    drop(stream);
    // The sink notices once its 300 ms are over; the deadline only ends a stuck test.
    let deadline = Instant::now() + Duration::from_secs(20);
    while sink.stats().aborted == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(sink.stats().aborted, 1);
    assert!(sink.deliveries().is_empty());
}
