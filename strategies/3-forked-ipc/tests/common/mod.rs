//! What the tests of strategy 3 share: a real SMTP sink, the real binary as a child process,
//! and wait-until loops with generous deadlines (CI is a loaded 2-core machine).

#![allow(dead_code)]

use kit::client::{Answer, HttpClient};
use mailer::{Delivery, Sink, SinkConfig};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;
use std::future::Future;
use std::time::Duration;
use testkit::ChildProcess;

pub const BIN: &str = env!("CARGO_BIN_EXE_strategy-3");
pub const DEADLINE: Duration = Duration::from_secs(30);

pub async fn sink() -> Sink {
    Sink::start_local(SinkConfig::default())
        .await
        .expect("starting the SMTP sink")
}

/// Starts strategy 3 sending to `sink`, with the given extra flags, and waits for /healthz.
pub async fn start(sink: &Sink, flags: &[&str]) -> ChildProcess {
    let url = sink.url();
    ChildProcess::start_http(BIN, flags, &[("SMTP_URL", url.as_str())])
        .await
        .expect("starting strategy-3")
}

pub fn client() -> HttpClient {
    HttpClient::new(Duration::from_secs(10))
}

/// The `/healthz` answer: `{"supervisor":N,"web":N,"worker":N|null}`.
pub async fn pids(app: &ChildProcess) -> Value {
    let answer = client()
        .get(&app.url("/healthz"))
        .await
        .expect("GET /healthz");
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    answer.json
}

pub fn pid_of(pids: &Value, part: &str) -> Option<i32> {
    pids[part].as_i64().map(|pid| pid as i32)
}

pub fn sigkill(pid: i32) {
    kill(Pid::from_raw(pid), Signal::SIGKILL).expect("SIGKILL");
}

/// The worker's pid, once the supervisor has forked it.
pub async fn worker_pid(app: &ChildProcess) -> i32 {
    wait_until("the worker is forked", || async {
        pid_of(&pids(app).await, "worker")
    })
    .await
}

/// SIGKILLs the worker and waits until the supervisor has noticed (`/healthz` says `null`).
pub async fn kill_the_worker(app: &ChildProcess) {
    sigkill(worker_pid(app).await);
    wait_until("/healthz shows the worker dead", || async {
        pids(app).await["worker"].is_null().then_some(())
    })
    .await;
}

/// Freezes a process: it keeps its sockets open and reads none of them.
pub fn sigstop(pid: i32) {
    kill(Pid::from_raw(pid), Signal::SIGSTOP).expect("SIGSTOP");
}

pub fn sigcont(pid: i32) {
    kill(Pid::from_raw(pid), Signal::SIGCONT).expect("SIGCONT");
}

/// A memory figure of a process in KiB, from /proc/PID/status: `VmRSS` (resident now) or
/// `VmHWM` (the most it was ever resident).
pub fn memory_kib(pid: i32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in:\n{status}"))
}

pub fn is_alive(pid: i32) -> bool {
    kill(Pid::from_raw(pid), None).is_ok()
}

/// `GET /<to>/<subject>/<text>`; asserts 200 and returns the answer's JSON.
pub async fn send(app: &ChildProcess, subject: &str, text: &str) -> Value {
    let answer = client()
        .get(&app.url(&format!("/you@example.com/{subject}/{text}")))
        .await
        .expect("GET mail");
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    answer.json
}

/// `POST /emails` with this subject and text; returns the answer, whatever its status.
pub async fn post(client: &HttpClient, app: &ChildProcess, subject: &str, text: &str) -> Answer {
    let email = serde_json::json!({"to": "you@example.com", "subject": subject, "text": text});
    client
        .post_json(&app.url("/emails"), &email)
        .await
        .expect("POST /emails")
}

/// Polls `check` until it returns `Some`, or panics naming `what` after [`DEADLINE`].
pub async fn wait_until<T, F, Fut>(what: &str, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    testkit::wait_until(what, DEADLINE, check).await
}

/// The sink's deliveries with this subject.
pub fn delivered(sink: &Sink, subject: &str) -> Vec<Delivery> {
    sink.deliveries()
        .into_iter()
        .filter(|d| d.subject == subject)
        .collect()
}

/// Waits until the sink has `count` deliveries with this subject.
pub async fn wait_for_subject(sink: &Sink, subject: &str, count: usize) -> Vec<Delivery> {
    wait_until(
        &format!("{count} mails with subject {subject:?} arrive"),
        || async {
            let found = delivered(sink, subject);
            (found.len() >= count).then_some(found)
        },
    )
    .await
}

/// The number in the first log line containing `before N after`.
pub fn number_in_logs(logs: &str, before: &str, after: &str) -> Option<usize> {
    logs.lines().find_map(|line| {
        let rest = &line[line.find(before)? + before.len()..];
        let number = &rest[..rest.find(after)?];
        number.trim().parse().ok()
    })
}

/// Running, as opposed to gone or a zombie. A child orphaned by a SIGKILLed supervisor is
/// re-parented to pid 1, which in a container may never reap it: `kill(pid, 0)` would
/// still find the zombie, so this reads the state from /proc.
pub fn is_running(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    !matches!(state, Some("Z") | Some("X") | None)
}
