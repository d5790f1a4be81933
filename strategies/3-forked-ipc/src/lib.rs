//! # Strategy 3: a supervisor forks a web process and a worker process that pass messages
//!
//! The original demo's `cluster.fork()`, with `fork(2)` and socketpairs. One command starts
//! a supervisor (the original's "master") that forks two children: a web server and an email
//! worker. The web server hands each email to the supervisor, the supervisor hands it to the
//! worker, and the worker keeps it in memory and sends one email per `--throttle-ms`.
//! Children never print: their status and their log lines go to the supervisor, which prints
//! them for them, `[email worker @ 4242] email sent!`
//! (test `delivers_mail_sent_by_get_and_post_and_logs_for_its_children`).
//!
//! ```text
//!            socketpair, framed JSON            socketpair, framed JSON
//! client ─GET─► web server ─Submit─► supervisor ─Deliver─► email worker ─SMTP─► server
//!        ◄─200─            ◄Accepted─  │ holds emails       in-memory queue,
//!                                      │ while no worker    one email, then
//!                                      │ is ready           --throttle-ms pause
//!                                      ◄── Trying / Sent / Retrying / GaveUp / Log ──┘
//!
//! every --check-interval-ms: re-fork the children that died (SIGCHLD said when)
//! ```
//!
//! ## Fork safety
//!
//! `fork()` copies only the thread that calls it. In a multi-threaded process, another
//! thread may hold a lock (the allocator's, a runtime's) at that instant: the child gets the
//! lock, locked, and not the thread that would unlock it. A tokio runtime, even a
//! `current_thread` one, may have blocking-pool threads. Hence:
//!
//! * **The supervisor never has a second thread.** No tokio, no helper thread: it waits with
//!   `poll(2)` on its sockets and a signalfd (SIGCHLD, SIGTERM, SIGINT), and frames messages
//!   with the codec's plain `encode`/`decode` functions. All its forks, the first ones and the
//!   re-forks of dead children, happen from that one thread, and the supervisor
//!   (`supervisor/forking.rs`) checks `/proc/self/task` before each one rather than trusting
//!   this paragraph.
//! * **Each child builds its own runtime after the fork** (`child.rs`), as pre-forking
//!   servers (Unicorn, Resque's parent) do.
//! * **The embedded mail sink** (no `SMTP_URL`) runs on tokio, so it cannot live in the
//!   supervisor: it is a third child, which also makes it outlive worker restarts
//!   (`without_smtp_url_the_mail_sink_is_a_child_that_survives_a_sigkill`). With `SMTP_URL`,
//!   the worker sends there and there are exactly three processes.
//!
//! The other safe design, fork+exec of `/proc/self/exe --role worker`, would allow a runtime
//! in the supervisor, but exec throws away what this lesson is about: a forked child starts
//! with a copy of its parent's memory and sockets (the settings, the listening socket).
//! Children die with the supervisor (`PR_SET_PDEATHSIG`,
//! `children_die_with_a_killed_supervisor`), and sit in their own process group so that
//! Ctrl-C reaches only the supervisor, which stops them in order.
//!
//! ## Delivery guarantee: at-most-once (at-least-once with `--ack`); the worker's memory is where mail dies
//!
//! `200` means the supervisor has the email; `"held": true` says no worker was ready, and the
//! supervisor keeps the email until the next worker says it is ready (the original crashed
//! here: `children.worker.send` on `undefined`; test
//! `emails_sent_while_the_worker_is_dead_are_held_and_sent_by_the_next_one`).
//!
//! A supervisor that does not answer within 5 s (frozen, or too busy) gets the truth told
//! about it: `503` when the web server could take the email back before writing it to the
//! supervisor (it is never sent, a retry is safe), `202` when it was already written (the
//! supervisor reads it when it wakes and has it sent: a client that retries a `202` may
//! get the mail twice). A `503` never means "maybe sent"
//! (`a_503_from_a_stopped_supervisor_is_never_sent`).
//!
//! The backlog is bounded: the supervisor takes at most `--max-backlog` emails (default
//! 2000) that are held or in the worker, and answers the next one `503 "backlog full"`,
//! so a frozen or slow worker cannot make the supervisor or the worker grow without end
//! (`a_full_backlog_answers_503_and_bounds_the_memory_of_every_process`,
//! `emails_held_while_no_worker_is_ready_count_in_the_backlog`). Mail is lost when:
//!
//! * **the worker is killed** (SIGKILL, a crash): every email in its in-memory queue. The
//!   supervisor knows which (handed over, never reported sent) and logs `lost N emails` with
//!   their ids, but does not hand them to the next worker: the one being sent may have
//!   reached the SMTP server already, so replaying would trade loss for duplicates.
//!   Test: `sigkill_of_the_worker_loses_its_backlog_and_a_new_worker_takes_over`.
//!   **`--ack` makes that trade** (at-least-once): the supervisor keeps a copy of each email
//!   until the worker acknowledges it (its `Sent` or `GaveUp` report), and hands a dead
//!   worker's unacknowledged emails to the next one, ahead of newer mail. Nothing accepted
//!   is lost with the worker; the email being sent at the kill may arrive twice, and the
//!   summary counts what was `handed again`. The copies live in the supervisor, so its death
//!   still loses them (strategy 5's reliable fetch keeps the queue outside every process).
//!   Test: `with_ack_a_sigkill_of_the_worker_loses_nothing_and_the_next_worker_sends_its_backlog`;
//! * **SIGTERM**: the web server stops first, then the worker finishes the email it is
//!   sending and abandons the rest of its queue (logged, with ids); SIGTERM exits 0
//!   (`sigterm_stops_every_process_in_order_and_exits_zero`);
//! * **the supervisor dies**: everything; the held emails were only in its memory;
//! * **the SMTP server refuses for good** (5xx): logged as given up. A transient failure
//!   goes to the back of the queue (`transient_failures_are_retried_and_permanent_ones_given_up`),
//!   to be tried again after `--retry-delay-ms`, twice as long after each further failure
//!   (at most `--max-retry-delay-ms`); the original retried at once, forever. After
//!   `--max-attempts` attempts the email is given up, lost with its last error in the log
//!   and counted in the summary
//!   (`a_mail_that_keeps_failing_is_retried_with_growing_delays_then_given_up`).
//!
//! A killed web server loses nothing accepted: connections arriving while it is dead wait in
//! the listen backlog of the socket the supervisor keeps open, and the next web server
//! answers them (`killed_web_server_is_reforked_and_serves_again`). Requests the dead one
//! was answering get a reset connection. Bad input gets a `400` with a JSON error and kills
//! nothing (`bad_input_gets_a_400_json_error_and_sends_nothing`).
//!
//! `GET /healthz` answers `{"supervisor":N,"web":N,"worker":N}`, asked of the supervisor on
//! every call. Between a worker's death and its re-fork, `"worker"` is `null` and the answer
//! is still `200`: the strategy accepts work then (it holds it). With the embedded sink the
//! answer also has `"mail_sink"`.
//!
//! ## Try it
//!
//! ```text
//! cargo run -p strategy-3
//! for i in 1 2 3 4 5; do curl -s localhost:8080/you@example.com/Hello/$i > /dev/null; done
//! kill -9 $(curl -s localhost:8080/healthz | grep -o '"worker": [0-9]*' | grep -o '[0-9]*$')
//! ```
//!
//! The log shows the worker's `died :(`, the ids of the emails that died with it, and the
//! new worker a moment later: a death is noticed at once (SIGCHLD), the re-fork waits for
//! the next check (up to `--check-interval-ms`), and a forked worker is ready in a few
//! milliseconds.
//!
//! ## Map of the crate
//!
//! In the supervisor's process, before and between forks:
//! * this file: the flags ([`Args`]), [`run`], and what is decided before the first fork
//!   (the listening sockets, the settings);
//! * `settings.rs`: what every process knows, because a forked child has a copy of it;
//! * `logging.rs`: one tracing subscriber for all processes; a child's lines go to the
//!   supervisor;
//! * `supervisor/`: the one-thread `poll(2)` loop (`mod.rs`), forking and re-forking
//!   (`forking.rs`), routing emails and keeping their books (`messages.rs`), stopping the
//!   children in order (`stopping.rs`);
//! * `channel.rs`: the supervisor's end of a socketpair, framed by hand without a runtime.
//!
//! In each child, after the fork:
//! * `child.rs`: the first steps of every child (die with the supervisor, own process
//!   group, own runtime);
//! * `web.rs`, `worker.rs`, `sink.rs`: the three roles; `retry.rs`: when the worker tries
//!   a failed email again, and when it gives up; `dashboard.rs`: the web server's
//!   `/dashboard`, the supervisor's books (children, restarts, held and in-worker emails);
//! * `link.rs`: the child's end of its socketpair, on the child's tokio runtime; a message
//!   can be taken back until it is written (how the web server knows a `503` from a `202`).
//!
//! On both ends: `protocol.rs`, the messages that travel on the socketpairs.
//!
//! See ARCHITECTURE.md, section "Strategy 3: forked IPC"

mod channel;
mod child;
mod dashboard;
mod link;
mod logging;
mod protocol;
mod retry;
mod settings;
mod sink;
mod supervisor;
mod web;
mod worker;

use clap::Parser;
use kit::{HttpArgs, MailArgs};
use retry::Backoff;
use settings::{EmbeddedSink, Listeners, Settings};
use std::net::{TcpListener, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

/// Strategy 3: a supervisor forks a web server and an email worker and passes emails
/// between them over socketpairs. The worker's in-memory queue dies with it (unless --ack).
#[derive(Parser, Debug)]
#[command(version, about)]
pub struct Args {
    #[command(flatten)]
    http: HttpArgs,
    #[command(flatten)]
    mail: MailArgs,
    /// Only `all`: the supervisor forks the web server and the email worker itself (they
    /// inherit its sockets, so they cannot be started on their own). Kill a child by the pid
    /// in /healthz and the supervisor forks a new one.
    #[arg(long, env = "ROLE", value_enum, default_value = "all")]
    role: RoleArg,
    /// The worker sends one email, then pauses this long (1000 like the original demo).
    #[arg(long, env = "THROTTLE_MS", default_value_t = 1000)]
    throttle_ms: u64,
    /// A transient failure sends the email to the back of the queue, to be tried again no
    /// sooner than this; each further failure of the same email waits twice as long.
    #[arg(long, env = "RETRY_DELAY_MS", default_value_t = 1000)]
    retry_delay_ms: u64,
    /// The longest wait between two attempts of one email, however often it failed.
    #[arg(long, env = "MAX_RETRY_DELAY_MS", default_value_t = 4000)]
    max_retry_delay_ms: u64,
    /// Attempts of one email in all (the first included). After the last transient failure
    /// the email is given up, with its error, in the log and the summary.
    #[arg(long, env = "MAX_ATTEMPTS", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..))]
    max_attempts: u32,
    /// The most emails in the supervisor's care at once: held while no worker is ready,
    /// plus handed to the worker and not yet reported sent or given up. Past it the web
    /// server answers 503 "backlog full" and the email is refused, not queued. An email is
    /// up to about 65 KB, so this bounds the memory of the supervisor and of the worker.
    #[arg(long, env = "MAX_BACKLOG", default_value_t = 2000,
          value_parser = clap::value_parser!(u32).range(1..))]
    max_backlog: u32,
    /// Acknowledged delivery: the supervisor keeps a copy of every email it hands to the
    /// worker until the worker reports it sent or given up (its acknowledgement), and
    /// hands the unacknowledged ones to the next worker when a worker dies. Nothing
    /// accepted is lost with a killed worker; the email it was sending at the kill may be
    /// sent twice (at-least-once). Without it, the worker's queue dies with it.
    #[arg(long, env = "ACK")]
    ack: bool,
    /// How often the supervisor re-forks children that died.
    #[arg(long, env = "CHECK_INTERVAL_MS", default_value_t = 1000)]
    check_interval_ms: u64,
    /// On SIGTERM/SIGINT, how long each child may take to stop before it is killed.
    #[arg(long, env = "STOP_TIMEOUT_MS", default_value_t = 15000)]
    stop_timeout_ms: u64,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum RoleArg {
    All,
}

/// Runs the supervisor until every child has stopped; its exit code.
///
/// Call it from a plain `fn main`, never from inside a runtime: the supervisor forks.
pub fn run(args: Args) -> ExitCode {
    // No runtime is ever built in this process: see "Fork safety" above.
    logging::init();
    match prepare(&args) {
        Ok((settings, listeners)) => {
            let code = match supervisor::Supervisor::new(settings, listeners) {
                Ok(supervisor) => supervisor.run(),
                Err(e) => {
                    tracing::error!("cannot start the supervisor: {e:#}");
                    1
                }
            };
            ExitCode::from(code as u8)
        }
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Everything decided before the first fork: the listening sockets and the settings.
fn prepare(args: &Args) -> anyhow::Result<(Settings, Listeners)> {
    let web = bind(&args.http.addr())?;
    kit::http::announce(web.local_addr()?);
    args.mail.warn_if_faults_are_ignored();

    let (smtp_url, embedded_sink, sink) = match &args.mail.smtp_url {
        Some(url) => (url.clone(), None, None),
        None => {
            // Bound here for the same reasons as the web server's socket: the worker's
            // SMTP_URL stays right across sink restarts, and no other program can take the
            // port while the sink is being re-forked.
            let sink = TcpListener::bind("127.0.0.1:0")?;
            let addr = sink.local_addr()?;
            let faults = args.mail.embedded_faults();
            tracing::info!("no SMTP_URL given: the embedded mail sink will listen on {addr}");
            (
                format!("smtp://{addr}"),
                Some(EmbeddedSink { faults }),
                Some(sink),
            )
        }
    };
    let settings = Settings {
        smtp_url,
        smtp_pool_size: args.mail.smtp_pool_size,
        throttle: Duration::from_millis(args.throttle_ms),
        retry: Backoff {
            first: Duration::from_millis(args.retry_delay_ms),
            max: Duration::from_millis(args.max_retry_delay_ms.max(args.retry_delay_ms)),
            max_attempts: args.max_attempts,
        },
        max_backlog: args.max_backlog as usize,
        ack: args.ack,
        check_interval: Duration::from_millis(args.check_interval_ms.max(1)),
        stop_timeout: Duration::from_millis(args.stop_timeout_ms),
        embedded_sink,
    };
    Ok((settings, Listeners { web, sink }))
}

/// Binds the web server's socket in the supervisor, so that it outlives web server deaths.
///
/// Bound once, before any fork: every web server forked later inherits this very socket.
/// A re-forked web server thus listens on the same port at once, no other program can take
/// the port while none is alive, and a connection that arrives meanwhile is not refused:
/// the kernel completes its handshake and queues it until the next web server accepts.
fn bind(addr: &str) -> anyhow::Result<TcpListener> {
    let addr = addr
        .to_socket_addrs()
        .map_err(|e| anyhow::anyhow!("cannot resolve {addr}: {e}"))?
        .next()
        .ok_or_else(|| anyhow::anyhow!("{addr} resolves to nothing"))?;
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        None,
    )?;
    socket.set_reuse_address(true)?;
    socket
        .bind(&addr.into())
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    // Room for the connections that arrive while the web server is being re-forked.
    socket.listen(1024)?;
    Ok(socket.into())
}
