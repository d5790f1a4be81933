//! A sender that dies while the sink is slow to answer must not find its mail in the ledger:
//! the load harness counts that mail as lost, which is what happened to it.

use mailer::{Faults, Latency, Sink, SinkConfig};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Speaks SMTP up to the end of DATA and returns the connection, the reply not yet read.
async fn send_until_end_of_data(sink: &Sink, subject: &str) -> BufReader<TcpStream> {
    let mut conn = BufReader::new(TcpStream::connect(sink.addr()).await.unwrap());
    let mut line = String::new();
    let mut expect = async |conn: &mut BufReader<TcpStream>, code: &str| loop {
        line.clear();
        conn.read_line(&mut line).await.unwrap();
        assert!(line.starts_with(code), "expected {code}, got {line:?}");
        if line.as_bytes().get(3) != Some(&b'-') {
            break;
        }
    };
    expect(&mut conn, "220").await;
    for (command, code) in [
        ("EHLO test\r\n", "250"),
        ("MAIL FROM:<a@example.com>\r\n", "250"),
        ("RCPT TO:<b@example.com>\r\n", "250"),
        ("DATA\r\n", "354"),
    ] {
        conn.get_mut().write_all(command.as_bytes()).await.unwrap();
        expect(&mut conn, code).await;
    }
    let body = format!("To: b@example.com\r\nSubject: {subject}\r\n\r\nhello\r\n.\r\n");
    conn.get_mut().write_all(body.as_bytes()).await.unwrap();
    conn
}

#[tokio::test]
async fn mail_whose_sender_hung_up_before_the_reply_is_not_recorded() {
    let sink = Sink::start_local(SinkConfig {
        faults: Faults {
            latency: Latency::fixed(300),
            ..Faults::default()
        },
        ..SinkConfig::default()
    })
    .await
    .unwrap();

    let kept = send_until_end_of_data(&sink, "kept").await;
    let abandoned = send_until_end_of_data(&sink, "abandoned").await;
    drop(abandoned);

    let mut kept = kept;
    let mut reply = String::new();
    kept.read_line(&mut reply).await.unwrap();
    assert!(reply.starts_with("250"), "{reply:?}");
    // The abandoned message's latency ended at the same time as the kept one's.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let subjects: Vec<String> = sink.deliveries().into_iter().map(|d| d.subject).collect();
    assert_eq!(subjects, ["kept"]);
}
