//! `mailer-sink` as a real process: it listens, prints each delivery, and writes the ledger.

use mailer::{Email, Mailer};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test]
async fn mailer_sink_writes_one_ledger_line_per_accepted_message() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("mail.jsonl");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut sink = Command::new(env!("CARGO_BIN_EXE_mailer-sink"))
        .args(["--port", &port.to_string(), "--ledger"])
        .arg(&ledger)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();

    let mailer = Mailer::from_url(&format!("smtp://127.0.0.1:{port}"), 1).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut sent = 0;
    while sent < 3 {
        let email = Email::new("you@example.com", format!("m{sent}"), "hi").unwrap();
        match mailer.send(&email).await {
            Ok(_) => sent += 1,
            // Not listening yet: the process is still starting.
            Err(e) if e.is_transient() && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(e) => panic!("{e}"),
        }
    }

    let subjects: Vec<String> = mailer::ledger::read(&ledger)
        .unwrap()
        .into_iter()
        .map(|d| d.subject)
        .collect();
    assert_eq!(subjects, ["m0", "m1", "m2"]);

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(sink.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    assert!(sink.wait().unwrap().success());
    let mut output = String::new();
    sink.stdout
        .take()
        .unwrap()
        .read_to_string(&mut output)
        .unwrap();
    assert_eq!(output.matches("mail delivered").count(), 3, "{output}");
    assert!(output.contains("accepted=3"), "{output}");
}
