//! Running a strategy binary as a real child process: for integration tests and the load
//! harness. The child's stdout and stderr go to a log file that tests can read, so a test
//! can assert on the log lines a strategy promises (a warning, a "died" line).

use crate::client::HttpClient;
use crate::redis_server::free_port;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::ffi::OsStr;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long a strategy may take to answer `/healthz` after it was started.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// The variables a child inherits from the test runner; everything else is cleared.
const INHERITED_ENV: [&str; 6] = ["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "RUST_BACKTRACE"];

/// A child process, killed (SIGKILL) when dropped.
pub struct ChildProcess {
    child: Option<Child>,
    /// The web front's port, for processes started with [`ChildProcess::start_http`].
    pub port: Option<u16>,
    log_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl ChildProcess {
    /// Starts `program` with `args` and `envs` (plus `RUST_LOG=info` unless given).
    pub fn start<I, S>(
        program: impl AsRef<OsStr>,
        args: I,
        envs: &[(&str, &str)],
    ) -> anyhow::Result<ChildProcess>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let dir = tempfile::Builder::new()
            .prefix("offload-child-")
            .tempdir()?;
        let log_path = dir.path().join("output.log");
        let log = std::fs::File::create(&log_path)?;
        let mut command = Command::new(program);
        // A clean environment: a developer's exported REDIS_URL, PORT or ROLE must not leak
        // into the process under test. Only what finding programs and temp files needs stays.
        command.env_clear();
        for key in INHERITED_ENV {
            if let Some(value) = std::env::var_os(key) {
                command.env(key, value);
            }
        }
        command
            .args(args)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        for (key, value) in envs {
            command.env(key, value);
        }
        // The child dies with the thread that started it, so a crashed test leaves no orphan.
        // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = command.spawn()?;
        Ok(ChildProcess {
            child: Some(child),
            port: None,
            log_path,
            _dir: dir,
        })
    }

    /// Starts a strategy's web front on a free port (`--port` is added) and waits until
    /// `GET /healthz` answers 200.
    ///
    /// A port that was free when [`free_port`] looked can be taken before the child binds
    /// it (any outgoing connection on the machine may get it as its local port). A child
    /// that exits saying so is started again on another port.
    pub async fn start_http<I, S>(
        program: impl AsRef<OsStr>,
        args: I,
        envs: &[(&str, &str)],
    ) -> anyhow::Result<ChildProcess>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<std::ffi::OsString> =
            args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let mut attempts_left = 3;
        loop {
            let port = free_port();
            let mut all_args = args.clone();
            all_args.push("--port".into());
            all_args.push(port.to_string().into());
            let mut process = ChildProcess::start(program.as_ref(), all_args, envs)?;
            process.port = Some(port);
            match process.wait_healthy(STARTUP_TIMEOUT).await {
                Ok(()) => return Ok(process),
                Err(_) if attempts_left > 1 && process.lost_its_port() => attempts_left -= 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// The process exited because its port was taken.
    fn lost_its_port(&mut self) -> bool {
        self.try_wait().is_some() && self.logs().contains("Address already in use")
    }

    /// Waits until the web front answers `GET /healthz` with 200.
    pub async fn wait_healthy(&mut self, timeout: Duration) -> anyhow::Result<()> {
        let url = self.url("/healthz");
        let client = HttpClient::new(Duration::from_secs(2));
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.try_wait() {
                anyhow::bail!(
                    "the process exited ({status}) before it was healthy; its output:\n{}",
                    self.logs()
                );
            }
            if let Ok(answer) = client.get(&url).await {
                if answer.status.is_success() {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        anyhow::bail!(
            "{url} did not answer 200 within {timeout:?}; output:\n{}",
            self.logs()
        )
    }

    /// `http://127.0.0.1:PORT{path}`
    pub fn url(&self, path: &str) -> String {
        format!(
            "http://127.0.0.1:{}{path}",
            self.port.expect("started with start_http")
        )
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// Everything the process printed so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Waits until the output contains `needle`; false if `timeout` passed first.
    pub async fn wait_for_log(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.logs().contains(needle) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends a signal without waiting.
    pub fn signal(&self, signal: Signal) {
        if let Some(pid) = self.pid() {
            let _ = kill(Pid::from_raw(pid as i32), signal);
        }
    }

    /// SIGKILL, and reap.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then wait up to `timeout` for the exit status (SIGKILL after that).
    pub async fn terminate(&mut self, timeout: Duration) -> Option<ExitStatus> {
        self.signal(Signal::SIGTERM);
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.try_wait() {
                self.child = None;
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.kill();
        None
    }

    /// The exit status if the process has exited.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls `check` until it returns `Some`, and returns what it found; panics naming `what`
/// once `timeout` has passed. For tests on a loaded CI machine: the deadline is there to end
/// a test that is stuck, never to make one pass, so make it generous (10-30 s).
pub async fn wait_until<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// One malformed request of the contract's bad-input table.
#[derive(Debug, Clone)]
pub struct BadRequestCase {
    pub what: &'static str,
    pub post_body: Option<&'static [u8]>,
    pub path: String,
}

/// The bad-input table every strategy's web front must answer with `400 {"error": ...}`,
/// sending nothing: invalid escapes, invalid UTF-8, missing segments, empty or malformed
/// `to`, CR/LF (header injection), a 60 KB path, and bodies that are not an email.
pub fn bad_requests() -> Vec<BadRequestCase> {
    let get = |what, path: &str| BadRequestCase {
        what,
        post_body: None,
        path: path.to_string(),
    };
    let post = |what, body: &'static [u8]| BadRequestCase {
        what,
        post_body: Some(body),
        path: "/emails".to_string(),
    };
    vec![
        get("truncated escape", "/you@example.com/Hello/%E0%A4%A"),
        get("non-hex escape", "/you@example.com/%zzHello/World"),
        get("signed escape", "/you@example.com/Hello/%+9World"),
        get("invalid UTF-8", "/you@example.com/%FF%FEHello/World"),
        get("missing text", "/you@example.com/Hello"),
        get("missing subject and text", "/you@example.com"),
        get("empty to", "//Hello/World"),
        get("to is not an address", "/not-an-address/Hello/World"),
        get("to with two @", "/a@b@example.com/Hello/World"),
        get(
            "to with a quoted comma",
            "/%22a@example.com,b@example.com%22@example.com/Hello/World",
        ),
        get("to with an IP literal", "/a@%5B127.0.0.1%5D/Hello/World"),
        get(
            "encoded word in subject",
            "/you@example.com/=%3Futf-8%3Fq%3Fhello=0D=0ABcc:=20evil@evil.com=00%3F=/World",
        ),
        get(
            "CR/LF in to",
            "/you@example.com%0D%0ABcc:%20evil@example.com/Hello/World",
        ),
        get(
            "CR/LF in subject",
            "/you@example.com/Hello%0D%0ABcc:%20evil@example.com/World",
        ),
        get(
            "LF in text",
            "/you@example.com/Hello/World%0A.%0AMAIL%20FROM",
        ),
        get(
            "60 KB path",
            &format!("/you@example.com/Hello/{}", "x".repeat(60 * 1024)),
        ),
        post("non-JSON body", b"to=you@example.com&subject=Hello"),
        post(
            "JSON without text",
            br#"{"to":"you@example.com","subject":"Hello"}"#,
        ),
        post(
            "JSON with a bad address",
            br#"{"to":"nobody","subject":"Hello","text":"World"}"#,
        ),
        post(
            "JSON with CR/LF in subject",
            br#"{"to":"you@example.com","subject":"Hi\r\nBcc: evil@example.com","text":"World"}"#,
        ),
    ]
}

/// Sends every [`bad_requests`] case to `base` (`http://127.0.0.1:PORT`) and returns a
/// description of each answer that was not `400` with a JSON `error` string. Then sends a
/// 100 KB path over a raw socket: past 64 KB the HTTP layer (the `http` crate caps a URI
/// at 64 KB) refuses it with `414` before any handler runs; that must be a 4xx, not a crash.
pub async fn check_bad_requests(base: &str) -> Vec<String> {
    let client = HttpClient::default();
    let mut failures = Vec::new();
    let huge = format!("/you@example.com/Hello/{}", "x".repeat(100 * 1024));
    match raw_get_status(base, &huge).await {
        Ok(status) if (400..500).contains(&status) => {}
        Ok(status) => failures.push(format!("100 KB path: got {status}")),
        Err(e) => failures.push(format!("100 KB path: {e}")),
    }
    for case in bad_requests() {
        let url = format!("{base}{}", case.path);
        let answer = match case.post_body {
            Some(body) => client.post_raw(&url, body).await,
            None => client.get(&url).await,
        };
        match answer {
            Ok(answer)
                if answer.status == hyper::StatusCode::BAD_REQUEST
                    && answer.json["error"].is_string() => {}
            Ok(answer) => failures.push(format!(
                "{}: got {} {}",
                case.what, answer.status, answer.json
            )),
            Err(e) => failures.push(format!("{}: request failed: {e}", case.what)),
        }
    }
    failures
}

/// `GET path` over a plain socket, for requests a well-behaved client refuses to build.
/// Returns the status code of the answer.
pub async fn raw_get_status(base: &str, path: &str) -> anyhow::Result<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let authority = base
        .strip_prefix("http://")
        .unwrap_or(base)
        .trim_end_matches('/');
    let mut stream = tokio::net::TcpStream::connect(authority).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    // The server may answer and close before it read the whole request: ignore write errors.
    let _ = stream.write_all(request.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no HTTP status in {:?}",
                answer.chars().take(80).collect::<String>()
            )
        })
}
