//! The worker's in-memory queue: where a mail waits between "Redis handed it over" and
//! "the SMTP server took it". It lives only in this process, so it dies with it.
//!
//! It is bounded, because nothing else bounds it: the subscriber reads as fast as Redis
//! sends (a subscriber that stops reading is cut off by Redis), and pub/sub has no way to
//! tell the publisher to wait. A full backlog can thus only lose: each new mail is dropped
//! with an error line that counts the drops. That is pub/sub's lesson, said out loud.

use mailer::Email;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use tokio::sync::Notify;

/// A FIFO of mails shared by the subscriber (which pushes) and the sender (which pops).
pub struct Backlog {
    queue: Mutex<VecDeque<Email>>,
    added: Notify,
    /// The most new mails [`Backlog::push_new`] lets wait. The one mail the sender has
    /// taken out comes on top, back in the queue when its send failed for now.
    capacity: usize,
    dropped: AtomicU64,
}

impl Backlog {
    pub fn new(capacity: usize) -> Backlog {
        Backlog {
            queue: Mutex::default(),
            added: Notify::new(),
            capacity,
            dropped: AtomicU64::new(0),
        }
    }

    /// Adds a mail just heard from Redis at the back, or drops it when the backlog is full.
    pub fn push_new(&self, email: Email) {
        let mut queue = self.queue.lock().unwrap();
        if queue.len() >= self.capacity {
            drop(queue);
            // Counted and logged in one place, so the summary's `dropped` is the number of
            // these lines.
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            tracing::error!(
                to = %email.to,
                subject = %email.subject,
                dropped,
                max_backlog = self.capacity,
                "backlog full: dropped a mail from Redis, it is lost (pub/sub cannot ask the \
                 publisher to wait, and Redis keeps no copy)"
            );
            return;
        }
        queue.push_back(email);
        drop(queue);
        // notify_one keeps a permit when the sender is busy, so a push is never missed.
        self.added.notify_one();
    }

    /// Puts back, at the back, a mail whose send failed for now. Never refused: the mail
    /// was in the queue a moment ago and was counted there, so refusing it now would drop
    /// an older mail to make room for newer ones.
    pub fn retry(&self, email: Email) {
        self.queue.lock().unwrap().push_back(email);
        self.added.notify_one();
    }

    /// Waits for the next mail. Cancel-safe: a mail is taken only when the future completes.
    pub async fn next(&self) -> Email {
        loop {
            if let Some(email) = self.queue.lock().unwrap().pop_front() {
                return email;
            }
            self.added.notified().await;
        }
    }

    pub fn len(&self) -> usize {
        self.queue.lock().unwrap().len()
    }

    /// How many mails [`Backlog::push_new`] dropped, each with its line.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}
