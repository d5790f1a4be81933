//! # Strategy 1: foreground, in the request
//!
//! The web handler sends the email itself and answers only when the SMTP server has
//! accepted it. Nothing runs in the background: the client waits for the whole SMTP round
//! trip, and a slow mail server makes a slow web page.
//!
//! ```text
//! client ──GET /to/subject/text──► handler ──SMTP──► server
//!        ◄── 200 {"email"} ─────── handler ◄─ 250 ──┘     (or 502 {"error"} on 4xx/5xx)
//! ```
//!
//! ## Delivery guarantee: the client knows
//!
//! The honest one. `200` means the SMTP server accepted the mail
//! (test `answers_200_only_after_the_server_accepted_the_mail`, and
//! `post_emails_does_the_same` for `POST /emails`); `502` means it did not, and the client
//! knows (`an_smtp_failure_is_a_502_with_the_error_and_never_logged_as_sent`: unlike the
//! original demo, a failed send is never logged as "sent"). Nothing is lost silently:
//!
//! * **a crash before the answer** leaves the client with a broken connection, which it can
//!   retry; if the server had accepted the mail just before the crash, the retry sends it
//!   twice;
//! * **SIGTERM** finishes every send a client is waiting for, then exits 0
//!   (`sigterm_finishes_the_send_a_client_is_waiting_for`), even when nobody reads the
//!   process's output any more (`sigterm_still_stops_it_when_nobody_reads_its_output`);
//! * **bad input** gets a `400` and never becomes a mail (`bad_input_is_a_400_and_sends_nothing`).
//!
//! The price is latency: every request costs one SMTP conversation. With no `SMTP_URL` the
//! demo starts its own mail sink and logs each delivery
//! (`without_smtp_url_the_demo_starts_its_own_sink_and_logs_the_delivery`).
//!
//! ## Map of the crate
//!
//! * this file: [`Args`] (the flags), [`Foreground`] (the [`EmailService`] that sends inside
//!   the request) and [`run`] (mail, listener, serve until SIGTERM);
//! * `main.rs`: the binary, which parses the flags and calls [`run`].
//!
//! See ARCHITECTURE.md, section "Strategy 1: foreground"

use clap::Parser;
// workshop 1.1: solution begin
use hyper::StatusCode;
// workshop 1.1: solution end
use kit::{BoxFuture, EmailService, HttpArgs, MailArgs, Refusal};
use mailer::{Email, Mailer};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::Instant;

/// Strategy 1: the request handler sends the email and answers once the SMTP server
/// accepted it (200), or with the SMTP error (502).
#[derive(Parser, Debug)]
#[command(version, about)]
pub struct Args {
    #[command(flatten)]
    http: HttpArgs,
    #[command(flatten)]
    mail: MailArgs,
}

/// Sends in the request.
pub struct Foreground {
    mailer: Mailer,
}

impl EmailService for Foreground {
    fn submit(&self, email: Email) -> BoxFuture<'_, Result<Map<String, Value>, Refusal>> {
        Box::pin(async move {
            let started = Instant::now();
            match self.mailer.send(&email).await {
                // workshop 1.1: solution begin
                Err(e) => {
                    tracing::warn!(to = %email.to, error = %e, "sending failed; the client gets 502");
                    // `e` reads "transient SMTP failure: 451 ..." or "permanent ...: 554 ...".
                    Err(Refusal::new(StatusCode::BAD_GATEWAY, e.to_string()))
                }
                // workshop 1.1: solution end
                // workshop 1.1: starter
                // Err(_) => {
                //     // As the original demo did: "sent", whatever the server answered.
                //     tracing::info!("Sent an email to {}", email.to);
                //     Ok(Map::new())
                // }
                // workshop 1.1: starter end
                Ok(message_id) => {
                    let ms = started.elapsed().as_secs_f64() * 1000.0;
                    tracing::info!("Sent an email to {} in {ms:.1}ms", email.to);
                    let mut fields = Map::new();
                    fields.insert("message_id".into(), json!(message_id));
                    fields.insert("smtp_ms".into(), json!(ms));
                    Ok(fields)
                }
            }
        })
    }
}

/// Serves until SIGTERM/SIGINT, then returns once every send a client waits for is done.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let shutdown = kit::shutdown::on_signal();
    let mail = kit::embedded::mail(&args.mail).await?;
    let service = Arc::new(Foreground {
        mailer: mail.mailer.clone(),
    });
    let listener = kit::http::bind(&args.http.addr()).await?;
    // The server's graceful shutdown waits for in-flight requests, and each of those is
    // an SMTP send: SIGTERM finishes every send a client is waiting for.
    kit::http::serve(listener, service, shutdown).await;
    tracing::info!("stopped");
    Ok(())
}
