//! What the children say, and where emails go: the supervisor's half of the protocol.
//!
//! The supervisor keeps the books of every email: accepted from the web server, held (no
//! worker ready), handed to the worker, then sent, refused, or lost with the worker. Those
//! books are what makes the loss of a SIGKILLed worker a number in the log instead of a
//! silence.
//!
//! ```text
//!  Submit ─► accept: id ─┬─ a worker is ready ─► in_worker ─┬─ Sent / GaveUp: done (acked)
//!     │                  │                                  ├─ Stopping: abandoned
//!     │                  │                                  └─ worker died: lost, or with
//!     │                  │                                     --ack back to held ──┐
//!     │                  └─ none is ready ───► held ◄───────────────────────────────┘
//!     │                                         └── next worker ready ─► in_worker
//!     └─ held + in_worker = --max-backlog ─► Refused: the web server answers 503
//! ```
//!
//! The worker's `Sent` and `GaveUp` reports are its acknowledgements: until one arrives,
//! the email may still die with the worker. With `--ack` the supervisor keeps a copy of
//! each email until then, so a dead worker's unacknowledged emails go to the next one
//! (at-least-once: the one being sent at the kill may reach the SMTP server twice).

use super::{say, Supervisor};
use crate::protocol::{Books, ChildMessage, LogLevel, Pids, SupervisorMessage};
use crate::settings::Role;
use mailer::Email;
use nix::unistd::Pid;

impl Supervisor {
    pub(super) fn on_message(&mut self, role: Role, pid: Pid, message: ChildMessage) {
        // Who may say what: only the web server submits and asks for health, only the
        // worker reports on emails. Anything else is a bug worth a line, not a crash.
        match (role, message) {
            (_, ChildMessage::Ready { detail }) => self.on_ready(role, pid, detail),
            (_, ChildMessage::Log { level, line }) => say(role.name(), pid, level, line),
            (Role::Web, ChildMessage::Submit { request, email }) => {
                let reply = match self.accept(email) {
                    // The web server answers its client `200` on this reply: from here on
                    // the email is the supervisor's to route, hold or lose.
                    Ok((id, held)) => SupervisorMessage::Accepted { request, id, held },
                    // And `503` on this one: the email was dropped here, unseen by any worker.
                    Err(reason) => SupervisorMessage::Refused { request, reason },
                };
                self.send_to(pid, &reply);
            }
            (Role::Web, ChildMessage::Health { request }) => {
                let pids = self.pids();
                self.send_to(pid, &SupervisorMessage::Pids { request, pids });
            }
            (Role::Web, ChildMessage::Books { request }) => {
                let books = self.books();
                self.send_to(pid, &SupervisorMessage::Books { request, books });
            }
            (Role::Worker, status) => self.on_worker_status(pid, status),
            (_, other) => tracing::warn!(
                "[master @ {}] unexpected message from the {}: {other:?}",
                self.pid,
                role.name()
            ),
        }
    }

    fn on_ready(&mut self, role: Role, pid: Pid, detail: String) {
        if let Some(child) = self.child_mut(pid) {
            child.ready = true;
        }
        say(role.name(), pid, LogLevel::Info, detail);
        // How long the role was missing, from its death to its replacement's `ready`: up to
        // one check interval, plus the time to fork and start (a few milliseconds: a forked
        // child needs no exec and loads nothing, it is a copy of the supervisor).
        if let Some(died_at) = self.restarting.remove(&role) {
            self.tally.restarts[role as usize] += 1;
            self.master(format!(
                "the {} is back, {} ms after the previous one died",
                role.name(),
                died_at.elapsed().as_millis()
            ));
        }
        // A new worker first gets what waited for it, oldest first, before any newer email.
        if role == Role::Worker && !self.held.is_empty() {
            self.master(format!(
                "handing {} held emails to the email worker",
                self.held.len()
            ));
            for (id, email) in std::mem::take(&mut self.held) {
                self.give_to_worker(id, email);
            }
        }
    }

    /// Gives a new email its id, and to the worker if one is ready: `(id, held)`. Or refuses
    /// it when the backlog is full, with the reason for the client.
    fn accept(&mut self, email: Email) -> Result<(u64, bool), String> {
        // Without this bound, a worker that is frozen or slower than the clients makes both
        // processes grow without end: the worker's queue, or, when it stops reading, the
        // frames waiting in its channel's outbox here. Counted in emails, not bytes: it is
        // what the books already know, and an email is at most about 65 KB.
        let in_care = self.held.len() + self.in_worker.len();
        if in_care >= self.settings.max_backlog {
            return Err(self.turn_away(in_care));
        }
        let refused = std::mem::take(&mut self.refused_in_a_row);
        if refused > 0 {
            self.master(format!(
                "taking emails again, after refusing {refused} (backlog full)"
            ));
        }
        let id = self.next_id;
        self.next_id += 1;
        self.tally.accepted += 1;
        self.master(format!(
            "got an email to send from the webserver: #{id} {}",
            serde_json::to_string(&email).unwrap_or_default()
        ));
        let handed = self.give_to_worker(id, email);
        Ok((id, !handed))
    }

    /// Counts an email refused for a full backlog, and says why, once per streak.
    fn turn_away(&mut self, in_care: usize) -> String {
        self.tally.turned_away += 1;
        self.refused_in_a_row += 1;
        let reason = format!(
            "backlog full: {in_care} emails are held or in the worker, the most --max-backlog \
             allows; this one was not taken, try again later"
        );
        if self.refused_in_a_row == 1 {
            tracing::warn!(
                "[master @ {}] {reason} (refusing new emails with 503 until there is room)",
                self.pid
            );
        }
        reason
    }

    /// Hands the email to a ready worker (`true`), or holds it until there is one.
    fn give_to_worker(&mut self, id: u64, email: Email) -> bool {
        // A worker that can take it: one that said `ready` (its SMTP client is built; a
        // worker that fails to start never had the email), whose socket is open (it can
        // read it), and that is not stopping (it would only abandon it).
        let worker = self
            .children
            .iter_mut()
            .find(|c| c.role == Role::Worker && c.ready && !c.closed && c.asked_to_stop.is_none());
        match worker {
            Some(worker) => {
                // From this send on, the only copy of the email is in the worker's memory
                // (or on its way there): the supervisor keeps just the id, to know what a
                // death of the worker takes with it.
                // The send never blocks: what the socket does not take now waits in the
                // channel's outbox, so a frozen worker cannot freeze the supervisor.
                // workshop 3.1: solution begin
                // With --ack a copy stays here until the worker acknowledges the email:
                // the one copy that outlives the worker.
                let copy = self.settings.ack.then(|| email.clone());
                // workshop 3.1: solution end
                // workshop 3.1: starter
                // let copy = None;
                // workshop 3.1: starter end
                worker
                    .channel
                    .send(&SupervisorMessage::Deliver { id, email });
                self.in_worker.insert(id, copy);
                true
            }
            None => {
                // The original crashed here (`children.worker.send` on undefined).
                self.held.push_back((id, email));
                self.master(format!(
                    "no email worker is ready: holding email #{id} ({} held)",
                    self.held.len()
                ));
                false
            }
        }
    }

    /// The worker's reports, logged in the original's words with the email's id, so one
    /// email can be followed from `got an email` to `email sent!` across processes. `Sent`,
    /// `GaveUp` and `OutOfAttempts` close an email's books (they acknowledge it: its
    /// `--ack` copy goes); `Trying` and `Retrying` leave it in `in_worker`, since it is
    /// still in the worker's queue and would die with it.
    fn on_worker_status(&mut self, pid: Pid, status: ChildMessage) {
        let (level, line) = match status {
            ChildMessage::Trying { id, attempt: 1 } => (
                LogLevel::Info,
                format!("trying to send an email... (#{id})"),
            ),
            ChildMessage::Trying { id, attempt } => (
                LogLevel::Info,
                format!("trying to send an email... (#{id}, attempt {attempt})"),
            ),
            ChildMessage::Sent { id, message_id } => {
                self.in_worker.remove(&id);
                self.tally.sent += 1;
                (LogLevel::Info, format!("email sent! (#{id}, {message_id})"))
            }
            ChildMessage::Retrying {
                id,
                attempt,
                error,
                retry_in_ms,
            } => (
                LogLevel::Warn,
                format!(
                    "failed sending email, trying again in {retry_in_ms} ms :( \
                     (#{id}, attempt {attempt}: {error})"
                ),
            ),
            ChildMessage::GaveUp { id, error } => {
                self.in_worker.remove(&id);
                self.tally.refused += 1;
                (
                    LogLevel::Error,
                    format!("failed sending email, giving up: refused for good (#{id}: {error})"),
                )
            }
            ChildMessage::OutOfAttempts {
                id,
                attempts,
                error,
            } => {
                self.in_worker.remove(&id);
                self.tally.out_of_attempts += 1;
                (
                    LogLevel::Error,
                    format!(
                        "failed sending email, giving up after {attempts} attempts: \
                         this email is lost (#{id}: {error})"
                    ),
                )
            }
            // Asked to stop, the worker says what it abandons: counted apart from what
            // killed workers lose, so the summary tells a shutdown from a crash.
            ChildMessage::Stopping { abandoned } => {
                for id in &abandoned {
                    self.in_worker.remove(id);
                }
                self.tally.abandoned_at_shutdown += abandoned.len() as u64;
                let line = format!(
                    "stopping: finished the email in progress, abandoning {} queued emails",
                    abandoned.len()
                );
                match abandoned.is_empty() {
                    true => (LogLevel::Info, line),
                    false => (LogLevel::Warn, format!("{line} ({})", id_list(&abandoned))),
                }
            }
            other => (LogLevel::Warn, format!("unexpected message: {other:?}")),
        };
        say(Role::Worker.name(), pid, level, line);
    }

    /// The worker is gone, and with it every email it had and did not report on.
    ///
    /// By default they are named and counted, not replayed: the email being sent at the
    /// instant of death may have reached the SMTP server, and a replay would send it
    /// twice. With `--ack` the supervisor has a copy of each, and replays them: nothing
    /// accepted is lost, and that one email may be sent twice (at-least-once).
    pub(super) fn worker_took_its_queue(&mut self) {
        let gone = std::mem::take(&mut self.in_worker);
        // workshop 3.1: solution begin
        let mut lost = Vec::new();
        let mut again = Vec::new();
        for (id, copy) in gone {
            match copy {
                Some(email) => again.push((id, email)),
                None => lost.push(id),
            }
        }
        self.hand_to_the_next_worker(again);
        // workshop 3.1: solution end
        // workshop 3.1: starter
        // // Every email the dead worker had is gone with it.
        // let lost: Vec<u64> = gone.into_keys().collect();
        // workshop 3.1: starter end
        if lost.is_empty() {
            return;
        }
        self.tally.lost_with_worker += lost.len() as u64;
        tracing::error!(
            "[master @ {}] the email worker's in-memory queue died with it: lost {} emails ({}); \
             only the one it was sending may have reached the SMTP server",
            self.pid,
            lost.len(),
            id_list(&lost)
        );
    }

    // workshop 3.1: solution begin
    /// With `--ack`: a dead worker's unacknowledged emails, back at the head of `held` in
    /// their order, ahead of anything accepted since; the next worker gets them first,
    /// as soon as it is ready (`on_ready`).
    fn hand_to_the_next_worker(&mut self, again: Vec<(u64, Email)>) {
        if again.is_empty() {
            return;
        }
        self.tally.handed_again += again.len() as u64;
        let ids: Vec<u64> = again.iter().map(|(id, _)| *id).collect();
        for held in again.into_iter().rev() {
            self.held.push_front(held);
        }
        tracing::warn!(
            "[master @ {}] the email worker died before acknowledging {} emails ({}): holding \
             them for the next worker; the one it was sending may reach the SMTP server twice",
            self.pid,
            ids.len(),
            id_list(&ids)
        );
    }
    // workshop 3.1: solution end

    pub(super) fn log_summary(&mut self) {
        // Held emails never reached a worker: at shutdown they die with the supervisor.
        self.tally.abandoned_at_shutdown += self.held.len() as u64;
        let t = &self.tally;
        self.master(format!(
            "stopped: {} emails accepted, {} sent, {} refused for good, \
             {} given up after --max-attempts, \
             {} lost with killed workers, {} handed again to a new worker (--ack), \
             {} abandoned at shutdown, {} turned away (backlog full)",
            t.accepted,
            t.sent,
            t.refused,
            t.out_of_attempts,
            t.lost_with_worker,
            t.handed_again,
            t.abandoned_at_shutdown,
            t.turned_away
        ));
    }

    /// A reply to a child. When that child is gone, so is whoever waited for the reply.
    fn send_to(&mut self, pid: Pid, message: &SupervisorMessage) {
        if let Some(child) = self.child_mut(pid) {
            child.channel.send(message);
        }
    }

    /// Who is alive, for `/healthz`: a role whose process was reaped and not yet re-forked
    /// is `None`.
    fn pids(&self) -> Pids {
        let pid_of = |role| {
            self.children
                .iter()
                .find(|c| c.role == role)
                .map(|c| c.pid.as_raw())
        };
        Pids {
            supervisor: self.pid.as_raw(),
            web: pid_of(Role::Web),
            worker: pid_of(Role::Worker),
            mail_sink: pid_of(Role::Sink),
        }
    }

    /// The books, for the web server's `/dashboard`.
    fn books(&self) -> Books {
        let t = &self.tally;
        Books {
            pids: self.pids(),
            restarts: t.restarts,
            held: self.held.len(),
            in_worker: self.in_worker.len(),
            max_backlog: self.settings.max_backlog,
            accepted: t.accepted,
            sent: t.sent,
            refused: t.refused,
            turned_away: t.turned_away,
            lost_with_worker: t.lost_with_worker,
            out_of_attempts: t.out_of_attempts,
            handed_again: t.handed_again,
        }
    }
}

/// `#3 #4 #5`, cut short after 20 ids.
fn id_list<'a>(ids: impl IntoIterator<Item = &'a u64>) -> String {
    let ids: Vec<&u64> = ids.into_iter().collect();
    let mut list: Vec<String> = ids.iter().take(20).map(|id| format!("#{id}")).collect();
    if ids.len() > 20 {
        list.push(format!("and {} more", ids.len() - 20));
    }
    list.join(" ")
}
