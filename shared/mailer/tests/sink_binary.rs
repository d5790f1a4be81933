//! `mailer-sink` as a real process: it listens, prints each delivery, and writes the ledger.

use mailer::{Email, Mailer};
use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
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
    let mut sink = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_mailer-sink"))
            .args(["--port", &port.to_string(), "--ledger"])
            .arg(&ledger)
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );

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
        nix::unistd::Pid::from_raw(sink.0.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = wait_with_deadline(&mut sink.0, Duration::from_secs(20))
        .expect("mailer-sink did not exit within 20 s of SIGTERM");
    assert!(status.success(), "{status}");
    let mut output = String::new();
    sink.0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut output)
        .unwrap();
    assert_eq!(output.matches("mail delivered").count(), 3, "{output}");
    assert!(output.contains("accepted=3"), "{output}");
}

/// Kills the process if the test ends early (a failed assert), so no sink is left listening.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_with_deadline(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}
