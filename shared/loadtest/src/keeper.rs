//! The thread every child process is started from.
//!
//! kit starts children with `PR_SET_PDEATHSIG`, so that a harness killed by anything leaves
//! no strategy or redis-server behind. The kernel sends that signal when the *thread* that
//! started the child exits, not the process. Tokio's blocking pool retires idle threads, so a
//! child started there would be killed mid-run for no reason. Starting, restarting and
//! stopping children on one thread that lives as long as the harness avoids that, and keeps
//! the blocking waits (`RedisServer::restart` waits for PING) off the runtime that drives
//! the load.

use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};

type Job = Box<dyn FnOnce() + Send>;

fn jobs() -> &'static Mutex<mpsc::Sender<Job>> {
    static JOBS: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    JOBS.get_or_init(|| {
        let (sender, receiver) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("loadtest-keeper".into())
            .spawn(move || {
                for job in receiver {
                    job();
                }
            })
            .expect("spawning the keeper thread");
        Mutex::new(sender)
    })
}

/// Runs `f` on the keeper thread and returns its result.
pub async fn run<T, F>(f: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (reply, answer) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        // A panic must not take the keeper thread (and every child it started) down with it.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let _ = reply.send(result);
    });
    jobs()
        .lock()
        .unwrap()
        .send(job)
        .expect("the keeper thread runs as long as the process");
    match answer.await.expect("the keeper thread answers every job") {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}
