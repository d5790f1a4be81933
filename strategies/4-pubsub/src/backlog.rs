//! The worker's in-memory queue: where a mail waits between "Redis handed it over" and
//! "the SMTP server took it". It lives only in this process, so it dies with it.

use mailer::Email;
use std::collections::VecDeque;
use std::sync::Mutex;
use tokio::sync::Notify;

/// A FIFO of mails shared by the subscriber (which pushes) and the sender (which pops).
#[derive(Default)]
pub struct Backlog {
    queue: Mutex<VecDeque<Email>>,
    added: Notify,
}

impl Backlog {
    /// Adds a mail at the back: a new one from Redis, or one whose send failed for now.
    pub fn push_back(&self, email: Email) {
        self.queue.lock().unwrap().push_back(email);
        // notify_one keeps a permit when the sender is busy, so a push is never missed.
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
}
