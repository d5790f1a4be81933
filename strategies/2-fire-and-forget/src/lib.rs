//! # Strategy 2: fire and forget
//!
//! The handler starts the send as a background task and answers `200` at once. The client
//! gets a fast answer and no promise: if the send fails, only the log knows.
//!
//! ```text
//! client ──GET──► handler ──spawn(send)──► task ──SMTP──► server
//!        ◄─ 200 ─ handler                    └─ on failure: a log line, nothing else
//! ```
//!
//! ## Delivery guarantee: none (at-most-once at best)
//!
//! The answer comes before the mail is sent
//! (test `answers_before_the_mail_is_sent_and_sends_it_later`). Mail is lost silently when:
//!
//! * **the SMTP server refuses or drops it**: the error is logged and the mail is gone, no
//!   retry (`a_failed_send_is_lost_and_only_the_log_knows`);
//! * **the process dies**: every send still in flight dies with it. SIGKILL or a crash loses
//!   them all, without a word (`sigkill_loses_every_send_in_flight`). SIGTERM waits up to
//!   `--drain-ms` for them, then abandons the rest, each with an `email lost` line
//!   (`sigterm_drains_sends_that_finish_in_time`,
//!   `sigterm_abandons_what_does_not_finish_within_the_drain_time`).
//!
//! Silent to the client, not to the log: every lost mail gets one `email lost` line, and
//! the shutdown summary's `lost` is the number of those lines, failed and abandoned alike
//! (`the_summary_counts_every_email_lost_line`).
//!
//! Bad input gets a `400` before any send is spawned (`bad_input_is_a_400_and_sends_nothing`).
//!
//! ## Sends in flight: bounded
//!
//! Each request starts its own send, so a burst of requests is a burst of SMTP connections,
//! and a slow mail server keeps every one of them (and its mail) in memory.
//! `--smtp-pool-size` does not stop that: it caps the idle connections kept for reuse, and
//! a send that finds none opens another. `--max-in-flight` does: past that many sends
//! running at once, the web answers `503 "too many sends in flight"` and starts nothing, so
//! that mail is refused, not lost
//! (`past_max_in_flight_the_web_answers_503_and_starts_no_send`).
//!
//! ## Map of the crate
//!
//! * this file: [`Args`] (the flags, `--drain-ms` and `--max-in-flight` among them),
//!   [`FireAndForget`] (the [`EmailService`] that spawns the send and answers) and [`run`]
//!   (serve until SIGTERM, then drain what is in flight and abandon the rest);
//! * `tally.rs`: what became of each mail, counted where its log line is written;
//! * `dashboard.rs`: `/dashboard`, the sends in flight and the mails lost so far;
//! * `main.rs`: the binary, which parses the flags and calls [`run`].
//!
//! See ARCHITECTURE.md, section "Strategy 2: fire and forget"

mod dashboard;
mod tally;

use clap::Parser;
use kit::{BoxFuture, EmailService, HttpArgs, MailArgs, Refusal};
use mailer::{Email, Mailer};
use serde_json::{json, Map, Value};
use std::sync::Arc;
// workshop 2.1: solution begin
use std::time::Duration;
// workshop 2.1: solution end
use tally::{Loss, Tally};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Strategy 2: answer 200 at once and send in a background task; failures are only logged.
#[derive(Parser, Debug)]
#[command(version, about)]
pub struct Args {
    #[command(flatten)]
    http: HttpArgs,
    #[command(flatten)]
    mail: MailArgs,
    /// On SIGTERM/SIGINT, wait this long for in-flight sends before abandoning them.
    #[arg(long, env = "DRAIN_MS", default_value_t = 5000)]
    drain_ms: u64,
    /// The most sends running at once. Past it the web answers 503 "too many sends in
    /// flight" and starts none, so a slow mail server cannot make memory grow without bound.
    #[arg(long, env = "MAX_IN_FLIGHT", default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1..))]
    max_in_flight: u32,
}

/// Spawns the send and answers at once.
pub struct FireAndForget {
    mailer: Mailer,
    /// Every spawned send, so shutdown can wait for them and count what is left.
    tasks: TaskTracker,
    /// One permit per send in flight, held by the send's task until it ends.
    slots: Arc<Semaphore>,
    max_in_flight: u32,
    /// Cancelled when the drain time is over: each send still running then ends at once,
    /// and says its mail is lost.
    abandon: CancellationToken,
    tally: Arc<Tally>,
}

impl EmailService for FireAndForget {
    fn submit(&self, email: Email) -> BoxFuture<'_, Result<Map<String, Value>, Refusal>> {
        // Before the spawn, not inside it: a send that cannot start must be refused while
        // the client is still waiting for an answer. Past the limit the mail is refused,
        // never queued, so nothing waits in memory for a slow mail server.
        let Ok(slot) = self.slots.clone().try_acquire_owned() else {
            let refusal = Refusal::unavailable(format!(
                "too many sends in flight (the most is {}): the mail server is slow, try again later",
                self.max_in_flight
            ));
            return Box::pin(async move { Err(refusal) });
        };
        let mailer = self.mailer.clone();
        let tally = self.tally.clone();
        let abandon = self.abandon.clone();
        self.tasks.spawn(async move {
            tokio::select! {
                // A send that finishes as the drain time runs out counts as what it was.
                biased;
                sent = mailer.send(&email) => match sent {
                    Ok(_) => tally.sent(&email),
                    Err(e) => tally.lost(&email, Loss::Failed(e.to_string())),
                },
                _ = abandon.cancelled() => tally.lost(&email, Loss::Abandoned),
            }
            // The slot is free again once the send is over, however it ended.
            drop(slot);
        });
        let in_flight = self.tasks.len();
        Box::pin(async move {
            let mut fields = Map::new();
            fields.insert("in_flight".into(), json!(in_flight));
            Ok(fields)
        })
    }

    /// `/dashboard`: sends in flight, sent, lost so far (see [`dashboard`]).
    fn dashboard<'a>(
        &'a self,
        request: &'a kit::dashboard::Request<'a>,
    ) -> Option<BoxFuture<'a, kit::dashboard::Reply>> {
        Some(Box::pin(async move { dashboard::page(self, request) }))
    }
}

/// Serves until SIGTERM/SIGINT, then gives the sends in flight `--drain-ms` to finish,
/// abandons the rest and logs what became of every mail.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let shutdown = kit::shutdown::on_signal();
    let mail = kit::embedded::mail(&args.mail).await?;
    let service = Arc::new(FireAndForget {
        mailer: mail.mailer.clone(),
        tasks: TaskTracker::new(),
        slots: Arc::new(Semaphore::new(args.max_in_flight as usize)),
        max_in_flight: args.max_in_flight,
        abandon: CancellationToken::new(),
        tally: Arc::default(),
    });
    let listener = kit::http::bind(&args.http.addr()).await?;
    kit::http::serve(listener, service.clone(), shutdown).await;

    // workshop 2.1: solution begin
    // The web front is closed: no new sends can start. Give the running ones a chance.
    let pending = service.tasks.len();
    service.tasks.close();
    tracing::info!(
        in_flight = pending,
        drain_ms = args.drain_ms,
        "draining in-flight sends"
    );
    let drained = tokio::time::timeout(Duration::from_millis(args.drain_ms), service.tasks.wait())
        .await
        .is_ok();
    if !drained {
        // Each send still running logs its mail as lost and ends; waiting for them makes
        // the counts below final. Left to die with the runtime instead, they would vanish
        // without a line, and a send finishing meanwhile could be counted twice.
        service.abandon.cancel();
        service.tasks.wait().await;
    }
    let (sent, failed, abandoned) = service.tally.counts();
    tracing::info!(
        sent,
        failed,
        abandoned,
        drained = pending as u64 - abandoned,
        lost = failed + abandoned,
        "stopped{}",
        if drained {
            ""
        } else {
            ": in-flight sends abandoned, those mails are lost"
        }
    );
    // workshop 2.1: solution end
    // workshop 2.1: starter
    // // Stopping at once, as the original did: whatever is still being sent dies with
    // // the process, and nothing says how much that was.
    // let _ = (args.drain_ms, &service.abandon, service.tally.counts());
    // workshop 2.1: starter end
    Ok(())
}
