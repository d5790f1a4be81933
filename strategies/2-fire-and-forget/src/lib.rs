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
//!   `--drain-ms` for them and logs how many were drained and how many were abandoned
//!   (`sigterm_drains_sends_that_finish_in_time`,
//!   `sigterm_abandons_what_does_not_finish_within_the_drain_time`).
//!
//! Bad input gets a `400` before any send is spawned (`bad_input_is_a_400_and_sends_nothing`).
//!
//! There is no bound on concurrency either: each request starts its own send, so a burst
//! of requests becomes a burst of SMTP connections. `--smtp-pool-size` does not stop it:
//! it caps the idle connections kept for reuse, and a send that finds none opens another.
//!
//! ## Map of the crate
//!
//! * this file: [`Args`] (the flags, `--drain-ms` among them), [`FireAndForget`] (the
//!   [`EmailService`] that spawns the send and answers) and [`run`] (serve until SIGTERM,
//!   then drain what is in flight and count what is lost);
//! * `main.rs`: the binary, which parses the flags and calls [`run`].
//!
//! See ARCHITECTURE.md, section "Strategy 2: fire and forget"

use clap::Parser;
use kit::{BoxFuture, EmailService, HttpArgs, MailArgs, Refusal};
use mailer::{Email, Mailer};
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
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
}

/// Spawns the send and answers at once.
pub struct FireAndForget {
    mailer: Mailer,
    /// Every spawned send, so shutdown can wait for them and count what is left.
    tasks: TaskTracker,
    sent: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
}

impl EmailService for FireAndForget {
    fn submit(&self, email: Email) -> BoxFuture<'_, Result<Map<String, Value>, Refusal>> {
        let mailer = self.mailer.clone();
        let (sent, failed) = (self.sent.clone(), self.failed.clone());
        self.tasks.spawn(async move {
            match mailer.send(&email).await {
                Ok(_) => {
                    sent.fetch_add(1, Ordering::Relaxed);
                    tracing::info!("Sent an email to {}", email.to);
                }
                Err(e) => {
                    // The lesson: the client was told 200 long ago. Nobody else will know.
                    failed.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(to = %email.to, subject = %email.subject, error = %e, "email lost: sending failed after the client was told 200");
                }
            }
        });
        let in_flight = self.tasks.len();
        Box::pin(async move {
            let mut fields = Map::new();
            fields.insert("in_flight".into(), json!(in_flight));
            Ok(fields)
        })
    }
}

/// Serves until SIGTERM/SIGINT, then gives the sends in flight `--drain-ms` to finish and
/// logs how many were drained and how many are lost.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let shutdown = kit::shutdown::on_signal();
    let mail = kit::embedded::mail(&args.mail).await?;
    let service = Arc::new(FireAndForget {
        mailer: mail.mailer.clone(),
        tasks: TaskTracker::new(),
        sent: Arc::default(),
        failed: Arc::default(),
    });
    let listener = kit::http::bind(&args.http.addr()).await?;
    kit::http::serve(listener, service.clone(), shutdown).await;

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
    let abandoned = service.tasks.len();
    tracing::info!(
        sent = service.sent.load(Ordering::Relaxed),
        failed = service.failed.load(Ordering::Relaxed),
        drained = pending - abandoned,
        lost = abandoned,
        "stopped{}",
        if drained {
            ""
        } else {
            ": in-flight sends abandoned, those mails are lost"
        }
    );
    Ok(())
}
