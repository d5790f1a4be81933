//! Running a strategy binary as a real child process: for integration tests and the load
//! harness. The child's stdout and stderr go to a log file that tests can read, so a test
//! can assert on the log lines a strategy promises (a warning, a "died" line).

use crate::wait::poll;
use kit::client::HttpClient;
use kit::redis_server::free_port;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::ffi::OsStr;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

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
        // Done when healthy, or when the process exited (no point waiting any longer).
        let outcome = poll(timeout, || {
            let exited = self.try_wait();
            let (client, url) = (client.clone(), url.clone());
            async move {
                if let Some(status) = exited {
                    return Some(Err(status));
                }
                let answer = client.get(&url).await.ok()?;
                answer.status.is_success().then_some(Ok(()))
            }
        })
        .await;
        match outcome {
            Some(Ok(())) => Ok(()),
            Some(Err(status)) => anyhow::bail!(
                "the process exited ({status}) before it was healthy; its output:\n{}",
                self.logs()
            ),
            None => anyhow::bail!(
                "{url} did not answer 200 within {timeout:?}; output:\n{}",
                self.logs()
            ),
        }
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
        poll(timeout, || {
            std::future::ready(self.logs().contains(needle).then_some(()))
        })
        .await
        .is_some()
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
        match poll(timeout, || std::future::ready(self.try_wait())).await {
            Some(status) => {
                self.child = None;
                Some(status)
            }
            None => {
                self.kill();
                None
            }
        }
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
