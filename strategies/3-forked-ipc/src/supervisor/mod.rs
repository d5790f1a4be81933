//! The supervisor: one thread, no runtime, a `poll(2)` loop over its children's sockets.
//!
//! Everything that must survive a child's death lives here: the listening socket, the
//! email ids, the emails held while no worker is ready, and the count of what each worker
//! took with it when it died. Those books also bound the backlog: the supervisor takes no
//! more than `--max-backlog` emails that are held or in the worker. The loop reacts to
//! three things:
//!
//! * a child's socket is readable: status to log, an email to route, a health question
//!   ([`messages`]);
//! * the signalfd is readable: SIGCHLD (reap, log `died :(`), SIGTERM/SIGINT (stop in order,
//!   [`stopping`]);
//! * the check interval passed: re-fork every child that died since the last check
//!   ([`forking`]).
//!
//! ## Why one thread, and why `poll(2)` on a signalfd
//!
//! This process forks for as long as it lives: a dead worker is replaced by a new `fork()`
//! of the supervisor. `fork()` copies the memory of every thread but runs only the one that
//! called it. Had the supervisor a second thread (a tokio runtime, or a plain thread that
//! waits for signals), that thread could hold the allocator's lock, or a runtime's, at the
//! instant of a fork; the child would get the lock held by a thread it does not have, and
//! hang at its first allocation. One thread makes every fork safe at every turn of the loop.
//!
//! One thread must then wait for everything at once: a message from any of its children,
//! a signal, and the next check. `poll(2)` does exactly that, on file descriptors with a
//! timeout. A signal becomes a file descriptor through a signalfd: the signals are blocked
//! (so they neither kill the process nor interrupt it inside some half-done update) and
//! queue in the signalfd until the loop reads them, between two events, like any message.
//! A classic signal handler would run at an arbitrary instruction, where it may do almost
//! nothing safely (not even allocate, so not even log).

mod forking;
mod messages;
mod stopping;

use crate::channel::Channel;
use crate::protocol::LogLevel;
use crate::settings::{Listeners, Role, Settings};
use mailer::Email;
use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt::Display;
use std::io;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

pub struct Supervisor {
    settings: Settings,
    pid: Pid,
    /// Bound before the first fork and kept across the deaths of the web server and the
    /// mail sink. Taken (and closed) in every child but the one that accepts on it.
    ///
    /// This is why a web server can die without a client seeing "connection refused": the
    /// socket is the supervisor's, not the web server's. While no web server is alive, the
    /// kernel keeps completing handshakes on it and queues the connections (up to its
    /// backlog), and the next web server, forked with a copy of this very socket, accepts
    /// them. Bound after the fork, by the child, the port would close with each death and
    /// could be taken by another program before the re-fork.
    listeners: Option<Listeners>,
    /// SIGCHLD, SIGTERM and SIGINT, read like a socket. `None` only in a child.
    signals: Option<SignalFd>,
    /// The signals blocked for the signalfd; a child inherits the mask and unblocks them.
    signal_set: SigSet,
    /// The children alive (or dead and not yet reaped), one per role.
    children: Vec<Child>,
    /// Roles whose process died since the last check, with the time of death.
    dead: Vec<(Role, Instant)>,
    /// Time of death of a role's previous process, until its replacement says it is ready.
    restarting: HashMap<Role, Instant>,
    /// Emails accepted while no worker was ready, oldest first.
    ///
    /// Between a worker's death and its replacement's `ready`, this is the only copy of
    /// those emails, and it is safe: no worker ever saw them, so none of them can have
    /// reached the SMTP server (with `--ack`, but for one: a dead worker's unacknowledged
    /// emails come back here, and the one it was sending may have). They go to the next
    /// worker as soon as it is ready, in order.
    /// Bounded with `in_worker` by `--max-backlog` (`messages.rs`).
    held: VecDeque<(u64, Email)>,
    /// Emails handed to the current worker and not yet acknowledged (reported sent or
    /// refused): exactly what a SIGKILL of the worker loses, by default.
    ///
    /// By default only the ids (the value is `None`): the emails themselves are in the
    /// worker's memory, and die with it. With `--ack` the value is a copy of the email,
    /// kept until the worker's report, and the next worker gets the copies of whatever a
    /// dead one never reported on. That trades loss for duplicates: the email being sent
    /// at the instant of the kill may already be at the SMTP server.
    ///
    /// Its size is also an upper bound of what the worker has in memory (its queue, and the
    /// frames still in the socket or in the channel's outbox on their way there): the
    /// worker gets nothing but what is counted here.
    in_worker: BTreeMap<u64, Option<Email>>,
    /// Emails refused in a row because the backlog was full: the first refusal of a streak
    /// is logged, and the end of the streak, not each one.
    refused_in_a_row: u64,
    /// The supervisor names every email: it is the one process that outlives both the web
    /// server that accepted an email and the worker that lost it, so its ids can say which.
    next_id: u64,
    tally: Tally,
    /// A SIGTERM/SIGINT arrived: no more re-forks, children are stopped one by one.
    stopping: bool,
}

struct Child {
    role: Role,
    pid: Pid,
    channel: Channel,
    /// The child said `ready`. A worker gets emails only from then on (`give_to_worker`).
    ready: bool,
    /// The child closed its socket; it is of no use any more, dead or not.
    closed: bool,
    /// When it was sent SIGTERM (or SIGKILL, after `--stop-timeout-ms`).
    asked_to_stop: Option<Instant>,
}

/// What became of the emails, for the last log line.
#[derive(Default)]
struct Tally {
    accepted: u64,
    sent: u64,
    refused: u64,
    /// Failed transiently on every attempt `--max-attempts` allows, then given up.
    out_of_attempts: u64,
    /// Refused at the door, backlog full: the web server answered 503, nothing was sent.
    turned_away: u64,
    lost_with_worker: u64,
    /// With `--ack`: handed to a worker again after the previous one died unacknowledged.
    handed_again: u64,
    abandoned_at_shutdown: u64,
    /// Re-forked children that came back ready: web, worker, mail sink.
    restarts: [u64; 3],
}

impl Supervisor {
    /// Must run before any thread or runtime exists in this process.
    pub fn new(settings: Settings, listeners: Listeners) -> anyhow::Result<Supervisor> {
        let mut signal_set = SigSet::empty();
        for signal in [Signal::SIGCHLD, Signal::SIGTERM, Signal::SIGINT] {
            signal_set.add(signal);
        }
        // Blocked signals are not lost: they wait in the signalfd until the loop reads them.
        // No handler runs at an arbitrary point of the loop. A signal mask belongs to a
        // thread: blocked here, in the only thread, the signals are blocked for the whole
        // process. A thread started earlier would still take a SIGTERM the default way
        // (and die of it), hence "before any thread".
        signal_set.thread_block()?;
        // Non-blocking: the loop reads until the signalfd is empty, and must not then wait
        // there while a child's message is waiting on its socket.
        let signals = SignalFd::with_flags(&signal_set, SfdFlags::SFD_NONBLOCK)?;
        Ok(Supervisor {
            settings,
            pid: nix::unistd::getpid(),
            listeners: Some(listeners),
            signals: Some(signals),
            signal_set,
            children: Vec::new(),
            dead: Vec::new(),
            restarting: HashMap::new(),
            held: VecDeque::new(),
            in_worker: BTreeMap::new(),
            refused_in_a_row: 0,
            next_id: 1,
            tally: Tally::default(),
            stopping: false,
        })
    }

    /// Runs until every child has stopped after a SIGTERM/SIGINT. Returns the exit code.
    pub fn run(mut self) -> i32 {
        self.master(if self.settings.ack {
            "started master (--ack: what a dead worker did not acknowledge goes to the next one)"
        } else {
            "started master"
        });
        // The web server may be ready before the worker: what it accepts meanwhile is held.
        for role in self.roles() {
            self.start(role);
        }
        let mut next_check = Instant::now() + self.settings.check_interval;
        loop {
            // 1. Sleep until a child writes, a signal arrives, or the next check is due,
            //    whichever comes first, and handle what woke us. A death is handled here, at
            //    once (SIGCHLD): logged, its emails counted, its role marked dead.
            if let Err(e) = self.wait_and_handle(next_check) {
                tracing::error!("[master @ {}] poll failed: {e}", self.pid);
                return 1;
            }
            // 2. Re-fork only at the check, not at the death: a child that dies as it starts
            //    (an SMTP_URL it cannot use, say) is then re-forked once per interval, not in
            //    a tight loop. The price: a role stays dead for up to one interval (for the
            //    worker's, new emails are held meanwhile).
            if Instant::now() >= next_check {
                self.check_children();
                next_check = Instant::now() + self.settings.check_interval;
            }
            // 3. While stopping, move on to the next child once the previous one is gone.
            //    Every turn comes back here, because each child's exit wakes the poll
            //    (SIGCHLD) and the check interval bounds the wait for a stop timeout.
            if self.stopping && self.stop_next_child() {
                break;
            }
        }
        self.log_summary();
        0
    }

    fn roles(&self) -> Vec<Role> {
        let mut roles = Vec::new();
        if self.settings.embedded_sink.is_some() {
            roles.push(Role::Sink);
        }
        roles.extend([Role::Web, Role::Worker]);
        roles
    }

    // ---- events -----------------------------------------------------------------------

    /// One turn of the loop: wait until something happens or `until`, then handle every
    /// descriptor that has something to say.
    fn wait_and_handle(&mut self, until: Instant) -> io::Result<()> {
        let signal_fd = self
            .signals
            .as_ref()
            .expect("the supervisor has its signalfd");
        // The descriptors to wait on are rebuilt at every turn: children come and go.
        let mut fds = vec![pollfd(signal_fd.as_raw_fd(), libc::POLLIN)];
        let mut pids = Vec::new();
        for child in self.children.iter().filter(|c| !c.closed) {
            let mut events = libc::POLLIN;
            // Ask to be woken for writing only when bytes are waiting: a socket is almost
            // always writable, and asking every time would wake the loop at once, forever.
            if child.channel.has_unsent_bytes() {
                events |= libc::POLLOUT;
            }
            fds.push(pollfd(child.channel.fd(), events));
            pids.push(child.pid);
        }
        poll(&mut fds, until.saturating_duration_since(Instant::now()))?;

        // Sockets before signals: a child that reported an email sent and then died is read
        // before its death is handled (`on_exit` reads once more, to be sure).
        for (pid, fd) in pids.into_iter().zip(&fds[1..]) {
            // POLLHUP and POLLERR too: a closed socket is readable, and the read says EOF.
            if fd.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0 {
                self.read_from(pid);
            }
            if fd.revents & libc::POLLOUT != 0 {
                if let Some(child) = self.child_mut(pid) {
                    let _ = child.channel.flush();
                }
            }
        }
        if fds[0].revents & libc::POLLIN != 0 {
            self.handle_signals();
        }
        Ok(())
    }

    fn handle_signals(&mut self) {
        let mut reap = false;
        // Read until the signalfd is empty. The kernel keeps one pending SIGCHLD however
        // many children died, so a SIGCHLD means "reap all that died", not "one died".
        while let Some(Ok(Some(info))) = self.signals.as_ref().map(|s| s.read_signal()) {
            match Signal::try_from(info.ssi_signo as i32) {
                Ok(Signal::SIGCHLD) => reap = true,
                // A second Ctrl-C: whoever presses it does not want to wait for the orderly
                // stop. SIGKILL leaves no child behind, whatever state it is in.
                Ok(signal) if self.stopping => {
                    tracing::warn!(
                        "[master @ {}] second {signal}: killing the children and exiting now",
                        self.pid
                    );
                    for child in &self.children {
                        let _ = kill(child.pid, Signal::SIGKILL);
                    }
                    std::process::exit(130);
                }
                Ok(signal) => self.begin_shutdown(signal),
                Err(_) => {}
            }
        }
        if reap {
            self.reap();
        }
    }

    /// Collects every child that exited. A child not waited for stays a zombie, and its
    /// death would go unnoticed: nothing would re-fork it.
    fn reap(&mut self) {
        loop {
            // WNOHANG: collect the dead, never wait for the living.
            match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) => {
                    self.on_exit(pid, format!("exited with status {code}"))
                }
                Ok(WaitStatus::Signaled(pid, signal, _)) => {
                    self.on_exit(pid, format!("killed by {signal}"))
                }
                // No child has exited (StillAlive), or there is no child at all (ECHILD).
                Ok(WaitStatus::StillAlive) | Err(_) => break,
                // Stopped or continued: only reported when asked for (WUNTRACED), never here.
                Ok(_) => {}
            }
        }
    }

    fn on_exit(&mut self, pid: Pid, how: String) {
        // What the child wrote before it died is still in the socket: read it first, so an
        // email it reported sent is not counted lost.
        self.read_from(pid);
        let Some(index) = self.children.iter().position(|c| c.pid == pid) else {
            return;
        };
        // Dropping the child closes the supervisor's end of its socketpair.
        let child = self.children.remove(index);
        let role = child.role;
        if self.stopping {
            say(role.name(), pid, LogLevel::Info, format!("stopped ({how})"));
        } else {
            say(
                role.name(),
                pid,
                LogLevel::Error,
                format!("died :( ({how})"),
            );
            // Re-forked at the next check (forking.rs), not now: see step 2 of `run`.
            self.dead.push((role, Instant::now()));
        }
        // From here until the next worker is ready, new emails are held (`give_to_worker`).
        if role == Role::Worker {
            self.worker_took_its_queue();
        }
    }

    /// Everything the child has written so far, decoded and acted on, in order.
    fn read_from(&mut self, pid: Pid) {
        let Some(child) = self.child_mut(pid) else {
            return;
        };
        let received = child.channel.receive();
        child.closed |= received.closed;
        let role = child.role;
        for message in received.messages {
            self.on_message(role, pid, message);
        }
    }

    // ---- small helpers ----------------------------------------------------------------

    fn child_mut(&mut self, pid: Pid) -> Option<&mut Child> {
        self.children.iter_mut().find(|c| c.pid == pid)
    }

    fn master(&self, message: impl Display) {
        say("master", self.pid, LogLevel::Info, message);
    }
}

/// One log line in the original demo's format: `[email worker @ 4242] email sent!`.
///
/// The children's own lines come through here too (`ChildMessage::Log`): the supervisor is
/// the one process that prints, so lines of different processes never tear each other.
fn say(who: &str, pid: Pid, level: LogLevel, message: impl Display) {
    match level {
        LogLevel::Error => tracing::error!("[{who} @ {pid}] {message}"),
        LogLevel::Warn => tracing::warn!("[{who} @ {pid}] {message}"),
        LogLevel::Info => tracing::info!("[{who} @ {pid}] {message}"),
        LogLevel::Debug => tracing::debug!("[{who} @ {pid}] {message}"),
        LogLevel::Trace => tracing::trace!("[{who} @ {pid}] {message}"),
    }
}

fn pollfd(fd: i32, events: libc::c_short) -> libc::pollfd {
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}

/// `poll(2)`, woken early by any readable socket or signal. A signal interrupting the call
/// is not an error: the signalfd reports it on the next turn of the loop.
fn poll(fds: &mut [libc::pollfd], timeout: Duration) -> io::Result<()> {
    // Rounded up: a 0 ms timeout with 0.4 ms left would spin until the deadline.
    let millis = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
    // SAFETY: `fds` is a valid, exclusively borrowed slice of pollfd for the whole call.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, millis) };
    if n < 0 {
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    Ok(())
}
