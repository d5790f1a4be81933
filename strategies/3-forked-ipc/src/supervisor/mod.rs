//! The supervisor: one thread, no runtime, a `poll(2)` loop over its children's sockets.
//!
//! Everything that must survive a child's death lives here: the listening socket, the
//! email ids, the emails held while no worker is ready, and the count of what each worker
//! took with it when it died. The loop reacts to three things:
//!
//! * a child's socket is readable: status to log, an email to route, a health question
//!   ([`messages`]);
//! * the signalfd is readable: SIGCHLD (reap, log `died :(`), SIGTERM/SIGINT (stop in order);
//! * the check interval passed: re-fork every child that died since the last check
//!   ([`forking`]).

mod forking;
mod messages;

use crate::channel::Channel;
use crate::protocol::LogLevel;
use crate::settings::{Listeners, Role, Settings};
use mailer::Email;
use messages::Tally;
use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt::Display;
use std::io;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// The order children are stopped in on SIGTERM: first the web server, so no new email
/// arrives; then the worker, which finishes the email it is sending; the sink last, so
/// that email has somewhere to land.
const STOP_ORDER: [Role; 3] = [Role::Web, Role::Worker, Role::Sink];

pub struct Supervisor {
    settings: Settings,
    pid: Pid,
    /// Bound before the first fork and kept across the deaths of the web server and the
    /// mail sink. Taken (and closed) in every child but the one that accepts on it.
    listeners: Option<Listeners>,
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

impl Supervisor {
    /// Must run before any thread or runtime exists in this process.
    pub fn new(settings: Settings, listeners: Listeners) -> anyhow::Result<Supervisor> {
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
            listeners: Some(listeners),
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
        if role == Role::Worker {
            self.worker_took_its_queue();
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
