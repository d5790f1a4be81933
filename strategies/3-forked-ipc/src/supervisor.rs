//! The supervisor: one thread, no runtime, a `poll(2)` loop over its children's sockets.
//!
//! Everything that must survive a child's death lives here: the listening socket, the
//! email ids and the emails held while no worker is ready, and the count of what each
//! worker took with it when it died. The loop reacts to three things:
//!
//! * a child's socket is readable: status to log, an email to route, a health question;
//! * the signalfd is readable: SIGCHLD (reap, log `died :(`), SIGTERM/SIGINT (stop in order);
//! * the check interval passed: re-fork every child that died since the last check.

use crate::channel::Channel;
use crate::child;
use crate::protocol::{ChildMessage, LogLevel, Pids, SupervisorMessage};
use crate::settings::{Role, Settings};
use mailer::Email;
use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{fork, ForkResult, Pid};
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt::Display;
use std::io;
use std::net::TcpListener;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// The order children are stopped in on SIGTERM: first the web server, so no new email
/// arrives; then the worker, which finishes the email it is sending; the sink last, so
/// that email has somewhere to land.
const STOP_ORDER: [Role; 3] = [Role::Web, Role::Worker, Role::Sink];

pub struct Supervisor {
    settings: Settings,
    pid: Pid,
    /// Bound before the first fork and kept across web server deaths. `None` only in a child.
    listener: Option<TcpListener>,
    /// SIGCHLD, SIGTERM and SIGINT, read like a socket. `None` only in a child.
    signals: Option<SignalFd>,
    signal_set: SigSet,
    children: Vec<Child>,
    /// Roles whose process died since the last check, with the time of death.
    dead: Vec<(Role, Instant)>,
    /// Time of death of a role's previous process, until its replacement says it is ready.
    restarting: HashMap<Role, Instant>,
    /// Emails accepted while no worker was ready, oldest first.
    held: VecDeque<(u64, Email)>,
    /// Ids handed to the current worker and not yet reported sent or refused: exactly what a
    /// SIGKILL of the worker loses.
    in_worker: BTreeSet<u64>,
    next_id: u64,
    tally: Tally,
    stopping: bool,
}

struct Child {
    role: Role,
    pid: Pid,
    channel: Channel,
    ready: bool,
    /// The child closed its socket; it is of no use any more, dead or not.
    closed: bool,
    asked_to_stop: Option<Instant>,
}

#[derive(Default)]
struct Tally {
    accepted: u64,
    sent: u64,
    refused: u64,
    lost_with_worker: u64,
    abandoned_at_shutdown: u64,
}

impl Supervisor {
    /// Must run before any thread or runtime exists in this process.
    pub fn new(settings: Settings, listener: TcpListener) -> anyhow::Result<Supervisor> {
        let mut signal_set = SigSet::empty();
        for signal in [Signal::SIGCHLD, Signal::SIGTERM, Signal::SIGINT] {
            signal_set.add(signal);
        }
        // Blocked signals are not lost: they wait in the signalfd until the loop reads them.
        // No handler runs at an arbitrary point of the loop.
        signal_set.thread_block()?;
        let signals = SignalFd::with_flags(&signal_set, SfdFlags::SFD_NONBLOCK)?;
        Ok(Supervisor {
            settings,
            pid: nix::unistd::getpid(),
            listener: Some(listener),
            signals: Some(signals),
            signal_set,
            children: Vec::new(),
            dead: Vec::new(),
            restarting: HashMap::new(),
            held: VecDeque::new(),
            in_worker: BTreeSet::new(),
            next_id: 1,
            tally: Tally::default(),
            stopping: false,
        })
    }

    /// Runs until every child has stopped after a SIGTERM/SIGINT. Returns the exit code.
    pub fn run(mut self) -> i32 {
        self.master("started master");
        for role in self.roles() {
            self.start(role);
        }
        let mut next_check = Instant::now() + self.settings.check_interval;
        loop {
            if let Err(e) = self.wait_and_handle(next_check) {
                tracing::error!("[master @ {}] poll failed: {e}", self.pid);
                return 1;
            }
            if Instant::now() >= next_check {
                self.check_children();
                next_check = Instant::now() + self.settings.check_interval;
            }
            if self.stopping && self.stop_next_child() {
                break;
            }
        }
        self.tally.abandoned_at_shutdown += self.held.len() as u64;
        let t = &self.tally;
        self.master(format!(
            "stopped: {} emails accepted, {} sent, {} refused for good, {} lost with killed workers, {} abandoned at shutdown",
            t.accepted, t.sent, t.refused, t.lost_with_worker, t.abandoned_at_shutdown
        ));
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

    // ---- forking ----------------------------------------------------------------------

    fn start(&mut self, role: Role) {
        if let Err(e) = self.fork_child(role) {
            tracing::error!(
                "[master @ {}] could not start the {}: {e:#}; trying again at the next check",
                self.pid,
                role.name()
            );
            self.dead.push((role, Instant::now()));
        }
    }

    fn fork_child(&mut self, role: Role) -> anyhow::Result<()> {
        let threads = thread_count();
        anyhow::ensure!(
            threads == 1,
            "refusing to fork: this process has {threads} threads, and a child would inherit their locks without them"
        );
        let (ours, theirs) = socketpair(
            AddressFamily::Unix,
            SockType::Stream,
            None,
            SockFlag::SOCK_CLOEXEC,
        )?;
        let channel = Channel::new(ours)?;
        // SAFETY: this process has exactly one thread (checked above) and no runtime, so
        // there is no lock another thread could hold at this instant. The child may allocate
        // and build its own runtime.
        match unsafe { fork() }? {
            ForkResult::Parent { child } => {
                drop(theirs);
                self.children.push(Child {
                    role,
                    pid: child,
                    channel,
                    ready: false,
                    closed: false,
                    asked_to_stop: None,
                });
                say(
                    role.name(),
                    child,
                    LogLevel::Info,
                    format!("starting {}", role.name()),
                );
                Ok(())
            }
            ForkResult::Child => {
                drop(channel);
                self.become_child(role, theirs)
            }
        }
    }

    /// Runs in the new child: close the supervisor's descriptors (only the supervisor's own
    /// copies must keep those sockets open), then play `role` and exit.
    fn become_child(&mut self, role: Role, socket: OwnedFd) -> ! {
        self.children.clear();
        self.signals = None;
        let listener = self.listener.take().filter(|_| role == Role::Web);
        child::run(
            role,
            self.pid,
            socket,
            listener,
            &self.settings,
            &self.signal_set,
        )
    }

    /// Reaps the dead and re-forks them, once per check interval (as the original did).
    fn check_children(&mut self) {
        self.reap();
        for child in &self.children {
            if child.closed && child.asked_to_stop.is_none() {
                // Alive but deaf: no email can reach it. Killing it gets a working one.
                tracing::warn!(
                    "[master @ {}] the {} closed its socket; killing it",
                    self.pid,
                    child.role.name()
                );
                let _ = kill(child.pid, Signal::SIGKILL);
            }
        }
        if self.stopping {
            return;
        }
        for (role, died_at) in std::mem::take(&mut self.dead) {
            self.restarting.entry(role).or_insert(died_at);
            self.start(role);
        }
    }

    // ---- events -----------------------------------------------------------------------

    fn wait_and_handle(&mut self, until: Instant) -> io::Result<()> {
        let signal_fd = self
            .signals
            .as_ref()
            .expect("the supervisor has its signalfd");
        let mut fds = vec![pollfd(signal_fd.as_raw_fd(), libc::POLLIN)];
        let mut pids = Vec::new();
        for child in self.children.iter().filter(|c| !c.closed) {
            let mut events = libc::POLLIN;
            if child.channel.has_unsent_bytes() {
                events |= libc::POLLOUT;
            }
            fds.push(pollfd(child.channel.fd(), events));
            pids.push(child.pid);
        }
        poll(&mut fds, until.saturating_duration_since(Instant::now()))?;

        for (pid, fd) in pids.into_iter().zip(&fds[1..]) {
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
        while let Some(Ok(Some(info))) = self.signals.as_ref().map(|s| s.read_signal()) {
            match Signal::try_from(info.ssi_signo as i32) {
                Ok(Signal::SIGCHLD) => reap = true,
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

    fn reap(&mut self) {
        loop {
            match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) => {
                    self.on_exit(pid, format!("exited with status {code}"))
                }
                Ok(WaitStatus::Signaled(pid, signal, _)) => {
                    self.on_exit(pid, format!("killed by {signal}"))
                }
                // No child has exited (StillAlive), or there is no child at all (ECHILD).
                Ok(WaitStatus::StillAlive) | Err(_) => break,
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
            self.dead.push((role, Instant::now()));
        }
        if role == Role::Worker && !self.in_worker.is_empty() {
            let lost = std::mem::take(&mut self.in_worker);
            self.tally.lost_with_worker += lost.len() as u64;
            tracing::error!(
                "[master @ {}] the email worker's in-memory queue died with it: lost {} emails ({}); \
                 only the one it was sending may have reached the SMTP server",
                self.pid,
                lost.len(),
                id_list(&lost)
            );
        }
    }

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

    fn on_message(&mut self, role: Role, pid: Pid, message: ChildMessage) {
        let who = role.name();
        match (role, message) {
            (_, ChildMessage::Ready { detail }) => {
                if let Some(child) = self.child_mut(pid) {
                    child.ready = true;
                }
                say(who, pid, LogLevel::Info, detail);
                if let Some(died_at) = self.restarting.remove(&role) {
                    self.master(format!(
                        "the {who} is back, {} ms after the previous one died",
                        died_at.elapsed().as_millis()
                    ));
                }
                if role == Role::Worker {
                    self.hand_over_held();
                }
            }
            (Role::Web, ChildMessage::Submit { request, email }) => {
                let id = self.next_id;
                self.next_id += 1;
                self.tally.accepted += 1;
                self.master(format!(
                    "got an email to send from the webserver: #{id} {}",
                    serde_json::to_string(&email).unwrap_or_default()
                ));
                let held = !self.give_to_worker(id, email);
                self.send_to(pid, &SupervisorMessage::Accepted { request, id, held });
            }
            (Role::Web, ChildMessage::Health { request }) => {
                let pids = self.pids();
                self.send_to(pid, &SupervisorMessage::Pids { request, pids });
            }
            (Role::Worker, ChildMessage::Trying { id, attempt }) => {
                let note = if attempt > 1 {
                    format!(" (#{id}, attempt {attempt})")
                } else {
                    format!(" (#{id})")
                };
                say(
                    who,
                    pid,
                    LogLevel::Info,
                    format!("trying to send an email...{note}"),
                );
            }
            (Role::Worker, ChildMessage::Sent { id, message_id }) => {
                self.in_worker.remove(&id);
                self.tally.sent += 1;
                say(
                    who,
                    pid,
                    LogLevel::Info,
                    format!("email sent! (#{id}, {message_id})"),
                );
            }
            (Role::Worker, ChildMessage::Retrying { id, error }) => {
                say(
                    who,
                    pid,
                    LogLevel::Warn,
                    format!("failed sending email, trying again :( (#{id}: {error})"),
                );
            }
            (Role::Worker, ChildMessage::GaveUp { id, error }) => {
                self.in_worker.remove(&id);
                self.tally.refused += 1;
                say(
                    who,
                    pid,
                    LogLevel::Error,
                    format!("failed sending email, giving up: refused for good (#{id}: {error})"),
                );
            }
            (Role::Worker, ChildMessage::Stopping { abandoned }) => {
                for id in &abandoned {
                    self.in_worker.remove(id);
                }
                self.tally.abandoned_at_shutdown += abandoned.len() as u64;
                let level = if abandoned.is_empty() {
                    LogLevel::Info
                } else {
                    LogLevel::Warn
                };
                say(
                    who,
                    pid,
                    level,
                    format!(
                        "stopping: finished the email in progress, abandoning {} queued emails{}",
                        abandoned.len(),
                        if abandoned.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", id_list(&abandoned))
                        }
                    ),
                );
            }
            (_, ChildMessage::Log { level, line }) => say(who, pid, level, line),
            (_, other) => tracing::warn!(
                "[master @ {}] unexpected message from the {who}: {other:?}",
                self.pid
            ),
        }
    }

    // ---- routing emails ---------------------------------------------------------------

    /// Hands the email to a ready worker, or holds it. `true` when handed.
    fn give_to_worker(&mut self, id: u64, email: Email) -> bool {
        let worker = self
            .children
            .iter_mut()
            .find(|c| c.role == Role::Worker && c.ready && !c.closed && c.asked_to_stop.is_none());
        match worker {
            Some(worker) => {
                worker
                    .channel
                    .send(&SupervisorMessage::Deliver { id, email });
                self.in_worker.insert(id);
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

    fn hand_over_held(&mut self) {
        if self.held.is_empty() {
            return;
        }
        self.master(format!(
            "handing {} held emails to the email worker",
            self.held.len()
        ));
        for (id, email) in std::mem::take(&mut self.held) {
            self.give_to_worker(id, email);
        }
    }

    fn send_to(&mut self, pid: Pid, message: &SupervisorMessage) {
        if let Some(child) = self.child_mut(pid) {
            child.channel.send(message);
        }
    }

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

    // ---- stopping ---------------------------------------------------------------------

    fn begin_shutdown(&mut self, signal: Signal) {
        self.stopping = true;
        self.dead.clear();
        self.master(format!(
            "{signal}: stopping the web server, then the email worker (it finishes the email it is sending)"
        ));
        self.stop_next_child();
    }

    /// Asks the first child of [`STOP_ORDER`] still alive to stop (SIGTERM), or kills it if
    /// it overstayed `--stop-timeout-ms`. `true` once every child is gone.
    fn stop_next_child(&mut self) -> bool {
        let timeout = self.settings.stop_timeout;
        for role in STOP_ORDER {
            let Some(child) = self.children.iter_mut().find(|c| c.role == role) else {
                continue;
            };
            match child.asked_to_stop {
                None => {
                    let _ = kill(child.pid, Signal::SIGTERM);
                    child.asked_to_stop = Some(Instant::now());
                }
                Some(asked) if asked.elapsed() >= timeout => {
                    tracing::warn!(
                        "[master @ {}] the {} did not stop within {timeout:?}: killing it",
                        self.pid,
                        role.name()
                    );
                    let _ = kill(child.pid, Signal::SIGKILL);
                    child.asked_to_stop = Some(Instant::now());
                }
                Some(_) => {}
            }
            return false;
        }
        true
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
fn say(who: &str, pid: Pid, level: LogLevel, message: impl Display) {
    match level {
        LogLevel::Error => tracing::error!("[{who} @ {pid}] {message}"),
        LogLevel::Warn => tracing::warn!("[{who} @ {pid}] {message}"),
        LogLevel::Info => tracing::info!("[{who} @ {pid}] {message}"),
        LogLevel::Debug => tracing::debug!("[{who} @ {pid}] {message}"),
        LogLevel::Trace => tracing::trace!("[{who} @ {pid}] {message}"),
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

/// The number of threads of this process, as the kernel sees them.
fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|tasks| tasks.count())
        .unwrap_or(1)
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
