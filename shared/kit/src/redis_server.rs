//! Starts a private `redis-server` on a free loopback port: for demos with no `REDIS_URL`,
//! for tests (each test its own server, so they run in parallel), and for the harness.
//!
//! The server lives in a temporary directory, which also keeps its AOF file when asked, so
//! [`RedisServer::restart`] brings back what Redis had acknowledged: the `redis-restart`
//! scenario depends on that.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a fresh `redis-server` may take to answer PING.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a server could not be started.
#[derive(Debug, thiserror::Error)]
pub enum RedisLaunchError {
    #[error(
        "redis-server is not installed (or not on PATH): run scripts/setup, which installs it \
         with apt-get, or point REDIS_URL at a running Redis"
    )]
    NotInstalled,
    #[error("could not start redis-server: {0}")]
    Io(#[from] std::io::Error),
    #[error("redis-server did not answer PING within {STARTUP_TIMEOUT:?}; its log:\n{0}")]
    NoAnswer(String),
}

/// When Redis syncs its append-only file to disk (`appendfsync`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Fsync {
    /// `always`: before answering any write, so an acknowledged write survives even a
    /// SIGKILL of Redis or a power cut. The price: every write waits for the disk, in the
    /// one thread that serves every client, so a slow sync (a disk shared with a build)
    /// holds up every command queued behind it.
    #[default]
    EveryWrite,
    /// `everysec`, Redis's own default: once a second, off the serving thread. A SIGTERM
    /// (how [`RedisServer::stop`] and [`RedisServer::restart`] stop it) still writes and
    /// syncs everything first; a SIGKILL or a power cut loses up to the last second.
    EverySecond,
}

/// Options for a private server.
#[derive(Debug, Clone, Default)]
pub struct RedisOptions {
    /// Append-only file on, so acknowledged writes survive a restart (how they are synced:
    /// `fsync`).
    pub aof: bool,
    /// With `aof`: when the file is synced to disk.
    pub fsync: Fsync,
    /// Listen on this port instead of a free one.
    pub port: Option<u16>,
    /// Extra `--name value` arguments for redis-server, e.g. `("cluster-enabled", "yes")`.
    pub extra_args: Vec<(String, String)>,
}

/// A running `redis-server` child. Dropping it kills the server and removes its directory.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    options: RedisOptions,
    dir: tempfile::TempDir,
}

impl RedisServer {
    /// A server with default options (no persistence) on a free port.
    pub fn start() -> Result<RedisServer, RedisLaunchError> {
        RedisServer::start_with(RedisOptions::default())
    }

    pub fn start_with(options: RedisOptions) -> Result<RedisServer, RedisLaunchError> {
        // A port picked by binding :0 could be taken again before redis-server binds it;
        // a few attempts make that race harmless.
        let mut last_error = None;
        for _ in 0..5 {
            let port = options.port.unwrap_or_else(free_port);
            let mut server = RedisServer {
                child: None,
                port,
                options: options.clone(),
                dir: tempfile::Builder::new()
                    .prefix("offload-redis-")
                    .tempdir()?,
            };
            match server.spawn() {
                Ok(()) => return Ok(server),
                Err(e @ RedisLaunchError::NotInstalled) => return Err(e),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.expect("at least one attempt"))
    }

    fn spawn(&mut self) -> Result<(), RedisLaunchError> {
        let mut command = Command::new("redis-server");
        command
            .arg("--port")
            .arg(self.port.to_string())
            .args(["--bind", "127.0.0.1", "--save", "", "--daemonize", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .arg("--logfile")
            .arg(self.log_path())
            .args(["--appendonly", if self.options.aof { "yes" } else { "no" }]);
        if self.options.aof {
            let when = match self.options.fsync {
                Fsync::EveryWrite => "always",
                Fsync::EverySecond => "everysec",
            };
            command.args(["--appendfsync", when]);
        }
        for (name, value) in &self.options.extra_args {
            command.arg(format!("--{name}")).arg(value);
        }
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // A process group of its own: a terminal's Ctrl-C goes to its whole foreground
        // group, and Redis must not die at the same instant as the strategy that uses it
        // (its consumers would log broken pipes while they finish). The strategy stops,
        // then drops this handle, which stops Redis: in that order.
        command.process_group(0);
        // Die with the process that started us, even if it is SIGKILLed and never runs Drop.
        // (The signal fires when the *thread* that spawned us exits: start servers from a
        // long-lived thread, not from a short-lived blocking-pool thread.)
        // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = command.spawn().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => RedisLaunchError::NotInstalled,
            _ => RedisLaunchError::Io(e),
        })?;
        self.child = Some(child);
        self.wait_for_ping()
    }

    fn wait_for_ping(&mut self) -> Result<(), RedisLaunchError> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // exited: the port was taken, or the config is wrong
                }
            }
            if ping(self.port) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        self.kill();
        Err(RedisLaunchError::NoAnswer(log))
    }

    /// `redis://127.0.0.1:PORT/`
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("redis.log")
    }

    /// The server's pid, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// SIGKILL: Redis gets no chance to write anything more.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM and wait: Redis flushes its AOF and exits cleanly.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let pid = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and directory (stopping it first if needed).
    pub fn restart(&mut self) -> Result<(), RedisLaunchError> {
        self.stop();
        self.spawn()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// True if something on `port` answers a RESP `PING` with `+PONG`.
pub fn ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut reply = [0u8; 7];
    stream.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("binding 127.0.0.1:0")
}
