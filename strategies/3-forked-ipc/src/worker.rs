//! The email worker child: an in-memory queue, one email at a time, a pause after each.
//!
//! As in the original demo: take the first email, send it, pause `--throttle-ms`. A
//! transient failure (4xx, connection trouble) puts the email at the back of the queue,
//! behind newer mail. Two changes: a permanent failure (5xx) gives up with an error instead
//! of cycling forever, and a failed email waits before its next attempt, twice as long
//! after each failure and at most `--max-attempts` times (`retry.rs`), so a dead SMTP
//! server is not hammered in a tight loop and a mail it never takes does not cycle forever.
//!
//! **The queue lives in this process's memory and nowhere else.** SIGKILL it and every
//! email in it is gone; the supervisor counts them and says so, but cannot bring them back
//! (with `--ack` it can: it kept a copy of each until this worker reported on it).
//! It holds at most `--max-backlog` emails, with no check here: the supervisor hands over
//! no more than that until the worker reports on them.
//! SIGTERM is kinder only to the email being sent: it is finished, the rest is abandoned.

use crate::link::{Incoming, Link};
use crate::protocol::{ChildMessage, SupervisorMessage};
use crate::settings::Settings;
use mailer::{Email, Mailer};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;
use tokio::time::{sleep, sleep_until, Instant};
use tokio_util::sync::CancellationToken;

pub async fn run(link: Link, incoming: Incoming, settings: &Settings) -> anyhow::Result<()> {
    let mailer = Mailer::from_url(&settings.smtp_url, settings.smtp_pool_size)?;
    let shutdown = kit::shutdown::on_signal();
    let queue = Arc::new(Queue::default());
    tokio::spawn(receive(incoming, queue.clone(), shutdown.clone()));
    link.send(ChildMessage::Ready {
        detail: format!(
            "ready! worker ready to send through {}, pausing {} ms after each email",
            settings.smtp_url,
            settings.throttle.as_millis()
        ),
    });

    loop {
        let mut mail = tokio::select! {
            _ = shutdown.cancelled() => break,
            mail = queue.next_due() => mail,
        };
        mail.attempts += 1;
        link.send(ChildMessage::Trying {
            id: mail.id,
            attempt: mail.attempts,
        });
        // Deliberately not raced against `shutdown`: a SIGTERM lets this email finish.
        match mailer.send(&mail.email).await {
            Ok(message_id) => {
                link.send(ChildMessage::Sent {
                    id: mail.id,
                    message_id,
                });
            }
            // A transient failure (4xx, a connection that broke): the back of the queue,
            // after a wait that grows with each failure, until the last attempt allowed.
            Err(e) if e.is_transient() => match settings.retry.delay_after(mail.attempts) {
                Some(delay) => {
                    link.send(ChildMessage::Retrying {
                        id: mail.id,
                        attempt: mail.attempts,
                        error: e.to_string(),
                        retry_in_ms: delay.as_millis() as u64,
                    });
                    mail.not_before = Instant::now() + delay;
                    queue.push(mail);
                }
                None => {
                    link.send(ChildMessage::OutOfAttempts {
                        id: mail.id,
                        attempts: mail.attempts,
                        error: e.to_string(),
                    });
                }
            },
            Err(e) => {
                link.send(ChildMessage::GaveUp {
                    id: mail.id,
                    error: e.to_string(),
                });
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = sleep(settings.throttle) => {}
        }
    }

    let abandoned = queue.take_ids();
    link.send(ChildMessage::Stopping { abandoned });
    Ok(())
}

/// Moves every email the supervisor hands over into the queue, as soon as it arrives.
async fn receive(mut incoming: Incoming, queue: Arc<Queue>, shutdown: CancellationToken) {
    while let Some(message) = incoming.next().await {
        match message {
            SupervisorMessage::Deliver { id, email } => queue.push(Queued {
                id,
                email,
                attempts: 0,
                not_before: Instant::now(),
            }),
            other => tracing::warn!(?other, "the email worker only takes emails"),
        }
    }
    // The supervisor is gone: nobody would hear how the queued emails fare.
    shutdown.cancel();
}

struct Queued {
    id: u64,
    email: Email,
    attempts: u32,
    /// A failed email is not tried again before this.
    not_before: Instant,
}

#[derive(Default)]
struct Queue {
    mails: Mutex<VecDeque<Queued>>,
    arrived: Notify,
}

impl Queue {
    fn push(&self, mail: Queued) {
        self.mails.lock().unwrap().push_back(mail);
        self.arrived.notify_one();
    }

    /// The first email that may be tried now, in queue order; waits if there is none.
    /// Cancel-safe: an email leaves the queue only in the same poll that returns it.
    async fn next_due(&self) -> Queued {
        loop {
            let earliest = {
                let mut mails = self.mails.lock().unwrap();
                let now = Instant::now();
                if let Some(index) = mails.iter().position(|m| m.not_before <= now) {
                    return mails.remove(index).expect("the index was just found");
                }
                mails.iter().map(|m| m.not_before).min()
            };
            match earliest {
                Some(at) => tokio::select! {
                    _ = self.arrived.notified() => {}
                    _ = sleep_until(at) => {}
                },
                None => self.arrived.notified().await,
            }
        }
    }

    fn take_ids(&self) -> Vec<u64> {
        self.mails.lock().unwrap().drain(..).map(|m| m.id).collect()
    }
}
