//! One strategy running: its processes, in role order, and its own redis-server.
//!
//! The SMTP sink is not part of it: the caller owns the sink (it has to read it after the
//! strategy is gone) and passes its URL in. Every process gets `SMTP_URL` and, for a
//! strategy that uses Redis, `REDIS_URL` in its environment, the one configuration channel
//! all strategy binaries share whatever flags their roles take.

use crate::catalog::{Crash, Ready, Role, Strategy, Variant};
use crate::keeper;
use kit::client::HttpClient;
use kit::redis_server::free_port;
use kit::{Fsync, RedisOptions, RedisServer};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use testkit::{ChildProcess, STARTUP_TIMEOUT};

/// How long a role without a ready line must stay up to count as started.
const ALIVE_GRACE: Duration = Duration::from_millis(300);
/// How long a stopping process gets to finish its in-flight work after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a strategy could not be started: reported as the run's row, never a crash.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("not built: {0} is missing (run `cargo build --release --workspace --bins`)")]
    NotBuilt(PathBuf),
    #[error("did not start: {0}")]
    Failed(String),
}

/// One running process of the strategy.
struct Part {
    role: &'static Role,
    process: ChildProcess,
}

/// A strategy's running processes and Redis. Dropping it kills them all.
pub struct Deployment {
    strategy: &'static Strategy,
    variant: &'static Variant,
    binary: PathBuf,
    envs: Vec<(String, String)>,
    parts: Vec<Part>,
    /// Output of processes killed by a fault, by role, kept for the run's directory.
    retired_logs: Vec<(String, String)>,
    /// The web front's port, kept across restarts so the load keeps its address.
    web_port: u16,
    redis: Option<RedisServer>,
}

impl Deployment {
    /// Starts Redis (if the strategy uses it) and every role but `held_back`, workers
    /// before the web front. A held-back role is started later by [`Deployment::start_late`].
    pub async fn start(
        strategy: &'static Strategy,
        variant: &'static Variant,
        bin_dir: &Path,
        smtp_url: &str,
        held_back: Option<&str>,
    ) -> Result<Deployment, StartError> {
        let binary = crate::binaries::find(bin_dir, strategy.binary)
            .ok_or_else(|| StartError::NotBuilt(bin_dir.join(strategy.binary)))?;
        let mut envs = vec![("SMTP_URL".to_string(), smtp_url.to_string())];
        let redis = if strategy.uses_redis {
            // Synced once a second, as Redis is by default: with a sync before every
            // answer, every write waited for the disk in Redis's one serving thread, and a
            // slow sync (the disk is shared with builds) held up every client behind it, so
            // the report measured the disk instead of the strategy (`LATENCY LATEST` showed
            // `aof-fsync-always` stalls of 90 to 165 ms, and they were the HTTP tail of 5
            // and 6). The `redis-restart` scenario stops Redis with SIGTERM, which syncs
            // first: what Redis acknowledged still survives it.
            let options = RedisOptions {
                aof: true,
                fsync: Fsync::EverySecond,
                ..RedisOptions::default()
            };
            let server = keeper::run(move || RedisServer::start_with(options))
                .await
                .map_err(|e| StartError::Failed(e.to_string()))?;
            envs.push(("REDIS_URL".to_string(), server.url()));
            Some(server)
        } else {
            None
        };
        let mut deployment = Deployment {
            strategy,
            variant,
            binary,
            envs,
            parts: Vec::new(),
            retired_logs: Vec::new(),
            web_port: free_port(),
            redis,
        };
        for role in strategy.roles.iter().filter(|r| Some(r.name) != held_back) {
            let process = deployment
                .start_role(role)
                .await
                .map_err(|e| StartError::Failed(format!("{} role: {e:#}", role.name)))?;
            deployment.parts.push(Part { role, process });
        }
        Ok(deployment)
    }

    /// `http://127.0.0.1:PORT{path}` of the web front.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.web_port)
    }

    /// Every running process by role name, and the redis-server as `redis`: what a probe
    /// reads the CPU time of.
    pub fn pids(&self) -> Vec<(&'static str, u32)> {
        let roles = self
            .parts
            .iter()
            .filter_map(|part| Some((part.role.name, part.process.pid()?)));
        let redis = self.redis.as_ref().and_then(RedisServer::pid);
        roles.chain(redis.map(|pid| ("redis", pid))).collect()
    }

    /// The Redis URL, for a strategy that uses Redis.
    pub fn redis_url(&self) -> Option<String> {
        self.redis.as_ref().map(RedisServer::url)
    }

    /// The `worker-crash` fault: SIGKILL the part that holds work in flight and let it come
    /// back. Returns what was done, in words, for the report.
    pub async fn crash_worker(&mut self) -> anyhow::Result<String> {
        match self.strategy.crash {
            Crash::Restart(role_name) => {
                let index = self
                    .parts
                    .iter()
                    .position(|part| part.role.name == role_name)
                    .ok_or_else(|| anyhow::anyhow!("no {role_name} role is running"))?;
                let old_pid = self.parts[index].process.pid().unwrap_or_default();
                self.parts[index].process.kill();
                let role = self.parts[index].role;
                let started = Instant::now();
                let new_process = self.start_role(role).await?;
                let old_process = std::mem::replace(&mut self.parts[index].process, new_process);
                self.retired_logs
                    .push((format!("{role_name}-killed"), old_process.logs()));
                Ok(format!(
                    "SIGKILLed the {role_name} (pid {old_pid}); a new one was ready after {} ms",
                    started.elapsed().as_millis()
                ))
            }
            Crash::ReportedPid(field) => {
                let old_pid = self.reported_pid(field).await?;
                kill(Pid::from_raw(old_pid), Signal::SIGKILL)?;
                let started = Instant::now();
                let deadline = started + STARTUP_TIMEOUT;
                while Instant::now() < deadline {
                    if let Ok(pid) = self.reported_pid(field).await {
                        if pid != old_pid {
                            return Ok(format!(
                                "SIGKILLed the {field} (pid {old_pid}); the strategy started \
                                 pid {pid} within {} ms",
                                started.elapsed().as_millis()
                            ));
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Ok(format!(
                    "SIGKILLed the {field} (pid {old_pid}); no new one was reported within {}s",
                    STARTUP_TIMEOUT.as_secs()
                ))
            }
        }
    }

    /// The `late-worker` fault: starts the role held back at the start, and waits until it
    /// is ready. Returns what was done, in words, for the report.
    pub async fn start_late(&mut self, role_name: &str) -> anyhow::Result<String> {
        let position = self
            .strategy
            .roles
            .iter()
            .position(|r| r.name == role_name)
            .ok_or_else(|| anyhow::anyhow!("no {role_name} role"))?;
        let role = &self.strategy.roles[position];
        let started = Instant::now();
        let process = self.start_role(role).await?;
        // Kept in role order, so that `stop` still stops the web front first.
        let order = |role: &Role| self.strategy.roles.iter().position(|r| r.name == role.name);
        let index = self
            .parts
            .iter()
            .filter(|part| order(part.role) < Some(position))
            .count();
        self.parts.insert(index, Part { role, process });
        Ok(format!(
            "started the {role_name}, held back until now; it was ready after {} ms",
            started.elapsed().as_millis()
        ))
    }

    /// The `redis-restart` fault: stop Redis (it flushes its AOF) and start it again on the
    /// same port and directory.
    pub async fn restart_redis(&mut self) -> anyhow::Result<String> {
        let mut server = self
            .redis
            .take()
            .ok_or_else(|| anyhow::anyhow!("this strategy runs no Redis"))?;
        let started = Instant::now();
        let (server, result) = keeper::run(move || {
            let result = server.restart();
            (server, result)
        })
        .await;
        self.redis = Some(server);
        result?;
        Ok(format!(
            "restarted Redis; it answered PING again after {} ms",
            started.elapsed().as_millis()
        ))
    }

    /// Asks every process to stop (SIGTERM, then SIGKILL after a grace period) and returns
    /// each one's output, labelled by role, for the run's directory.
    pub async fn stop(mut self) -> Vec<(String, String)> {
        let mut logs = std::mem::take(&mut self.retired_logs);
        // Web front first, so no new work arrives while the workers finish theirs.
        while let Some(mut part) = self.parts.pop() {
            part.process.terminate(STOP_TIMEOUT).await;
            logs.push((part.role.name.to_string(), part.process.logs()));
        }
        logs
    }

    async fn start_role(&self, role: &'static Role) -> anyhow::Result<ChildProcess> {
        let mut args: Vec<String> = role.args.iter().map(|a| a.to_string()).collect();
        args.extend(self.variant.args_for(role.name).map(str::to_string));
        if matches!(role.ready, Ready::Http) {
            args.extend(["--port".to_string(), self.web_port.to_string()]);
        }
        let (binary, envs) = (self.binary.clone(), self.envs.clone());
        let mut process = keeper::run(move || {
            let envs: Vec<(&str, &str)> =
                envs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            ChildProcess::start(binary, args, &envs)
        })
        .await?;
        match role.ready {
            Ready::Http => {
                process.port = Some(self.web_port);
                if process.wait_healthy(STARTUP_TIMEOUT).await.is_err() {
                    let what = match process.try_wait() {
                        Some(status) => format!("exited ({status}) before /healthz answered"),
                        None => format!("/healthz did not answer 200 within {STARTUP_TIMEOUT:?}"),
                    };
                    anyhow::bail!("{what}: {}", explain(&process.logs()));
                }
            }
            Ready::Line(role) => wait_for_ready_line(&mut process, role).await?,
            Ready::Alive => {
                tokio::time::sleep(ALIVE_GRACE).await;
                if let Some(status) = process.try_wait() {
                    anyhow::bail!("exited ({status}) at once: {}", explain(&process.logs()));
                }
            }
        }
        Ok(process)
    }

    async fn reported_pid(&self, field: &str) -> anyhow::Result<i32> {
        let answer = HttpClient::new(Duration::from_secs(2))
            .get(&self.url("/healthz"))
            .await?;
        answer.json[field]
            .as_i64()
            .and_then(|pid| i32::try_from(pid).ok())
            .filter(|pid| *pid > 0)
            .ok_or_else(|| anyhow::anyhow!("/healthz has no {field} pid: {}", answer.json))
    }
}

/// Waits for a role's ready line ([`kit::ready`]), failing early if the process exits first.
async fn wait_for_ready_line(process: &mut ChildProcess, role: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    let needle = kit::ready::words(role);
    loop {
        if kit::ready::is_announced(&process.logs(), role) {
            return Ok(());
        }
        if let Some(status) = process.try_wait() {
            anyhow::bail!(
                "exited ({status}) before logging {needle:?}: {}",
                explain(&process.logs())
            );
        }
        if Instant::now() >= deadline {
            anyhow::bail!(
                "no {needle:?} line within {}s: {}",
                STARTUP_TIMEOUT.as_secs(),
                explain(&process.logs())
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A process's own account of why it stopped: its first line that mentions an error (a
/// flag it does not know, a missing Redis), else its last line; then its last lines.
fn explain(log: &str) -> String {
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    let reason = lines
        .iter()
        .find(|l| l.to_lowercase().contains("error"))
        .or(lines.last())
        .map_or("it printed nothing", |l| l.trim());
    let tail = lines[lines.len().saturating_sub(8)..].join("\n");
    format!("{reason}\n\nits last output:\n{tail}")
}
