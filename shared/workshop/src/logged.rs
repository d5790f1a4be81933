//! Running one tool (cargo, the harness) with its output in a log file and a time limit.
//!
//! A check must fail for a reason it can name: a build error, a test that failed, a count
//! that missed its target. A tool that hangs would be none of these, so every run has a
//! limit, and running out of it is reported as a timeout, not as a failure of the code.

use anyhow::Context;
use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How a logged run ended.
#[derive(Debug)]
pub struct Finished {
    /// `false` also when it ran out of time.
    pub success: bool,
    pub timed_out: bool,
    /// Everything it printed, standard output and error interleaved.
    pub output: String,
    pub log: PathBuf,
}

/// Runs `command` with both output streams in `log`, killing it after `limit`.
pub fn run(mut command: Command, log: &Path, limit: Duration) -> anyhow::Result<Finished> {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = File::create(log).with_context(|| format!("creating {}", log.display()))?;
    // A group of its own: cargo test runs test binaries, the harness runs strategies, and
    // a timeout must stop all of them, not only the process it started.
    command
        .stdin(Stdio::null())
        .stdout(file.try_clone()?)
        .stderr(file)
        .process_group(0);
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {:?}", command.get_program()))?;
    let deadline = Instant::now() + limit;
    let (success, timed_out) = loop {
        if let Some(status) = child.try_wait()? {
            break (status.success(), false);
        }
        if Instant::now() >= deadline {
            // SAFETY: signals the process group created above, which only holds what this
            // run started.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            let _ = child.wait();
            break (false, true);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let output = std::fs::read_to_string(log).unwrap_or_default();
    Ok(Finished {
        success,
        timed_out,
        output,
        log: log.to_path_buf(),
    })
}

/// The last `n` lines of `text`, for a summary that points at the log for the rest.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
